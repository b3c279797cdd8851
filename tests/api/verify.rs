//! `POST /api/v1/verify` and `kyso verify`: honest files pass, forgeries never do.

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use kyso::pki::dev::{self, Issued, KeyAlgorithm, Profile, SubjectSpec};
use serde_json::Value;

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{dev_pki, shared_data, spawn_app, spawn_app_with, SignParams, TestApp};
use crate::validators::{pyhanko_sign, pyhanko_validate};

impl TestApp {
    pub async fn verify(&self, pdf: &[u8]) -> Value {
        let (status, report) = self.verify_response(pdf).await;
        assert_eq!(status, 200, "verify answered {status}: {report}");
        report
    }

    /// The status and JSON body of `POST /api/v1/verify`, whatever they are.
    pub async fn verify_response(&self, pdf: &[u8]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/verify", self.address))
            .header("Content-Type", "application/pdf")
            .body(pdf.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn kyso_signed(&self, signer: &str, level: &str) -> Vec<u8> {
        self.signed(
            &sample_pdf(XrefStyle::Classic),
            SignParams {
                signer,
                level: Some(level),
                ..Default::default()
            },
        )
        .await
    }
}

/// Blocking work that calls back into the test server (pyHanko asking our TSA) must not hold
/// the runtime thread the server runs on.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

fn indications(report: &Value) -> Vec<(String, String)> {
    report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["indication"].as_str().unwrap().to_owned(),
                s["sub_indication"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn assert_all_passed(report: &Value, count: usize) {
    assert_eq!(
        report["signatures"].as_array().unwrap().len(),
        count,
        "{report:#}"
    );
    for (indication, sub) in indications(report) {
        assert_eq!(indication, "TOTAL_PASSED", "{sub}: {report:#}");
    }
    assert_eq!(report["indication"], "TOTAL_PASSED");
}

fn assert_failed(report: &Value, sub: &str) {
    let found = indications(report);
    assert!(
        found.iter().any(|(i, s)| i == "TOTAL_FAILED" && s == sub),
        "expected TOTAL_FAILED/{sub}, got {found:?}: {report:#}"
    );
    assert_ne!(report["indication"], "TOTAL_PASSED");
}

#[tokio::test]
async fn kyso_signatures_pass_b_b_b_t_and_two_in_a_row() {
    let app = spawn_app().await;
    let bb = app.kyso_signed("99001-chair", "B-B").await;
    let report = app.verify(&bb).await;
    assert_all_passed(&report, 1);
    let sig = &report["signatures"][0];
    assert_eq!(sig["level"], "B-B");
    assert_eq!(sig["coverage"]["whole_file"], true);
    assert_eq!(
        sig["signer"]["common_name"],
        app.pki.signer("99001-chair").name.as_str()
    );
    assert!(
        sig["signer"]["uids"][0]
            .as_str()
            .unwrap()
            .starts_with("CCCD:"),
        "{sig:#}"
    );
    assert_eq!(sig["checks"]["revocation"], "good");
    assert!(sig["explanation"]["vi"]
        .as_str()
        .unwrap()
        .contains("hợp lệ"));

    let bt = app.kyso_signed("99001-vice-chair", "B-T").await;
    let report = app.verify(&bt).await;
    assert_all_passed(&report, 1);
    assert_eq!(report["signatures"][0]["level"], "B-T");
    assert_eq!(report["signatures"][0]["timestamp"]["valid"], true);

    let sealed = app
        .signed(
            &bt,
            SignParams {
                signer: "99001-agency",
                ..Default::default()
            },
        )
        .await;
    let report = app.verify(&sealed).await;
    assert_all_passed(&report, 2);
    let first = &report["signatures"][0]["coverage"];
    assert_eq!(first["whole_file"], false);
    assert!(
        first["later_changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["allowed"] == true),
        "{first:#}"
    );
    assert_eq!(report["document"]["revisions"], 3);
}

#[tokio::test]
async fn pyhanko_signatures_pass_like_pyhanko_says() {
    let app = spawn_app().await;
    let tsa = format!("{}/tsa", app.address);
    let pki = app.pki;
    let once = off_runtime(move || {
        pyhanko_sign(
            &sample_pdf(XrefStyle::Stream),
            "1/300,40,560,120/Sig1",
            &pki.pkcs12("99002-chair"),
            &pki.pin("99002-chair"),
            Some(&tsa),
        )
    })
    .await;
    let twice = pyhanko_sign(
        &once,
        "Sig2",
        &pki.pkcs12("99002-agency"),
        &pki.pin("99002-agency"),
        None,
    );
    for (pdf, count) in [(&once, 1), (&twice, 2)] {
        // The same verdict as pyHanko's.
        pyhanko_validate(pdf, &pki.root()).unwrap_or_else(|e| panic!("{e}"));
        let report = app.verify(pdf).await;
        assert_all_passed(&report, count);
    }
    assert_eq!(app.verify(&once).await["signatures"][0]["level"], "B-T");
}

/// Appends an incremental update that replaces object `id` with `body`.
fn append_update(pdf: &[u8], id: u32, body: &[u8]) -> Vec<u8> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let prev = String::from_utf8_lossy(pdf)
        .rsplit("startxref")
        .next()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap();
    let mut out = pdf.to_vec();
    let offset = out.len();
    out.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\nendobj\n");
    let xref = out.len();
    out.extend_from_slice(
        format!(
            "xref\n{id} 1\n{offset:010} 00000 n\r\ntrailer\n<</Size {size}/Root {} 0 R/Prev {prev}>>\nstartxref\n{xref}\n%%EOF\n",
            root.0
        )
        .as_bytes(),
    );
    out
}

/// The incremental saving attack: a later revision replaces page 1's text with `text`.
fn rewrite_first_page(pdf: &[u8], text: &str) -> Vec<u8> {
    let content = format!("BT /F1 24 Tf 72 700 Td ({text}) Tj ET");
    let body = format!(
        "<</Length {}>>\nstream\n{content}\nendstream",
        content.len()
    );
    append_update(pdf, first_page_contents(pdf), body.as_bytes())
}

fn first_page_contents(pdf: &[u8]) -> u32 {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let page = doc.get_pages()[&1];
    doc.get_dictionary(page)
        .unwrap()
        .get(b"Contents")
        .unwrap()
        .as_reference()
        .unwrap()
        .0
}

/// Rewrites `from` to `to` in place, padding with spaces so every offset stays put.
fn patch(pdf: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert!(to.len() <= from.len());
    let at = pdf
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from} not found"));
    let mut out = pdf.to_vec();
    out[at..at + from.len()]
        .copy_from_slice(format!("{to:<width$}", width = from.len()).as_bytes());
    out
}

/// `/ByteRange [...]` with the padding kyso leaves after it, so patches may be longer.
fn byte_range_text(pdf: &[u8]) -> String {
    let text = String::from_utf8_lossy(pdf);
    let start = text.find("/ByteRange [").unwrap();
    let mut end = start + text[start..].find(']').unwrap() + 1;
    while text.as_bytes()[end] == b' ' {
        end += 1;
    }
    text[start..end].to_owned()
}

#[tokio::test]
async fn incremental_saving_attack_is_caught() {
    let app = spawn_app().await;
    let signed = app.kyso_signed("99001-chair", "B-T").await;
    let forged = rewrite_first_page(&signed, "So tien: 999.000.000 dong");
    let report = app.verify(&forged).await;
    assert_failed(&report, "FORMAT_FAILURE");
    let changes = &report["signatures"][0]["coverage"]["later_changes"];
    assert!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["allowed"] == false),
        "{changes:#}"
    );
    assert!(report["signatures"][0]["explanation"]["vi"]
        .as_str()
        .unwrap()
        .contains("sửa nội dung sau khi ký"));
}

#[tokio::test]
async fn signature_wrapping_and_universal_forgery_are_caught() {
    let app = spawn_app().await;
    let signed = app.kyso_signed("99001-chair", "B-B").await;
    let range = byte_range_text(&signed);
    let numbers: Vec<i64> = range
        .trim_start_matches("/ByteRange [")
        .trim_end()
        .trim_end_matches(']')
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let [_, b, c, d] = <[i64; 4]>::try_from(numbers).unwrap();
    let contents_start = usize::try_from(b).unwrap();
    let hex_len = usize::try_from(c - b).unwrap();
    let zeros = format!("<{}>", "0".repeat(hex_len - 2));
    let contents =
        String::from_utf8_lossy(&signed[contents_start..contents_start + hex_len]).into_owned();

    let forgeries: Vec<(&str, Vec<u8>)> = vec![
        // Signature wrapping: the gap no longer is exactly /Contents.
        (
            "gap moved",
            patch(
                &signed,
                &range,
                &format!("/ByteRange [0 {} {} {}]", b - 20, c, d),
            ),
        ),
        (
            "gap widened",
            patch(
                &signed,
                &range,
                &format!("/ByteRange [0 {b} {} {}]", c + 20, d - 20),
            ),
        ),
        (
            "range not from 0",
            patch(&signed, &range, &format!("/ByteRange [10 {b} {c} {d}]")),
        ),
        // Universal signature forgery: missing, empty, zero, malformed ranges or contents.
        ("no ByteRange", patch(&signed, &range, "/Foo [0]")),
        ("empty ByteRange", patch(&signed, &range, "/ByteRange []")),
        (
            "zero ByteRange",
            patch(&signed, &range, "/ByteRange [0 0 0 0]"),
        ),
        (
            "malformed ByteRange",
            patch(&signed, &range, "/ByteRange [0 (x) /y 1]"),
        ),
        ("zero Contents", patch(&signed, &contents, &zeros)),
        (
            "no Contents",
            patch(&signed, &format!("/Contents {contents}"), "/Foo 1"),
        ),
    ];
    for (what, forged) in forgeries {
        let report = app.verify(&forged).await;
        let found = indications(&report);
        assert!(
            !found.is_empty() && found.iter().all(|(i, _)| i == "TOTAL_FAILED"),
            "{what}: {found:?}"
        );
    }
}

#[tokio::test]
async fn a_second_signature_claiming_the_same_bytes_fails() {
    let app = spawn_app().await;
    let signed = app.kyso_signed("99001-chair", "B-B").await;
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let field_id = doc
        .objects
        .iter()
        .find(|(_, o)| o.as_dict().is_ok_and(|d| d.get(b"FT").is_ok()))
        .map(|(id, _)| *id)
        .unwrap();
    let field = doc.get_dictionary(field_id).unwrap();
    let sig_ref = field.get(b"V").unwrap().as_reference().unwrap();
    // A second field whose value is the same signature dictionary.
    let form_id = doc
        .catalog()
        .unwrap()
        .get(b"AcroForm")
        .unwrap()
        .as_reference()
        .ok();
    let copy_id = doc.max_id + 1;
    let copy = format!(
        "<</FT /Sig/T (Copy)/V {} 0 R/Type /Annot/Subtype /Widget/Rect [0 0 0 0]>>",
        sig_ref.0
    );
    let mut forged = append_update(&signed, copy_id, copy.as_bytes());
    let fields = format!("[{} 0 R {copy_id} 0 R]", field_id.0);
    let form = match form_id {
        Some(id) => (id.0, format!("<</Fields {fields}/SigFlags 3>>")),
        None => {
            let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
            let catalog = doc.get_dictionary(root).unwrap();
            let pages = catalog.get(b"Pages").unwrap().as_reference().unwrap();
            (
                root.0,
                format!(
                    "<</Type /Catalog/Pages {} 0 R/AcroForm <</Fields {fields}/SigFlags 3>>>>",
                    pages.0
                ),
            )
        }
    };
    forged = append_update(&forged, form.0, form.1.as_bytes());
    let report = app.verify(&forged).await;
    assert_eq!(
        report["signatures"].as_array().unwrap().len(),
        2,
        "{report:#}"
    );
    assert!(
        indications(&report)
            .iter()
            .all(|(i, _)| i == "TOTAL_FAILED"),
        "{report:#}"
    );
}

/// A PKCS#12 file for a fresh certificate from `issuer`, valid in `[from, until]`.
fn mint(
    dir: &Path,
    issuer: &Issued,
    chain: &[&openssl::x509::X509],
    from: chrono::DateTime<Utc>,
    until: chrono::DateTime<Utc>,
) -> (PathBuf, Issued) {
    let leaf = dev::issue(
        issuer,
        &SubjectSpec {
            common_name: "Đỗ Thị Hoa",
            organization: Some("UBND XÃ THỬ NGHIỆM"),
            locality: None,
            uid: Some("CCCD:099000000777"),
        },
        Profile::Signer,
        KeyAlgorithm::Rsa2048,
        from,
        until,
    )
    .unwrap();
    let path = dir.join("leaf.p12");
    dev::write_pkcs12(&path, &leaf, chain, "leaf", "1234").unwrap();
    (path, leaf)
}

/// A fresh official's certificate from the dev issuing CA, valid from two days ago: its
/// PKCS#12 file (PIN 1234), the certificate, and the CA (to sign CRLs about it).
fn dev_leaf(dir: &Path) -> (PathBuf, Issued, Issued) {
    let ca = dev_issuing_ca();
    let root = openssl::x509::X509::from_pem(&std::fs::read(dev_pki().root()).unwrap()).unwrap();
    let (p12, leaf) = mint(
        dir,
        &ca,
        &[&ca.cert, &root],
        Utc::now() - Duration::days(2),
        Utc::now() + Duration::days(30),
    );
    (p12, leaf, ca)
}

pub fn dev_issuing_ca() -> Issued {
    let pki = dev_pki();
    let m = &pki.manifest;
    let der = std::fs::read(m.path(&pki.dir, &m.issuing_ca_pkcs12)).unwrap();
    let parsed = openssl::pkcs12::Pkcs12::from_der(&der)
        .unwrap()
        .parse2(&m.issuing_ca_pin)
        .unwrap();
    Issued {
        cert: parsed.cert.unwrap(),
        key: parsed.pkey.unwrap(),
    }
}

#[tokio::test]
async fn untrusted_expired_and_revoked_certificates() {
    let app = spawn_app().await;
    let pki = app.pki;
    let input = sample_pdf(XrefStyle::Classic);
    let dir = tempfile::tempdir().unwrap();

    // A chain to a root nobody trusts.
    let rogue_root = dev::new_root("Rogue Root CA", KeyAlgorithm::Rsa2048).unwrap();
    let (p12, _) = mint(
        dir.path(),
        &rogue_root,
        &[&rogue_root.cert],
        Utc::now() - Duration::days(1),
        Utc::now() + Duration::days(30),
    );
    let report = app
        .verify(&pyhanko_sign(&input, "Sig1", &p12, "1234", None))
        .await;
    assert_eq!(
        indications(&report),
        vec![("INDETERMINATE".into(), "NO_CERTIFICATE_CHAIN_FOUND".into())]
    );

    // Signed (so it claims) after the certificate expired.
    let expired = pyhanko_sign(
        &input,
        "Sig1",
        &pki.pkcs12("99001-expired"),
        &pki.pin("99001-expired"),
        None,
    );
    assert_failed(&app.verify(&expired).await, "EXPIRED");

    // Revoked an hour before it signed, per the dev CA's CRL.
    let revoked = pyhanko_sign(
        &input,
        "Sig1",
        &pki.pkcs12("99001-revoked"),
        &pki.pin("99001-revoked"),
        None,
    );
    assert_failed(&app.verify(&revoked).await, "REVOKED");
}

#[tokio::test]
async fn revoked_after_a_trusted_timestamp_still_passes() {
    let dir = tempfile::tempdir().unwrap();
    let crl_dir = dir.path().join("crl");
    std::fs::create_dir(&crl_dir).unwrap();
    let (p12, leaf, ca) = dev_leaf(dir.path());

    let crl_path = crl_dir.join("later.crl");
    let app = spawn_app_with(|s| s.pki.crl_dir = crl_dir.clone()).await;
    let tsa = format!("{}/tsa", app.address);
    let input = sample_pdf(XrefStyle::Classic);
    let (input_ts, p12_ts) = (input.clone(), p12.clone());
    let with_ts =
        off_runtime(move || pyhanko_sign(&input_ts, "Sig1", &p12_ts, "1234", Some(&tsa))).await;
    let without_ts = pyhanko_sign(&input, "Sig1", &p12, "1234", None);

    // The CA revokes the certificate a minute after those signatures; a new instance loads it.
    let later = Utc::now() + Duration::minutes(1);
    std::fs::write(
        &crl_path,
        dev::build_crl(
            &ca,
            &[(&leaf.cert, later)],
            Utc::now(),
            Utc::now() + Duration::days(7),
        )
        .unwrap(),
    )
    .unwrap();
    let app = spawn_app_with(|s| s.pki.crl_dir = crl_dir.clone()).await;

    let report = app.verify(&with_ts).await;
    assert_all_passed(&report, 1);
    assert!(report["signatures"][0]["checks"]["revocation"]
        .as_str()
        .unwrap()
        .starts_with("revoked"));
    // Without a timestamp nothing proves the signature predates the revocation.
    assert_eq!(
        indications(&app.verify(&without_ts).await),
        vec![("INDETERMINATE".into(), "REVOKED_NO_POE".into())]
    );
}

#[tokio::test]
async fn hostile_input_gets_a_4xx_never_a_crash() {
    let app = spawn_app().await;
    let signed = app.kyso_signed("99001-chair", "B-B").await;
    let mut nested = b"%PDF-1.7\n1 0 obj\n".to_vec();
    nested.extend(std::iter::repeat_n(b'[', 100_000));
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"not a pdf".to_vec(),
        nested,
        b"%PDF-1.7\n%%EOF".to_vec(),
    ];
    for body in cases {
        let response = app
            .http
            .post(format!("{}/api/v1/verify", app.address))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let error: Value = response.json().await.unwrap();
        assert!(
            error["error"]["code"].as_str().unwrap().starts_with("pdf_"),
            "{error}"
        );
    }
    // A truncated file is read as far as it goes (as qpdf does), with a warning; what it
    // lost cannot pass.
    let truncated = app.verify(&signed[..signed.len() / 3]).await;
    assert_eq!(truncated["warnings"].as_array().unwrap().len(), 1);
    assert_ne!(truncated["indication"], "TOTAL_PASSED");
    // Still alive.
    assert_eq!(app.verify(&signed).await["indication"], "TOTAL_PASSED");
}

