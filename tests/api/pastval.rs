//! Validation in the past (ETSI EN 319 102-1 §5.6.2) and chains completed from what the file
//! holds. Each test makes its own CA with short-lived certificates, so that "six years later"
//! is a certificate long expired. Its certificates name no CRL, OCSP or caIssuers URL: nothing
//! can be fetched, only what the file (and the operator's folders) hold is used.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use kyso::pdf::read::Limits;
use kyso::pdf::sign::{self, SignatureSpec};
use kyso::pki::cms::SigningKey;
use kyso::pki::dev::{self, Issued, KeyAlgorithm, Profile, SubjectSpec};
use kyso::pki::revocation::{RevocationLists, RevocationSource};
use kyso::pki::trust::TrustStore;
use kyso::pki::tsa::TimestampAuthority;
use serde_json::Value;

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{spawn_app_with, TestApp};
use crate::validators::{document_timestamps, pyhanko_ades_validate};

/// A root, an issuing CA under it, and folders for an instance that trusts only the root.
struct TestCa {
    root: Issued,
    ca: Issued,
    dir: tempfile::TempDir,
}

impl TestCa {
    fn new() -> TestCa {
        let root = dev::new_root("pastval test root", KeyAlgorithm::Rsa2048).unwrap();
        let ca = issue(&root, "pastval issuing CA", Profile::IntermediateCa, 3600);
        let dir = tempfile::tempdir().unwrap();
        for folder in ["trust", "crl", "intermediates", "none"] {
            std::fs::create_dir(dir.path().join(folder)).unwrap();
        }
        std::fs::write(
            dir.path().join("trust/root.pem"),
            root.cert.to_pem().unwrap(),
        )
        .unwrap();
        TestCa { root, ca, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A CA's list, made now, revoking `revoked`.
    fn crl(issuer: &Issued, revoked: &[(&openssl::x509::X509, DateTime<Utc>)]) -> Vec<u8> {
        dev::build_crl(issuer, revoked, Utc::now(), Utc::now() + Duration::days(7)).unwrap()
    }

    /// An instance trusting this root only, with no CRL of its own and `intermediates` in
    /// its configured folder.
    async fn app(&self, intermediates: &[&Issued]) -> TestApp {
        let (trust, none) = (self.path("trust"), self.path("none"));
        let folder = self.path("intermediates");
        for (i, ca) in intermediates.iter().enumerate() {
            std::fs::write(folder.join(format!("{i}.pem")), ca.cert.to_pem().unwrap()).unwrap();
        }
        spawn_app_with(move |s| {
            s.pki.trust_dir = trust;
            s.pki.crl_dir = none;
            s.pki.intermediates_dir = folder;
        })
        .await
    }
}

/// The core's certificate of a dev CA's `issued` one.
fn certificate(issued: &Issued) -> kyso::pki::Certificate {
    kyso::pki::Certificate::from_x509(issued.cert.clone()).unwrap()
}

/// A certificate valid from an hour ago for `days`.
fn issue(issuer: &Issued, name: &str, profile: Profile, days: i64) -> Issued {
    let now = Utc::now();
    dev::issue(
        issuer,
        &SubjectSpec {
            common_name: name,
            organization: Some("kyso pastval test"),
            ..Default::default()
        },
        profile,
        KeyAlgorithm::EcdsaP256,
        now - Duration::hours(1),
        now + Duration::days(days),
    )
    .unwrap()
}

pub(crate) fn key(issued: &Issued, chain: &[&Issued]) -> SigningKey {
    SigningKey {
        key: Box::new(issued.key.clone()),
        certificate: certificate(issued),
        chain: chain.iter().map(|c| certificate(c)).collect(),
    }
}

pub(crate) fn signed(pdf: &[u8], signer: &SigningKey, tsa: Option<&TimestampAuthority>) -> Vec<u8> {
    let spec = SignatureSpec {
        time: Utc::now().fixed_offset(),
        reason: None,
        location: None,
        appearance: None,
        timestamper: tsa.map(|t| t as &dyn kyso::pki::tsa::Timestamper),
    };
    sign::sign(pdf, &spec, signer, &Limits::default())
        .unwrap()
        .pdf
}

/// The DSS with the chains in `pdf`, completed from `trust`, and the lists in `crls`.
fn with_validation_data(pdf: &[u8], trust: &TrustStore, crls: &Path) -> Vec<u8> {
    let lists = RevocationSource::new(RevocationLists::load(&[crls]).unwrap(), None);
    sign::add_validation_data(pdf, trust, &lists, &Limits::default()).unwrap()
}

impl TestApp {
    /// `POST /api/v1/verify?at=…`.
    async fn verify_at(&self, pdf: &[u8], at: DateTime<Utc>) -> Value {
        let response = self
            .http
            .post(format!("{}/api/v1/verify", self.address))
            .query(&[("at", at.to_rfc3339())])
            .header("Content-Type", "application/pdf")
            .body(pdf.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

/// The report of the one signature that is not a document timestamp.
pub(crate) fn the_signature(report: &Value) -> &Value {
    let regular: Vec<&Value> = report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "signature")
        .collect();
    assert_eq!(regular.len(), 1, "{report:#}");
    regular[0]
}

/// `kyso verify --json --at AT FILE` against `ca`'s root only: its exit code and report.
fn kyso_verify_at(ca: &TestCa, pdf: &[u8], at: DateTime<Utc>) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.pdf");
    std::fs::write(&file, pdf).unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["verify", "--json", "--at", &at.to_rfc3339()])
        .arg(&file)
        .current_dir(dir.path())
        .env("KYSO_PKI__DEV_DIR", &crate::helpers::dev_pki().dir)
        .env("KYSO_PKI__TRUST_DIR", ca.path("trust"))
        .env("KYSO_PKI__CRL_DIR", ca.path("none"))
        .env(
            "KYSO_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("cli.db").display()),
        )
        .output()
        .unwrap();
    let report = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&run.stderr)));
    (run.status.code().unwrap(), report)
}

