//! Starts the real server on port 0 with its own database (a temp SQLite file, or a fresh
//! PostgreSQL database when `KYSO_TEST_DATABASE_URL` names a server) and the dev PKI,
//! generated once per test run and shared read-only.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use diesel::{Connection, PgConnection, RunQueryDsl};
use kyso::clients::{self, Role};
use kyso::config::Settings;
use kyso::pki::dev::{self, Manifest, ManifestSigner};
use reqwest::multipart::{Form, Part};

pub struct DevPki {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl DevPki {
    pub fn root(&self) -> PathBuf {
        self.manifest.path(&self.dir, &self.manifest.root)
    }

    pub fn signer(&self, id: &str) -> &ManifestSigner {
        self.manifest
            .signers
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no dev signer {id}"))
    }

    pub fn pin(&self, id: &str) -> String {
        self.signer(id).pin.clone()
    }

    pub fn pkcs12(&self, id: &str) -> PathBuf {
        self.manifest.path(&self.dir, &self.signer(id).pkcs12)
    }
}

/// A folder of the shared test data: under `KYSO_TEST_SHARED` when set, else `shared/<name>`
/// beside the checkout or one of its parents (a git worktree sits deeper). It is part of the
/// test data: missing, the test fails rather than skips.
pub fn shared_data(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates: Vec<PathBuf> = match std::env::var_os("KYSO_TEST_SHARED") {
        Some(dir) => vec![PathBuf::from(dir).join(name)],
        None => root
            .ancestors()
            .skip(1)
            .map(|a| a.join("shared").join(name))
            .collect(),
    };
    candidates
        .into_iter()
        .find(|d| d.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "test data missing: {}/../shared/{name} (or set KYSO_TEST_SHARED)",
                root.display()
            )
        })
}

pub fn dev_pki() -> &'static DevPki {
    static PKI: OnceLock<DevPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kyso-test-pki-{}", std::process::id()));
        let manifest = dev::dev_init(&dir, None).expect("dev PKI");
        DevPki { dir, manifest }
    })
}

/// A database on the test server. TLS is off: the server is on loopback, and libpq's TLS
/// set-up registers OpenSSL's exit-time cleanup, which can race with threads still using
/// OpenSSL when the test binary exits (seen once as a "double free" abort in 23 runs).
fn pg_url(server: &str, database: &str) -> String {
    format!("{server}/{database}?sslmode=disable")
}

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    /// PostgreSQL: (server URL, database name) to drop at the end.
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("KYSO_TEST_DATABASE_URL") {
            Ok(server) => {
                let name = format!("kyso_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&pg_url(&server, "postgres"))
                    .expect("PostgreSQL server for tests");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                TestDb {
                    url: pg_url(&server, &name),
                    pg: Some((server, name)),
                    _dir: dir,
                }
            }
            Err(_) => TestDb {
                url: format!("sqlite://{}", dir.path().join("kyso.db").display()),
                pg: None,
                _dir: dir,
            },
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.pg {
            if let Ok(mut admin) = PgConnection::establish(&pg_url(server, "postgres")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub admin_key: String,
    pub pool: kyso::db::Pool,
    pub pki: &'static DevPki,
    pub database_url: String,
    _db: TestDb,
    _data: tempfile::TempDir,
}

fn test_settings(db: &TestDb, data: &Path, pki: &DevPki) -> Settings {
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: db.url.clone(),
        data_dir: data.to_path_buf(),
        ..Settings::default()
    };
    settings.pki.dev_dir = pki.dir.clone();
    settings.pki.trust_dir = data.join("trust");
    settings.pki.crl_dir = data.join("crl");
    // pyHanko and a second instance ask this instance's `/tsa` without a key; the test of the
    // key requirement turns it back on.
    settings.tsa.public = true;
    // The shared dev PKI's certificates name 127.0.0.1:8080, which is not this server:
    // tests that fetch run a PKI of their own (tests/api/ocsp.rs).
    settings.revocation.fetch = false;
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(dev_pki(), adjust).await
}

/// A server with a dev PKI of its own (`pki`), e.g. one whose certificates name this server's
/// URLs (tests/api/ocsp.rs).
pub async fn spawn_app_on(pki: &'static DevPki, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    // Server logs go through the test harness, which shows them only for failing tests.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let db = TestDb::new();
    let data = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&db, data.path(), pki);
    adjust(&mut settings);
    let app = kyso::server::build(settings).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let pool = kyso::db::connect(&db.url).expect("test pool");
    let (_, admin_key) = clients::create(
        &mut kyso::db::get(&pool).expect("conn"),
        Role::Admin,
        None,
        "tests",
    )
    .expect("admin key");
    TestApp {
        address,
        // A connection per request: a request sent after slow validators never lands on a
        // kept-alive connection the server is closing at that moment (a race HTTP/1.1 allows,
        // which reqwest does not retry for a POST).
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("HTTP client"),
        admin_key,
        pool,
        pki,
        database_url: db.url.clone(),
        _db: db,
        _data: data,
    }
}

/// Fields of a `/api/v1/sign` request besides the file.
#[derive(Clone, Default)]
pub struct SignParams<'a> {
    pub signer: &'a str,
    pub pin: Option<String>,
    pub level: Option<&'a str>,
    pub visible: Option<&'a str>,
    pub reason: Option<&'a str>,
}