#[tokio::test]
async fn cli_exit_codes() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.pdf");
    std::fs::write(&good, app.kyso_signed("99001-chair", "B-B").await).unwrap();
    let bad = dir.path().join("bad.pdf");
    std::fs::write(&bad, rewrite_first_page(&std::fs::read(&good).unwrap(), "")).unwrap();
    let garbage = dir.path().join("garbage.pdf");
    std::fs::write(&garbage, b"garbage").unwrap();
    for (file, code) in [(&good, 0), (&bad, 1), (&garbage, 2)] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kyso"))
            .arg("verify")
            .arg(file)
            .current_dir(dir.path())
            .env("KYSO_PKI__DEV_DIR", &dev_pki().dir)
            .env(
                "KYSO_DATABASE_URL",
                format!("sqlite://{}", dir.path().join("cli.db").display()),
            )
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

/// `kyso verify` opens no database, runs no migration and writes nothing (issue 10): a
/// database URL nobody can create and a missing data folder do not stop it, and nothing new
/// appears in the working folder or in the dev PKI.
#[tokio::test]
async fn cli_verify_is_read_only() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("signed.pdf");
    std::fs::write(&file, app.kyso_signed("99001-chair", "B-B").await).unwrap();
    let listing = |path: &std::path::Path| {
        let mut names: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let (work_before, pki_before) = (listing(dir.path()), listing(&dev_pki().dir));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["verify", "--json"])
        .arg(&file)
        .current_dir(dir.path())
        .env("KYSO_PKI__DEV_DIR", &dev_pki().dir)
        .env("KYSO_DATABASE_URL", "sqlite:///proc/kyso-nowhere/kyso.db")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["indication"], "TOTAL_PASSED", "{report:#}");
    assert!(
        !dir.path().join("data").exists(),
        "the data folder was created"
    );
    assert_eq!(listing(dir.path()), work_before);
    assert_eq!(listing(&dev_pki().dir), pki_before);
}