#[tokio::test]
async fn b_lta_outlives_the_signers_certificate_and_b_t_does_not() {
    let ca = TestCa::new();
    // The official's certificate lives a year; the signature timestamp's authority two; the
    // archive timestamp's almost ten.
    let official = issue(&ca.ca, "Nguyễn Văn Quá Hạn", Profile::Signer, 365);
    let tsa_short = issue(&ca.ca, "pastval TSA 1", Profile::TimeStamping, 730);
    let tsa_long = issue(&ca.root, "pastval TSA 2", Profile::TimeStamping, 3600);
    let signature_tsa = TimestampAuthority::new(key(&tsa_short, &[&ca.ca]));
    let archive_tsa = TimestampAuthority::new(key(&tsa_long, &[]));
    let trust = TrustStore::new(vec![certificate(&ca.root)]);

    let b_t = signed(
        &sample_pdf(XrefStyle::Classic),
        &key(&official, &[&ca.ca]),
        Some(&signature_tsa),
    );
    // Revoked after the signature timestamp (whose time has whole seconds), by a list made
    // later still; the root's list says its CA is good.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let revoked_at = Utc::now();
    std::fs::write(
        ca.path("crl/ca.crl"),
        TestCa::crl(&ca.ca, &[(&official.cert, revoked_at)]),
    )
    .unwrap();
    std::fs::write(ca.path("crl/root.crl"), TestCa::crl(&ca.root, &[])).unwrap();
    let b_lt = with_validation_data(&b_t, &trust, &ca.path("crl"));
    let stamped = sign::timestamp_document(&b_lt, &archive_tsa, &Limits::default()).unwrap();
    let b_lta = with_validation_data(&stamped, &trust, &ca.path("crl"));
    assert!(b_lta.starts_with(&b_t));

    let app = ca.app(&[]).await;
    let later = Utc::now() + Duration::days(6 * 365);

    // Today the certificate is still valid: judged now, the revocation after the timestamp
    // noted.
    let today = app.verify_at(&b_lta, Utc::now()).await;
    assert_eq!(today["indication"], "TOTAL_PASSED", "{today:#}");
    let sig = the_signature(&today);
    assert_eq!(sig["level"], "B-LTA");
    assert_eq!(sig["validated_at"]["basis"], "validation_time", "{sig:#}");

    // Six years later, with only the file: judged at the signature timestamp, whose own
    // authority has expired too and is judged at the archive timestamp.
    let report = app.verify_at(&b_lta, later).await;
    assert_eq!(report["indication"], "TOTAL_PASSED", "{report:#}");
    assert_eq!(report["validation_time"], later.to_rfc3339());
    let sig = the_signature(&report);
    assert_eq!(sig["indication"], "TOTAL_PASSED", "{sig:#}");
    assert_eq!(sig["validated_at"]["basis"], "proof_of_existence");
    assert_eq!(
        sig["validated_at"]["proof"]["source"],
        "signature_timestamp"
    );
    assert_eq!(sig["validated_at"]["time"], sig["timestamp"]["time"]);
    assert!(
        sig["checks"]["revocation"]
            .as_str()
            .unwrap()
            .starts_with("revoked"),
        "{sig:#}"
    );
    assert!(sig["explanation"]["vi"]
        .as_str()
        .unwrap()
        .contains("dấu thời gian của chữ ký chứng minh chữ ký đã tồn tại"));
    let stamp = &report["signatures"][1];
    assert_eq!(stamp["kind"], "document_timestamp");
    assert_eq!(stamp["validated_at"]["basis"], "validation_time");

    // The page: the date-time field is read in Vietnam time.
    let local = (later + Duration::hours(7))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let page = app
        .http
        .post(format!("{}/verify", app.address))
        .multipart(reqwest::multipart::Form::new().text("at", local).part(
            "file",
            reqwest::multipart::Part::bytes(b_lta.clone()).file_name("a.pdf"),
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"id="summary" class="card passed""#),
        "{page}"
    );
    assert!(page.contains(&format!(
        "Thời điểm kiểm tra</dt><dd>{}",
        (later + Duration::hours(7)).format("%H:%M:%S %d/%m/%Y +07:00")
    )));
    assert!(page.contains("thời điểm dấu thời gian chứng minh chữ ký đã tồn tại"));

    // The B-T file in the same situation: its timestamp's authority has expired and nothing
    // later proves the timestamp, nor does the file hold revocation data.
    let report = app.verify_at(&b_t, later).await;
    let sig = the_signature(&report);
    assert_eq!(sig["indication"], "INDETERMINATE", "{sig:#}");
    assert_eq!(sig["sub_indication"], "OUT_OF_BOUNDS_NO_POE");

    // B-LT, no archive timestamp: the signature timestamp's authority expired and nothing
    // proves the token older, so nothing proves the signature either.
    let report = app.verify_at(&b_lt, later).await;
    assert_eq!(
        the_signature(&report)["sub_indication"],
        "OUT_OF_BOUNDS_NO_POE"
    );

    // Eleven years later the archive timestamp's authority has expired as well: without a
    // renewed archive timestamp nothing is proven.
    let report = app
        .verify_at(&b_lta, Utc::now() + Duration::days(11 * 365))
        .await;
    assert_eq!(report["indication"], "INDETERMINATE", "{report:#}");

    // The same from the command line, with no server and no list of its own.
    let (code, report) = kyso_verify_at(&ca, &b_lta, later);
    assert_eq!(
        (code, &report["indication"]),
        (0, &Value::from("TOTAL_PASSED"))
    );
    let (code, report) = kyso_verify_at(&ca, &b_t, later);
    assert_eq!(code, 1);
    assert_eq!(
        the_signature(&report)["sub_indication"],
        "OUT_OF_BOUNDS_NO_POE"
    );

    // pyHanko's ETSI validation (past signature validation over the archive timestamp, data
    // from the file only) agrees.
    let root = ca.path("trust/root.pem");
    let lines = tokio::task::spawn_blocking(move || pyhanko_ades_validate(&b_lta, &root))
        .await
        .unwrap()
        .unwrap_or_else(|report| panic!("{report}"));
    assert_eq!(lines.len(), 1, "{lines:?}");
}

#[tokio::test]
async fn revoked_before_its_timestamp_fails_even_in_b_lta() {
    let ca = TestCa::new();
    let official = issue(&ca.ca, "Trần Thị Thu Hồi", Profile::Signer, 365);
    let tsa = TimestampAuthority::new(key(
        &issue(&ca.root, "TSA", Profile::TimeStamping, 3600),
        &[],
    ));
    let b_t = signed(
        &sample_pdf(XrefStyle::Classic),
        &key(&official, &[&ca.ca]),
        Some(&tsa),
    );
    std::fs::write(
        ca.path("crl/ca.crl"),
        TestCa::crl(&ca.ca, &[(&official.cert, Utc::now() - Duration::hours(1))]),
    )
    .unwrap();
    let trust = TrustStore::new(vec![certificate(&ca.root)]);
    let b_lt = with_validation_data(&b_t, &trust, &ca.path("crl"));
    let stamped = sign::timestamp_document(&b_lt, &tsa, &Limits::default()).unwrap();
    let b_lta = with_validation_data(&stamped, &trust, &ca.path("crl"));

    let app = ca.app(&[]).await;
    let report = app
        .verify_at(&b_lta, Utc::now() + Duration::days(6 * 365))
        .await;
    let sig = the_signature(&report);
    // It claims (/M) to have signed after the revocation.
    assert_eq!(sig["indication"], "TOTAL_FAILED", "{sig:#}");
    assert_eq!(sig["sub_indication"], "REVOKED");
}

#[tokio::test]
async fn a_chain_is_completed_from_the_dss_or_the_configured_intermediates() {
    let ca = TestCa::new();
    let official = issue(&ca.ca, "Lê Văn Lá", Profile::Signer, 365);
    // The CMS holds the signer's certificate only, as many real PDFs do.
    let leaf_only = signed(&sample_pdf(XrefStyle::Stream), &key(&official, &[]), None);
    let signer_trust =
        TrustStore::new(vec![certificate(&ca.root)]).with_intermediates(vec![certificate(&ca.ca)]);
    let with_dss = with_validation_data(&leaf_only, &signer_trust, &ca.path("crl"));

    let root_only = ca.app(&[]).await;
    let sig = the_signature(&root_only.verify(&with_dss).await).clone();
    assert_eq!(sig["indication"], "TOTAL_PASSED", "{sig:#}");
    assert_eq!(
        sig["checks"]["chain_detail"],
        "Lê Văn Lá → pastval issuing CA → pastval test root"
    );
    let sig = the_signature(&root_only.verify(&leaf_only).await).clone();
    assert_eq!(sig["indication"], "INDETERMINATE", "{sig:#}");
    assert_eq!(sig["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND");

    // Configured intermediates complete chains; they are not trust anchors: a CA whose root
    // is not trusted completes nothing.
    let stranger_root = dev::new_root("stranger root", KeyAlgorithm::EcdsaP256).unwrap();
    let stranger_ca = issue(&stranger_root, "stranger CA", Profile::IntermediateCa, 365);
    let stranger = issue(&stranger_ca, "stranger", Profile::Signer, 365);
    let configured = ca.app(&[&ca.ca, &stranger_ca]).await;
    let sig = the_signature(&configured.verify(&leaf_only).await).clone();
    assert_eq!(sig["indication"], "TOTAL_PASSED", "{sig:#}");
    let strangers = signed(&sample_pdf(XrefStyle::Stream), &key(&stranger, &[]), None);
    let sig = the_signature(&configured.verify(&strangers).await).clone();
    assert_eq!(
        sig["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND",
        "{sig:#}"
    );
}

#[tokio::test]
async fn a_validation_time_that_is_not_a_time_is_refused() {
    let ca = TestCa::new();
    let app = ca.app(&[]).await;
    let response = app
        .http
        .post(format!("{}/api/v1/verify?at=yesterday", app.address))
        .header("Content-Type", "application/pdf")
        .body(sample_pdf(XrefStyle::Classic))
        .send()
        .await
        .unwrap();
    assert_eq!(
        crate::helpers::error_code(response, 400).await,
        "bad_request"
    );
}

/// An RFC 3161 service on a port of its own, answering with whichever authority is current.
struct TestTsa {
    url: String,
    current: Arc<Mutex<Arc<TimestampAuthority>>>,
}

impl TestTsa {
    fn start(authority: TimestampAuthority) -> TestTsa {
        let current = Arc::new(Mutex::new(Arc::new(authority)));
        let shared = current.clone();
        let server = actix_web::HttpServer::new(move || {
            let shared = shared.clone();
            actix_web::App::new().default_service(actix_web::web::to(
                move |body: actix_web::web::Bytes| {
                    let tsa = shared.lock().unwrap().clone();
                    async move {
                        let answer = tokio::task::spawn_blocking(move || tsa.respond(&body))
                            .await
                            .unwrap()
                            .unwrap();
                        actix_web::HttpResponse::Ok()
                            .content_type("application/timestamp-reply")
                            .body(answer)
                    }
                },
            ))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let url = format!("http://{}/", server.addrs()[0]);
        tokio::spawn(server.run());
        TestTsa { url, current }
    }

    fn switch_to(&self, authority: TimestampAuthority) {
        *self.current.lock().unwrap() = Arc::new(authority);
    }
}

/// A time-stamping authority under the dev issuing CA, its certificate valid for `days`.
fn dev_tsa(name: &str, days: i64) -> TimestampAuthority {
    let ca = crate::verify::dev_issuing_ca();
    TimestampAuthority::new(key(&issue(&ca, name, Profile::TimeStamping, days), &[&ca]))
}

/// `kyso archive refresh` against `app`'s database and store, off the runtime (it asks the
/// test TSA served on it): its exit code and outcome.
async fn run_refresh(app: &TestApp, tsa: &TestTsa, store: &str) -> (i32, Value) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kyso"));
    command
        .args(["archive", "refresh"])
        .current_dir(app.data_dir())
        .env("KYSO_PKI__DEV_DIR", &app.pki.dir)
        .env("KYSO_DATABASE_URL", &app.database_url)
        .env("KYSO_DATA_DIR", app.data_dir())
        .env("KYSO_PKI__TRUST_DIR", app.data_dir().join("trust"))
        .env("KYSO_PKI__CRL_DIR", app.data_dir().join("crl"))
        .env("KYSO_TSA__URL", &tsa.url)
        .env("KYSO_DOCUMENTS__STORE", store)
        .env("KYSO_ARCHIVE__REFRESH_DAYS_BEFORE_EXPIRY", "90");
    let run = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let outcome = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&run.stderr)));
    (run.status.code().unwrap(), outcome)
}

#[tokio::test]
async fn archive_refresh_renews_only_documents_whose_timestamp_authority_expires_soon() {
    let tsa = TestTsa::start(dev_tsa("TSA expiring soon", 30));
    for store in ["files", "database"] {
        let (url, kind) = (tsa.url.clone(), store.to_owned());
        let app = spawn_app_with(move |s| {
            s.tsa.url = Some(url);
            s.archive.refresh = false; // `kyso archive refresh` first, then serve's own pass
            s.documents.store = if kind == "files" {
                kyso::config::BlobStoreKind::Files
            } else {
                kyso::config::BlobStoreKind::Database
            };
        })
        .await;
        let sealed = [("agency_pin", app.agency_pin())];
        let scan = || vec![("scan.pdf", sample_pdf(XrefStyle::Classic))];
        tsa.switch_to(dev_tsa("TSA expiring soon", 30));
        let due = app.json_ok(app.post_copy(scan(), &sealed).await, 201).await;
        tsa.switch_to(dev_tsa("TSA for years", 3000));
        let fine = app.json_ok(app.post_copy(scan(), &sealed).await, 201).await;
        let (due_before, fine_before) = (app.download(&due).await, app.download(&fine).await);

        // The authority now in use has years left: the due document gets its timestamp.
        let (code, outcome) = run_refresh(&app, &tsa, store).await;
        assert_eq!(code, 0, "{store}: {outcome:#}");
        assert_eq!(
            outcome["refreshed"],
            serde_json::json!([due["id"]]),
            "{store}: {outcome:#}"
        );

        let due_after = app.download(&due).await;
        assert!(due_after.len() > due_before.len() && due_after.starts_with(&due_before));
        assert_eq!(
            document_timestamps(&due_after),
            document_timestamps(&due_before) + 1
        );
        assert_eq!(app.download(&fine).await, fine_before, "{store}");
        app.assert_accepted(&due_after, 2);
        let report = app.verify(&due_after).await;
        assert_eq!(report["indication"], "TOTAL_PASSED", "{report:#}");
        assert_eq!(report["document"]["document_timestamps"], 2);

        let mut conn = kyso::db::get(&app.pool).unwrap();
        let log = kyso::rollout::audit::list(&mut conn, Some("document"), due["id"].as_str(), 10)
            .unwrap();
        assert_eq!(log.len(), 1, "{store}");
        assert_eq!(log[0].action, "document.archive_refresh");
        assert_eq!(log[0].actor, "kyso archive refresh");
        assert!(log[0]
            .after_json
            .as_deref()
            .unwrap()
            .contains(&hex::encode(openssl::sha::sha256(&due_after))));

        // Nothing is due any more: both documents record an authority with years left.
        let (code, outcome) = run_refresh(&app, &tsa, store).await;
        assert_eq!(
            (code, outcome["checked"].as_u64()),
            (0, Some(0)),
            "{outcome:#}"
        );

        // `serve` does the same on its own, at start: a second instance on the same database
        // and store refreshes a newly due document.
        tsa.switch_to(dev_tsa("TSA expiring soon", 30));
        let also_due = app.json_ok(app.post_copy(scan(), &sealed).await, 201).await;
        tsa.switch_to(dev_tsa("TSA for years", 3000));
        let (database, data, url) = (app.database_url.clone(), app.data_dir(), tsa.url.clone());
        let kind = store.to_owned();
        let _serving = spawn_app_with(move |s| {
            s.database_url = database;
            s.data_dir = data;
            s.tsa.url = Some(url);
            s.documents.store = if kind == "files" {
                kyso::config::BlobStoreKind::Files
            } else {
                kyso::config::BlobStoreKind::Database
            };
        })
        .await;
        let refreshed = |conn: &mut kyso::db::DbConnection| {
            kyso::rollout::audit::list(conn, Some("document"), also_due["id"].as_str(), 10)
                .unwrap()
                .len()
        };
        let mut waited = 0;
        while refreshed(&mut conn) == 0 {
            assert!(
                waited < 60,
                "{store}: serve did not refresh the due document"
            );
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            waited += 1;
        }
        let stamped = app.download(&also_due).await;
        assert_eq!(document_timestamps(&stamped), 2, "{store}");
    }
}
