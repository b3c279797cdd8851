//! PAdES B-LT and B-LTA (ETSI EN 319 142-1 §6.3): signatures that carry their own validation
//! data, made at signing time or added later to anyone's signed file.

use serde_json::Value;

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{spawn_app, SignParams, TestApp};
use crate::validators::{
    pdfsig, pyhanko_ades_validate, pyhanko_file_only, pyhanko_sign, pyhanko_validate, qpdf_check,
};

impl TestApp {
    async fn extend(&self, pdf: &[u8], level: &str) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(pdf.to_vec()).file_name("in.pdf"),
            )
            .text("level", level.to_owned());
        self.http
            .post(format!("{}/api/v1/extend", self.address))
            .bearer_auth(&self.admin_key)
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    pub(crate) async fn extended(&self, pdf: &[u8], level: &str) -> Vec<u8> {
        let response = self.extend(pdf, level).await;
        let status = response.status();
        let body = response.bytes().await.expect("body").to_vec();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        body
    }
}

/// The DSS and the document timestamp are appended; the revision before is left as it was.
fn assert_appended(before: &[u8], after: &[u8]) {
    assert!(after.len() > before.len() && after.starts_with(before));
}

/// qpdf, pdfsig, pyHanko (per signature and long-term) and kyso all accept `pdf`, whose
/// `signatures` signatures kyso reports at `level`.
async fn assert_long_term(app: &TestApp, pdf: &[u8], signatures: usize, level: &str) {
    let root = app.pki.root();
    qpdf_check(pdf).unwrap();
    // pdfsig (poppler 22) lists document timestamps but does not check them ("Signature
    // Type: unknown"): the CAdES signatures are what it can judge.
    let cades: Vec<_> = pdfsig(pdf, &root)
        .into_iter()
        .filter(|sig| sig.raw.contains("ETSI.CAdES.detached"))
        .collect();
    assert_eq!(cades.len(), signatures);
    for sig in cades {
        assert!(sig.valid && sig.trusted, "pdfsig:\n{}", sig.raw);
    }
    let lines = pyhanko_validate(pdf, &root).unwrap();
    assert_eq!(lines.len(), signatures, "{lines:?}");
    for line in &lines {
        assert!(
            line.contains(":INTACT:TRUSTED") && !line.contains("ILLEGAL"),
            "{line}"
        );
    }
    let ades = pyhanko_ades_validate(pdf, &root).unwrap_or_else(|report| panic!("{report}"));
    assert_eq!(ades.len(), signatures, "{ades:?}");
    // The same validation fetching nothing: what the file holds suffices.
    let file_only = pyhanko_file_only(pdf, &root).unwrap_or_else(|report| panic!("{report}"));
    assert_eq!(file_only.len(), signatures, "{file_only:?}");

    let report: Value = app.verify(pdf).await;
    assert_eq!(report["indication"], "TOTAL_PASSED", "{report:#}");
    let regular: Vec<&Value> = report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] != "document_timestamp")
        .collect();
    assert_eq!(regular.len(), signatures, "{report:#}");
    for sig in regular {
        assert_eq!(sig["indication"], "TOTAL_PASSED", "{sig:#}");
        assert_eq!(sig["level"], level, "{sig:#}");
    }
}

#[tokio::test]
async fn b_lt_and_b_lta_carry_their_validation_data() {
    let app = spawn_app().await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let sign = |level| SignParams {
        signer: "99001-chair",
        level: Some(level),
        ..Default::default()
    };

    // B-T has no validation data in the file: the long-term check must refuse it.
    let bt = app.signed(&pdf, sign("B-T")).await;
    let root = app.pki.root();
    let (refused, file_only) = tokio::task::spawn_blocking({
        let (bt, root) = (bt.clone(), root.clone());
        move || {
            (
                pyhanko_ades_validate(&bt, &root),
                pyhanko_file_only(&bt, &root),
            )
        }
    })
    .await
    .unwrap();
    assert!(
        refused.is_err(),
        "B-T passed long-term validation: {refused:?}"
    );
    assert!(
        file_only.is_err(),
        "B-T passed from the file: {file_only:?}"
    );

    let lt = app.signed(&pdf, sign("B-LT")).await;
    assert!(contains(&lt, b"/DSS") && !contains(&lt, b"/DocTimeStamp"));
    assert_long_term(&app, &lt, 1, "B-LT").await;

    let lta = app.signed(&pdf, sign("B-LTA")).await;
    assert!(contains(&lta, b"/DocTimeStamp") && contains(&lta, b"/ETSI.RFC3161"));
    assert_long_term(&app, &lta, 1, "B-LTA").await;
}

#[tokio::test]
async fn a_third_party_signature_is_extended_without_touching_it() {
    let app = spawn_app().await;
    // pyHanko's B-T, its timestamp from this instance's TSA (called back from a blocking
    // thread so the server keeps running).
    let tsa = format!("{}/tsa", app.address);
    let pki = app.pki;
    let signed = tokio::task::spawn_blocking(move || {
        pyhanko_sign(
            &sample_pdf(XrefStyle::Stream),
            "Sig1",
            &pki.pkcs12("99002-chair"),
            &pki.pin("99002-chair"),
            Some(&tsa),
        )
    })
    .await
    .unwrap();

    let lt = app.extended(&signed, "B-LT").await;
    assert_appended(&signed, &lt);
    assert_long_term(&app, &lt, 1, "B-LT").await;

    // What the DSS holds already is not written again.
    assert_eq!(app.extended(&lt, "B-LT").await, lt);

    let lta = app.extended(&lt, "B-LTA").await;
    assert_appended(&lt, &lta);
    assert_long_term(&app, &lta, 1, "B-LTA").await;

    // `kyso extend` renews the archive timestamp of a B-LTA file: a second document
    // timestamp, and the validation data of the first one's TSA.
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
    std::fs::write(&input, &lta).unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_kyso"))
        .arg("extend")
        .args([&input, &output])
        .args(["--level", "B-LTA"])
        .current_dir(dir.path())
        .env("KYSO_PKI__DEV_DIR", &app.pki.dir)
        .env(
            "KYSO_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("cli.db").display()),
        )
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let renewed = std::fs::read(&output).unwrap();
    assert_appended(&lta, &renewed);
    let stamps = |pdf: &[u8]| pdf.windows(13).filter(|w| w == b"/DocTimeStamp").count();
    assert_eq!(stamps(&renewed), stamps(&lta) + 1);
    assert_long_term(&app, &renewed, 1, "B-LTA").await;

    // Extending to a level that adds nothing is refused, as is a file with no signature.
    let response = app.extend(&signed, "B-T").await;
    assert_eq!(response.status(), 400);
    let response = app.extend(&sample_pdf(XrefStyle::Classic), "B-LT").await;
    assert_eq!(response.status(), 400);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
