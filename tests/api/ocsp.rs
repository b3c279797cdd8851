//! kyso's own OCSP responder and CRL routes, and PAdES B-LT/B-LTA whose validation data is
//! fetched from them. Each test runs an instance whose dev PKI names that instance's URLs in
//! its certificates (AIA OCSP and caIssuers, CRL distribution point), with fetching on: no
//! outside service is involved.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::{Duration, Utc};
use kyso::pdf::read::Limits;
use kyso::pdf::sign;
use kyso::pki::dev::{self, Issued, KeyAlgorithm, Manifest, Profile, Published, SubjectSpec};
use kyso::pki::revocation::{RevocationLists, RevocationSource};
use kyso::pki::trust::TrustStore;
use kyso::pki::tsa::TimestampAuthority;
use openssl::x509::{X509Crl, X509};
use serde_json::Value;

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{spawn_app_on, DevPki, SignParams, TestApp};
use crate::metrics::value;
use crate::pastval::{key, signed, the_signature};
use crate::rollout::post_bytes;
use crate::validators::{
    pdfsig, pyhanko_ades_validate, pyhanko_file_only, pyhanko_sign, pyhanko_sign_adobe_revinfo,
    qpdf_check,
};

/// A port free now, for an instance whose certificates must name it before it starts.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// An instance publishing its dev PKI's status at its own URLs, fetching on, and asking its
/// own `/tsa` over HTTP for timestamps (so TSA fetches are measured too). `adjust` may
/// change the PKI's files before the instance starts.
async fn publishing_app(adjust: impl FnOnce(&Path)) -> TestApp {
    let port = free_port();
    app_naming(port, &format!("http://127.0.0.1:{port}"), adjust).await
}

/// An instance on `port` whose dev PKI names `base` (its own URLs, or where nothing answers),
/// asking `{base}/tsa` for timestamps.
async fn app_naming(port: u16, base: &str, adjust: impl FnOnce(&Path)) -> TestApp {
    // Kept for the whole test binary, like the shared dev PKI.
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()))
        .path()
        .to_path_buf();
    dev::dev_init(&dir, Some(base)).unwrap();
    adjust(&dir);
    let pki: &'static DevPki = Box::leak(Box::new(DevPki {
        manifest: Manifest::load(&dir).unwrap(),
        dir,
    }));
    spawn_app_on(pki, |s| {
        s.bind = format!("127.0.0.1:{port}");
        s.public_base_url = base.to_owned();
        s.revocation.fetch = true;
        s.tsa.url = Some(format!("{base}/tsa"));
    })
    .await
}

fn pem(path: &Path) -> X509 {
    X509::from_pem(&std::fs::read(path).unwrap()).unwrap()
}

impl DevPki {
    fn ca_pem(&self) -> PathBuf {
        self.manifest.path(&self.dir, &self.manifest.issuing_ca)
    }

    fn certificate(&self, signer: &str) -> PathBuf {
        self.manifest
            .path(&self.dir, &self.signer(signer).certificate)
    }
}

/// Runs a command off the async runtime (it may ask this process's server), returning its
/// stdout and stderr together.
async fn output(mut command: Command) -> (bool, String) {
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Bytes of every stream in the final DSS's `key` array (`OCSPs`, `CRLs`, `Certs`).
fn dss_items(pdf: &[u8], key: &[u8]) -> Vec<Vec<u8>> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let dss = doc
        .catalog()
        .unwrap()
        .get(b"DSS")
        .and_then(|d| doc.dereference(d))
        .map(|(_, d)| d.as_dict().unwrap().clone())
        .expect("a DSS");
    let Ok(items) = dss.get(key).and_then(|a| a.as_array()) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let (_, stream) = doc.dereference(item).unwrap();
            let stream = stream.as_stream().unwrap();
            stream
                .decompressed_content()
                .unwrap_or_else(|_| stream.content.clone())
        })
        .collect()
}