/// The public forgery corpus in `../shared/pdf-attacks` (not copied into the repository).
#[tokio::test]
async fn public_attack_samples_never_pass() {
    let corpus = shared_data("pdf-attacks");
    let app = spawn_app().await;
    let mut files = Vec::new();
    collect_pdfs(&corpus, &mut files);
    let (mut attacks, mut honest) = (0, 0);
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_lowercase();
        let pdf = std::fs::read(&file).unwrap();
        let response = app
            .http
            .post(format!("{}/api/v1/verify", app.address))
            .body(pdf)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(
            status == 200 || status == 400,
            "{}: {status}",
            file.display()
        );
        if status != 200 {
            continue; // unreadable: refused, which is not a pass
        }
        let report: Value = response.json().await.unwrap();
        let is_attack = [
            "manipulat",
            "attack",
            "spoofing",
            "isa",
            "siwa",
            "hide.pdf",
            "replace.pdf",
            "modified",
            "out-of-byterange",
            "invalid",
            "annotation-and-visible",
        ]
        .iter()
        .any(|k| name.contains(k));
        if is_attack {
            attacks += 1;
            for sig in report["signatures"].as_array().unwrap() {
                assert!(
                    !(sig["indication"] == "TOTAL_PASSED" && sig["coverage"]["whole_file"] == true),
                    "{} passed as a whole-document signature: {sig:#}",
                    file.display()
                );
            }
            assert_ne!(report["indication"], "TOTAL_PASSED", "{}", file.display());
        } else if name.ends_with("-signed.pdf") || name.contains("_original") {
            honest += 1;
            for sig in report["signatures"].as_array().unwrap() {
                assert_eq!(
                    sig["checks"]["byte_range"],
                    true,
                    "{}: {sig:#}",
                    file.display()
                );
                assert_eq!(
                    sig["checks"]["signature"],
                    true,
                    "{}: {sig:#}",
                    file.display()
                );
            }
        }
    }
    eprintln!("attack samples: {attacks} never passed; honest signed originals: {honest} intact");
    assert!(attacks > 10 && honest > 5);
}