impl TestApp {
    /// The server's `data_dir`.
    pub fn data_dir(&self) -> PathBuf {
        self._data.path().to_path_buf()
    }

    pub fn api_key(&self, role: Role, commune: Option<&str>) -> String {
        let mut conn = kyso::db::get(&self.pool).expect("conn");
        clients::create(&mut conn, role, commune, "test")
            .expect("key")
            .1
    }

    pub async fn sign_as(&self, key: &str, pdf: &[u8], p: SignParams<'_>) -> reqwest::Response {
        let pin = p.pin.clone().unwrap_or_else(|| self.pki.pin(p.signer));
        let mut form = Form::new()
            .part("file", Part::bytes(pdf.to_vec()).file_name("in.pdf"))
            .text("signer", p.signer.to_owned())
            .text("pin", pin);
        for (name, value) in [
            ("level", p.level),
            ("visible", p.visible),
            ("reason", p.reason),
        ] {
            if let Some(value) = value {
                form = form.text(name, value.to_owned());
            }
        }
        self.http
            .post(format!("{}/api/v1/sign", self.address))
            .bearer_auth(key)
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn sign(&self, pdf: &[u8], p: SignParams<'_>) -> reqwest::Response {
        self.sign_as(&self.admin_key, pdf, p).await
    }

    /// `pdf` as a third party would hand it over: signed first with pyHanko by another
    /// commune's chair, in an invisible field `Sig1`.
    pub fn signed_by_pyhanko(&self, pdf: &[u8]) -> Vec<u8> {
        crate::validators::pyhanko_sign(
            pdf,
            "Sig1",
            &self.pki.pkcs12("99002-chair"),
            &self.pki.pin("99002-chair"),
            None,
        )
    }

    /// Signs and insists on success.
    pub async fn signed(&self, pdf: &[u8], p: SignParams<'_>) -> Vec<u8> {
        let response = self.sign(pdf, p).await;
        let status = response.status();
        let body = response.bytes().await.expect("body").to_vec();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        body
    }

    /// qpdf, pdfsig and pyHanko accept every one of the `signatures` signatures of `pdf` as
    /// intact and trusted, and the last one covers the whole file.
    pub fn assert_accepted(&self, pdf: &[u8], signatures: usize) {
        let problems = crate::validators::independent_problems(pdf, &self.pki.root(), signatures);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    pub fn signing_log_count(&self) -> i64 {
        use diesel::dsl::count_star;
        use diesel::QueryDsl;
        kyso::db::schema::signing_log::table
            .select(count_star())
            .get_result(&mut *kyso::db::get(&self.pool).expect("conn"))
            .expect("count")
    }
}

/// The `{"error": {"code"}}` of a failed response, after checking its status.
pub async fn error_code(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    body["error"]["code"]
        .as_str()
        .expect("error code")
        .to_owned()
}