#[tokio::test]
async fn the_responder_answers_good_and_revoked_and_the_crl_route_serves_the_list() {
    let app = publishing_app(|_| {}).await;
    let pki = app.pki;
    let (good, revoked) = (
        pki.certificate("99001-chair"),
        pki.certificate("99001-revoked"),
    );
    let mut ocsp = Command::new("openssl");
    ocsp.arg("ocsp")
        .arg("-issuer")
        .arg(pki.ca_pem())
        .arg("-cert")
        .arg(&good)
        .arg("-cert")
        .arg(&revoked)
        .arg("-url")
        .arg(format!("{}/ocsp", app.address))
        .arg("-CAfile")
        .arg(pki.root());
    let (ok, text) = output(ocsp).await;
    assert!(ok, "{text}");
    // openssl checks the signature (a delegated responder the CA certified) and the nonce.
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(
        text.contains(&format!("{}: good", good.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}: revoked", revoked.display())),
        "{text}"
    );

    // RFC 6960 A.1: the same over GET, the request base64 then URL-encoded in the path.
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("request.der");
    let mut make = Command::new("openssl");
    make.arg("ocsp")
        .arg("-issuer")
        .arg(pki.ca_pem())
        .arg("-cert")
        .arg(&revoked)
        .arg("-no_nonce")
        .arg("-reqout")
        .arg(&request);
    assert!(output(make).await.0);
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(&request).unwrap());
    let path: String =
        percent_encoding::utf8_percent_encode(&encoded, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let response = app
        .http
        .get(format!("{}/ocsp/{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/ocsp-response"
    );
    let answer = dir.path().join("response.der");
    std::fs::write(&answer, response.bytes().await.unwrap()).unwrap();
    let mut read = Command::new("openssl");
    read.arg("ocsp")
        .arg("-respin")
        .arg(&answer)
        .arg("-issuer")
        .arg(pki.ca_pem())
        .arg("-cert")
        .arg(&revoked)
        .arg("-no_nonce")
        .arg("-CAfile")
        .arg(pki.root());
    let (ok, text) = output(read).await;
    assert!(ok && text.contains(": revoked"), "{text}");

    // Not a request, and a CA kyso does not answer for: answered in the protocol (RFC 6960
    // §2.3: malformedRequest, unauthorized).
    let post = |body: Vec<u8>| {
        app.http
            .post(format!("{}/ocsp", app.address))
            .header("Content-Type", "application/ocsp-request")
            .body(body)
            .send()
    };
    let malformed = post(b"not a request".to_vec()).await.unwrap();
    assert_eq!(malformed.status(), 200);
    assert_eq!(&malformed.bytes().await.unwrap()[..], [0x30, 3, 0x0a, 1, 1]);
    let rogue = dev::new_root("rogue CA", KeyAlgorithm::EcdsaP256).unwrap();
    let rogue = kyso::pki::Certificate::from_x509(rogue.cert).unwrap();
    let query = kyso::pki::ocsp::query(&rogue, &rogue).unwrap();
    let unauthorized = post(query.der).await.unwrap();
    assert_eq!(
        &unauthorized.bytes().await.unwrap()[..],
        [0x30, 3, 0x0a, 1, 6]
    );

    // The CRL its certificates name, signed by the CA and listing the revoked one.
    let crl = app
        .http
        .get(format!("{}/crl/issuing-ca.crl", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(crl.status(), 200);
    let crl = X509Crl::from_der(&crl.bytes().await.unwrap()).unwrap();
    let ca = pem(&pki.ca_pem());
    assert!(crl.verify(&ca.public_key().unwrap()).unwrap());
    let listed: Vec<_> = crl
        .get_revoked()
        .unwrap()
        .iter()
        .map(|r| r.serial_number().to_bn().unwrap())
        .collect();
    assert_eq!(listed, vec![pem(&revoked).serial_number().to_bn().unwrap()]);
    let root = app
        .http
        .get(format!("{}/ca/root.crt", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        root.bytes().await.unwrap().to_vec(),
        pem(&pki.root()).to_der().unwrap()
    );
    for missing in ["/crl/nope.crl", "/ca/nope.crt"] {
        let response = app
            .http
            .get(format!("{}{missing}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{missing}");
    }
}

/// kyso, qpdf, pdfsig (which asks the responder itself) and pyHanko's AdES validation (with
/// the responder up) accept `pdf` at `level`.
async fn assert_accepted_online(app: &TestApp, pdf: &[u8], level: &str) {
    let report: Value = app.verify(pdf).await;
    assert_eq!(report["indication"], "TOTAL_PASSED", "{report:#}");
    let signature = report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "signature")
        .unwrap();
    assert_eq!(signature["level"], level, "{signature:#}");
    assert_eq!(signature["checks"]["revocation"], "good", "{signature:#}");
    qpdf_check(pdf).unwrap();
    let (file, root) = (pdf.to_vec(), app.pki.root());
    let (sigs, ades) = tokio::task::spawn_blocking(move || {
        (pdfsig(&file, &root), pyhanko_ades_validate(&file, &root))
    })
    .await
    .unwrap();
    let cades: Vec<_> = sigs.iter().filter(|s| !s.document_timestamp).collect();
    assert_eq!(cades.len(), 1);
    assert!(cades[0].valid && cades[0].trusted, "{}", cades[0].raw);
    ades.unwrap_or_else(|report| panic!("{report}"));
}

#[tokio::test]
async fn b_lt_and_b_lta_carry_ocsp_answers_fetched_from_kysos_own_responder() {
    let app = publishing_app(|_| {}).await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let sign = |level| {
        app.signed(
            &pdf,
            SignParams {
                signer: "99001-chair",
                level: Some(level),
                ..Default::default()
            },
        )
    };
    let b_lt = sign("B-LT").await;
    let b_lta = sign("B-LTA").await;
    for pdf in [&b_lt, &b_lta] {
        // The signer, its CA and the TSA each have an answer; no list was needed.
        assert!(dss_items(pdf, b"OCSPs").len() >= 3);
        assert!(dss_items(pdf, b"CRLs").is_empty());
    }
    assert_accepted_online(&app, &b_lt, "B-LT").await;
    assert_accepted_online(&app, &b_lta, "B-LTA").await;
    // From the file alone (pyHanko fetching nothing), both pass: B-LT on its answers, fresh
    // now; B-LTA also because its document timestamp proves when they existed.
    for pdf in [&b_lt, &b_lta] {
        let lines = pyhanko_file_only(pdf, &app.pki.root()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lines.len(), 1, "{lines:?}");
    }

    let scrape = app.scrape().await;
    let fetches = |kind| value(&scrape, "kyso_fetch_duration_seconds", &[("kind", kind)]);
    assert!(fetches("ocsp") >= 3.0);
    assert!(
        fetches("tsa") >= 3.0,
        "a signature timestamp each, one archive timestamp"
    );
    assert_eq!(
        value(&scrape, "kyso_fetch_failures_total", &[("kind", "ocsp")]),
        0.0
    );
    assert!(
        value(
            &scrape,
            "kyso_http_requests_total",
            &[("method", "POST"), ("route", "/ocsp"), ("status", "200")]
        ) >= 3.0
    );
}

#[tokio::test]
async fn without_an_answering_responder_b_lt_carries_the_crls_of_the_distribution_points() {
    // A PKI whose delegated responders are gone: `/ocsp` answers `unauthorized`.
    let app = publishing_app(|dir| {
        let path = dir.join(dev::MANIFEST);
        let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        manifest["ocsp_responders"] = Value::Array(Vec::new());
        std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    })
    .await;
    let b_lt = app
        .signed(
            &sample_pdf(XrefStyle::Classic),
            SignParams {
                signer: "99001-chair",
                level: Some("B-LT"),
                ..Default::default()
            },
        )
        .await;
    assert!(dss_items(&b_lt, b"OCSPs").is_empty());
    let crls = dss_items(&b_lt, b"CRLs");
    // The issuing CA's (signer, TSA) and the root's (issuing CA).
    assert_eq!(crls.len(), 2);
    let report: Value = app.verify(&b_lt).await;
    assert_eq!(report["indication"], "TOTAL_PASSED", "{report:#}");
    qpdf_check(&b_lt).unwrap();
    let (file, root) = (b_lt.clone(), app.pki.root());
    let (ades, file_only) = tokio::task::spawn_blocking(move || {
        (
            pyhanko_ades_validate(&file, &root),
            pyhanko_file_only(&file, &root),
        )
    })
    .await
    .unwrap();
    ades.unwrap_or_else(|report| panic!("{report}"));
    // The fetched lists are all the file needs.
    assert_eq!(file_only.unwrap_or_else(|e| panic!("{e}")).len(), 1);

    let scrape = app.scrape().await;
    // Fetched from the distribution points, not taken from the files.
    assert!(value(&scrape, "kyso_fetch_duration_seconds", &[("kind", "crl")]) >= 2.0);
    assert_eq!(
        value(&scrape, "kyso_fetch_failures_total", &[("kind", "crl")]),
        0.0
    );
}

/// `kyso verify --json [--at AT] FILE` trusting `root` only, no CRL folder, fetching as
/// `fetch` says.
async fn kyso_verify(
    pdf: &[u8],
    root: &Path,
    at: Option<chrono::DateTime<Utc>>,
    fetch: bool,
) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let (trust, crl) = (dir.path().join("trust"), dir.path().join("crl"));
    std::fs::create_dir(&trust).unwrap();
    std::fs::create_dir(&crl).unwrap();
    std::fs::copy(root, trust.join("root.pem")).unwrap();
    let file = dir.path().join("in.pdf");
    std::fs::write(&file, pdf).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kyso"));
    command.args(["verify", "--json"]);
    if let Some(at) = at {
        command.args(["--at", &at.to_rfc3339()]);
    }
    command
        .arg(&file)
        .current_dir(dir.path())
        // Another dev PKI than the file's: only `trust` makes its root trusted.
        .env("KYSO_PKI__DEV_DIR", &crate::helpers::dev_pki().dir)
        .env("KYSO_PKI__TRUST_DIR", &trust)
        .env("KYSO_PKI__CRL_DIR", &crl)
        .env("KYSO_REVOCATION__FETCH", fetch.to_string())
        .env(
            "KYSO_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("cli.db").display()),
        );
    let (_, text) = output(command).await;
    let json = text.find('{').map(|at| &text[at..]).unwrap_or_default();
    serde_json::Deserializer::from_str(json)
        .into_iter::<Value>()
        .next()
        .and_then(|v| v.ok())
        .unwrap_or_else(|| panic!("no JSON report: {text}"))
}

fn published_cert(
    issuer: &Issued,
    ca: &str,
    base: &str,
    name: &str,
    profile: Profile,
    days: i64,
) -> Issued {
    let now = Utc::now();
    dev::issue_published(
        issuer,
        &SubjectSpec {
            common_name: name,
            organization: Some("kyso OCSP test"),
            ..Default::default()
        },
        profile,
        KeyAlgorithm::EcdsaP256,
        (now - Duration::hours(1), now + Duration::days(days)),
        &Published { base_url: base, ca },
    )
    .unwrap()
}

#[tokio::test]
async fn years_later_with_fetching_off_b_lta_passes_on_its_ocsp_answers_and_b_t_does_not() {
    let app = publishing_app(|_| {}).await;
    let pki = app.pki;
    let base = app.address.clone();
    let ca = pki.manifest.issuing_ca(&pki.dir).unwrap();
    // The official's certificate lives a year, the signature timestamp's authority two, the
    // archive timestamp's seven (under the dev issuing CA, valid ten): "later" is six years
    // on, when only the archive timestamp's chain is still valid.
    let official = published_cert(
        &ca,
        dev::ISSUING_NAME,
        &base,
        "Nguyễn Văn Hết Hạn",
        Profile::Signer,
        365,
    );
    let tsa_short = published_cert(
        &ca,
        dev::ISSUING_NAME,
        &base,
        "OCSP test TSA 1",
        Profile::TimeStamping,
        730,
    );
    let tsa_long = published_cert(
        &ca,
        dev::ISSUING_NAME,
        &base,
        "OCSP test TSA 2",
        Profile::TimeStamping,
        7 * 365,
    );
    let b_t = signed(
        &sample_pdf(XrefStyle::Classic),
        &key(&official, &[&ca]),
        Some(&TimestampAuthority::new(key(&tsa_short, &[&ca]))),
    );

    // Revoked after the signature timestamp (whole seconds), before the answers are fetched.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let revoked_at = Utc::now();
    let crl = dev::build_crl(
        &ca,
        &[(&official.cert, revoked_at)],
        revoked_at,
        revoked_at + Duration::days(7),
    )
    .unwrap();
    let imported = post_bytes(&app, &app.admin_key, "/api/v1/crls", crl).await;
    assert_eq!(imported.status(), 200);

    // B-LTA made with the core's own transport, fetching from this instance.
    let root = pem(&pki.root());
    let input = b_t.clone();
    let ca_cert = ca.clone();
    let b_lta = tokio::task::spawn_blocking(move || {
        let ca = ca_cert;
        let fetch = kyso::fetch::HttpFetch::new(
            std::time::Duration::from_secs(10),
            1 << 24,
            kyso::metrics::Metrics::new().unwrap().fetches(),
        );
        let source = RevocationSource::new(RevocationLists::default(), Some(Arc::new(fetch)));
        let trust = TrustStore::new(vec![kyso::pki::Certificate::from_x509(root).unwrap()]);
        let limits = Limits::default();
        let b_lt = sign::add_validation_data(&input, &trust, &source, &limits).unwrap();
        let archive = TimestampAuthority::new(key(&tsa_long, &[&ca]));
        let stamped = sign::timestamp_document(&b_lt, &archive, &limits).unwrap();
        sign::add_validation_data(&stamped, &trust, &source, &limits).unwrap()
    })
    .await
    .unwrap();
    assert!(b_lta.starts_with(&b_t));
    assert!(dss_items(&b_lta, b"CRLs").is_empty());
    assert!(dss_items(&b_lta, b"OCSPs").len() >= 4);

    let ocsp_requests = |scrape: &prometheus_parse::Scrape| {
        value(
            scrape,
            "kyso_http_requests_total",
            &[("method", "POST"), ("route", "/ocsp"), ("status", "200")],
        )
    };
    let before = ocsp_requests(&app.scrape().await);
    let later = Utc::now() + Duration::days(6 * 365);
    let report = kyso_verify(&b_lta, &pki.root(), Some(later), false).await;
    assert_eq!(report["indication"], "TOTAL_PASSED", "{report:#}");
    let signature = report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "signature")
        .unwrap();
    assert_eq!(signature["validated_at"]["basis"], "proof_of_existence");
    // The answer in the file says revoked, after the timestamp: still valid.
    assert!(
        signature["checks"]["revocation"]
            .as_str()
            .unwrap()
            .starts_with("revoked"),
        "{signature:#}"
    );
    // Its B-T twin: the signer's and the signature timestamp's certificates have expired,
    // nothing later proves the timestamp and the file holds no revocation data.
    let report = kyso_verify(&b_t, &pki.root(), Some(later), false).await;
    let signature = &report["signatures"][0];
    assert_eq!(signature["indication"], "INDETERMINATE", "{report:#}");
    assert_eq!(
        signature["sub_indication"], "OUT_OF_BOUNDS_NO_POE",
        "{report:#}"
    );

    // Fetching off, nothing was asked, even validating now a file that holds no answer …
    let now = kyso_verify(&b_t, &pki.root(), None, false).await;
    assert!(now["signatures"][0]["checks"]["revocation"]
        .as_str()
        .unwrap()
        .starts_with("unknown"));
    assert_eq!(ocsp_requests(&app.scrape().await), before);
    // … which, fetching on, asks the responder and learns of the revocation.
    let fetched = kyso_verify(&b_t, &pki.root(), None, true).await;
    assert!(
        fetched["signatures"][0]["checks"]["revocation"]
            .as_str()
            .unwrap()
            .starts_with("revoked"),
        "{fetched:#}"
    );
    assert!(ocsp_requests(&app.scrape().await) > before);
}

#[tokio::test]
async fn revocation_data_carried_in_the_cms_is_read_with_fetching_off() {
    // pyHanko signing Adobe-style asks this instance's responder and puts the answers in the
    // signed attribute adbe-revocationInfoArchival: no DSS. Its twin carries none.
    let app = publishing_app(|_| {}).await;
    let pki = app.pki;
    let tsa = format!("{}/tsa", app.address);
    let (pkcs12, pin, root) = (
        pki.pkcs12("99001-chair"),
        pki.pin("99001-chair"),
        pki.root(),
    );
    let (adobe, bare) = tokio::task::spawn_blocking(move || {
        let pdf = sample_pdf(XrefStyle::Classic);
        (
            pyhanko_sign_adobe_revinfo(&pdf, &pkcs12, &pin, &tsa, &root),
            pyhanko_sign(&pdf, "Sig1", &pkcs12, &pin, Some(&tsa)),
        )
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&adobe).to_ascii_lowercase();
    // The attribute's OID 1.2.840.113583.1.1.8, DER, in the hex /Contents.
    assert!(text.contains("06092a864886f72f010108"));
    assert!(text.contains("adbe.pkcs7.detached") && !text.contains("/dss"));

    // Validating now, nothing fetched: the carried answers speak.
    let root = pki.root();
    let report = kyso_verify(&adobe, &root, None, false).await;
    assert_eq!(report["indication"], "TOTAL_PASSED", "{report:#}");
    assert_eq!(
        the_signature(&report)["checks"]["revocation"],
        "good",
        "{report:#}"
    );
    let report = kyso_verify(&bare, &root, None, false).await;
    assert!(the_signature(&report)["checks"]["revocation"]
        .as_str()
        .unwrap()
        .starts_with("unknown"));

    // Once the official's certificate (two years) has expired and while the TSA's (three)
    // is valid, the signature is judged at its timestamp, on the carried answers alone.
    let later = Utc::now() + Duration::days(900);
    let report = kyso_verify(&adobe, &root, Some(later), false).await;
    let signature = the_signature(&report);
    assert_eq!(signature["indication"], "TOTAL_PASSED", "{report:#}");
    assert_eq!(signature["validated_at"]["basis"], "proof_of_existence");
    assert_eq!(signature["checks"]["revocation"], "good");
    let report = kyso_verify(&bare, &root, Some(later), false).await;
    assert_eq!(
        the_signature(&report)["sub_indication"],
        "OUT_OF_BOUNDS_NO_POE",
        "{report:#}"
    );
}

#[tokio::test]
async fn failed_fetches_are_counted_by_kind_and_b_lt_falls_back_to_the_files() {
    // The certificates and the TSA URL name a port where nothing listens.
    let (port, dead) = (free_port(), free_port());
    assert_ne!(port, dead);
    let app = app_naming(port, &format!("http://127.0.0.1:{dead}"), |_| {}).await;
    let pdf = sample_pdf(XrefStyle::Classic);
    let params = |level| SignParams {
        signer: "99001-chair",
        level: Some(level),
        ..Default::default()
    };
    let b_t = app.sign(&pdf, params("B-T")).await;
    assert_eq!(
        crate::helpers::error_code(b_t, 502).await,
        "timestamp_failed"
    );
    let b_b = app.signed(&pdf, params("B-B")).await;
    let b_lt = app.extended(&b_b, "B-LT").await;
    // Neither responder nor distribution point answered: the lists in the files did.
    assert!(dss_items(&b_lt, b"OCSPs").is_empty());
    assert_eq!(dss_items(&b_lt, b"CRLs").len(), 2);

    let scrape = app.scrape().await;
    for kind in ["tsa", "ocsp", "crl"] {
        let labels = [("kind", kind)];
        assert!(
            value(&scrape, "kyso_fetch_failures_total", &labels) >= 1.0,
            "{kind}"
        );
        assert!(
            value(&scrape, "kyso_fetch_duration_seconds", &labels) >= 1.0,
            "{kind}"
        );
    }
}