fn collect_pdfs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_pdfs(&path, out);
        } else if path.extension().is_some_and(|e| e == "pdf") {
            out.push(path);
        }
    }
    out.sort();
}

#[tokio::test]
async fn a_crl_uploaded_by_an_admin_is_used_at_once() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let (p12, leaf, ca) = dev_leaf(dir.path());
    let signed = pyhanko_sign(&sample_pdf(XrefStyle::Classic), "Sig1", &p12, "1234", None);
    assert_all_passed(&app.verify(&signed).await, 1);

    // Revoked yesterday: before the claimed signing time.
    let crl = dev::build_crl(
        &ca,
        &[(&leaf.cert, Utc::now() - Duration::days(1))],
        Utc::now(),
        Utc::now() + Duration::days(7),
    )
    .unwrap();
    let upload = |key: String| {
        app.http
            .post(format!("{}/api/v1/crls", app.address))
            .bearer_auth(key)
            .body(crl.clone())
            .send()
    };
    let viewer = app.api_key(kyso::clients::Role::Viewer, None);
    assert_eq!(upload(viewer).await.unwrap().status(), 403);
    assert_eq!(upload(app.admin_key.clone()).await.unwrap().status(), 200);
    assert_failed(&app.verify(&signed).await, "REVOKED");
}

#[tokio::test]
async fn chromium_reads_the_verdicts_on_the_verify_page() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let good = app.kyso_signed("99001-chair", "B-T").await;
    let forged = rewrite_first_page(&good, "Forged");

    let browser = crate::browser::Browser::start().await;
    let c = &browser.client;
    for (name, pdf, verdict) in [
        ("valid", &good, "Hợp lệ"),
        ("tampered", &forged, "Không hợp lệ"),
    ] {
        let path = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&path, pdf).unwrap();
        c.goto(&format!("{}/verify", app.address)).await.unwrap();
        browser.assert_accessible("verify form").await;
        browser.upload(&path, "#summary").await;
        assert_eq!(browser.text("#summary .verdict").await, verdict, "{name}");
        browser
            .assert_accessible(&format!("verify result ({name})"))
            .await;
        let card = browser.text(".signature .verdict").await;
        assert!(card.starts_with(verdict), "{name}: {card}");
        if name == "valid" {
            // One signature is one, not "all 1"; issuer and TSA by name, not as raw DNs.
            let summary = browser.text("#summary").await;
            assert!(summary.contains("Chữ ký số hợp lệ."), "{summary}");
            let facts = browser.text(".signature dl.facts").await;
            assert!(
                facts.contains("kyso DEV ONLY Issuing CA (")
                    && facts.contains("kyso DEV ONLY TSA (")
                    && !facts.contains("CN="),
                "{facts}"
            );
        }
        browser
            .screenshot(&crate::validators::artifact_dir("verify").join(format!("{name}.png")))
            .await;
    }
    browser.quit().await;
}

#[tokio::test]
async fn a_signature_outside_the_form_is_reported_and_fails() {
    let app = spawn_app().await;
    let signed = app.kyso_signed("99001-chair", "B-B").await;
    // A signature dictionary no field holds, as a "sneaky signature" adds.
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let orphan = format!(
        "<</Type /Sig/Filter /Adobe.PPKLite/SubFilter /ETSI.CAdES.detached/ByteRange [0 10 20 30]/Contents <{}>>>",
        "00".repeat(64)
    );
    let forged = append_update(&signed, doc.max_id + 1, orphan.as_bytes());
    let report = app.verify(&forged).await;
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{report:#}");
    assert_eq!(sigs[1]["indication"], "TOTAL_FAILED");
    assert_eq!(report["indication"], "TOTAL_FAILED");
}
