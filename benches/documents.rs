//! Signed birth extracts per second, end to end (validate, number, render, sign by the official,
//! seal by the agency, store, record; SQLite), in process (criterion: the time of one issuance
//! beside one raw OpenSSL RSA-2048 signature, in the same run) and over HTTP (four clients for
//! a few seconds), as a ratio to the raw signature rate. An extract carries two signatures, so
//! the ceiling is `raw / 2` per core; the ratio says how close kyso gets.
//!
//! `cargo bench --bench documents` (SQLite; `KYSO_BENCH_DATABASE_URL=postgres://host:5432` for
//! PostgreSQL). Under `cargo test` each in-process function runs once, as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion};
use kyso::clients::{self, Role};
use kyso::config::Settings;
use kyso::documents::{extracts, Issuance, Issuer};
use kyso::pki::keystore::{KeyStore, Pkcs12Files};
use secrecy::SecretString;
use serde_json::{json, Value};

fn body(commune: &str, pins: (&str, &str)) -> Value {
    json!({
        "kind": "birth", "commune": commune, "signer": format!("{commune}-civil-status"),
        "pin": pins.0, "agency_pin": pins.1,
        "register": {"book": "01/2026", "number": "125", "date": "2026-03-10",
                     "authority": "Ủy ban nhân dân phường Thành Đông"},
        "child": {
            "full_name": "Nguyễn Thị Ánh Tuyết", "sex": "Nữ", "date_of_birth": "2026-03-05",
            "place_of_birth": "Bệnh viện Phụ sản Hải Phòng", "home_town": "Xã An Hưng, Hải Phòng",
            "ethnicity": "Kinh", "nationality": "Việt Nam", "personal_id": "031326001234"
        },
        "mother": {
            "full_name": "Trần Thị Hồng Nhung", "year_of_birth": 1995, "ethnicity": "Kinh",
            "nationality": "Việt Nam", "residence": "Số 12 ngõ 34 đường Lạch Tray, Hải Phòng"
        }
    })
}

/// SQLite in `dir`, or with `KYSO_BENCH_DATABASE_URL=postgres://…` (a server) a fresh database
/// on that server, dropped by `drop_database` at the end.
fn database(dir: &tempfile::TempDir) -> String {
    use diesel::{Connection, RunQueryDsl};
    match std::env::var("KYSO_BENCH_DATABASE_URL") {
        Ok(server) => {
            let name = format!("kyso_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = diesel::PgConnection::establish(&format!("{server}/postgres")).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .unwrap();
            format!("{server}/{name}")
        }
        Err(_) => format!("sqlite://{}", dir.path().join("kyso.db").display()),
    }
}

fn drop_database(url: &str) {
    use diesel::{Connection, RunQueryDsl};
    if let (Ok(server), Some((_, name))) = (
        std::env::var("KYSO_BENCH_DATABASE_URL"),
        url.rsplit_once('/'),
    ) {
        let mut admin = diesel::PgConnection::establish(&format!("{server}/postgres")).unwrap();
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
    }
}

const GROUP: &str = "documents";

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = kyso::pki::dev::dev_init(&dir.path().join("pki"), None).unwrap();
    let pin = |id: &str| {
        manifest
            .signers
            .iter()
            .find(|s| s.id == id)
            .unwrap()
            .pin
            .clone()
    };
    let extract_of = |commune: &str| {
        let pins = (
            pin(&format!("{commune}-civil-status")),
            pin(&format!("{commune}-agency")),
        );
        serde_json::to_vec(&body(commune, (&pins.0, &pins.1))).unwrap()
    };
    let official_pin = pin("99001-civil-status");
    let extract = extract_of("99001");
    // 99003's officials and agency also sign with RSA-2048.
    let other_book = extract_of("99003");

    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        database_url: database(&dir),
        ..Settings::default()
    };
    settings.pki.dev_dir = dir.path().join("pki");
    settings.pki.trust_dir = dir.path().join("trust");
    settings.pki.crl_dir = dir.path().join("crl");
    let mut state = kyso::app::prepare(settings.clone()).unwrap();
    let (client, api_key) = clients::create(
        &mut kyso::db::get(&state.pool).unwrap(),
        Role::Admin,
        None,
        "bench",
    )
    .unwrap();

    let issue = |state: &kyso::app::AppState| {
        let (request, extract) = extracts::parse(&extract, None).unwrap();
        let issuer = Issuer {
            signing: state.signing(),
            sessions: state.signing_sessions(),
            pool: &state.pool,
            settings: &state.settings,
        };
        let Issuance::Issued(issued) = issuer
            .issue_extract(
                &mut kyso::db::get(&state.pool).unwrap(),
                &client,
                &request,
                &extract,
            )
            .unwrap()
        else {
            panic!("a PIN request issues at once");
        };
        assert_eq!(issued.document.state, "sealed");
    };
    let database_url = settings.database_url.clone();
    let key = Pkcs12Files {
        base_dir: ".".into(),
    }
    .unlock(
        &Pkcs12Files::key_ref(
            &manifest.path(
                &dir.path().join("pki"),
                &manifest
                    .signers
                    .iter()
                    .find(|s| s.id == "99001-civil-status")
                    .unwrap()
                    .pkcs12,
            ),
        ),
        &SecretString::from(official_pin),
    )
    .unwrap();

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group(GROUP);
    group.bench_function("raw_rsa2048_signature", |b| {
        b.iter(|| key.sign(black_box(&[7u8; 32])).unwrap())
    });
    group.bench_function("issue_b_t", |b| b.iter(|| issue(&state)));
    let timestamper = state.timestamper.take();
    group.bench_function("issue_b_b", |b| b.iter(|| issue(&state)));
    state.timestamper = timestamper;
    group.finish();
    c.final_summary();
    drop(state);
    if !common::benchmarking() {
        drop_database(&database_url);
        return;
    }
    let per_second = |name| 1e9 / common::median(GROUP, name);
    let raw = per_second("raw_rsa2048_signature");
    let in_process_bt = per_second("issue_b_t");
    let in_process_bb = per_second("issue_b_b");
    let budget = Duration::from_secs(5);

    // Over HTTP: the real server (B-T with kyso's own TSA, as in dev mode), four clients at
    // once, all on one commune's book (the serialised worst case), then spread over two
    // communes' books.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (one_book, two_books) = runtime.block_on(async move {
        let app = kyso::server::build(settings).unwrap();
        let url = format!("http://127.0.0.1:{}/api/v1/extracts", app.port());
        tokio::spawn(app.run_until_stopped());
        let http = reqwest::Client::new();
        let post = |body: Arc<Vec<u8>>| {
            let (http, url, key) = (http.clone(), url.clone(), api_key.clone());
            async move {
                let response = http
                    .post(&url)
                    .bearer_auth(&key)
                    .header("Content-Type", "application/json")
                    .body(body.to_vec())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
            }
        };
        let run = |bodies: Vec<Arc<Vec<u8>>>| {
            let post = &post;
            async move {
                let start = Instant::now();
                let workers = (0..4).map(|i| {
                    let body = bodies[i % bodies.len()].clone();
                    async move {
                        let mut n = 0u32;
                        while start.elapsed() < budget {
                            post(body.clone()).await;
                            n += 1;
                        }
                        n
                    }
                });
                let total: u32 = futures_util::future::join_all(workers)
                    .await
                    .into_iter()
                    .sum();
                f64::from(total) / start.elapsed().as_secs_f64()
            }
        };
        let (a, b) = (Arc::new(extract), Arc::new(other_book));
        post(a.clone()).await;
        post(b.clone()).await;
        (run(vec![a.clone()]).await, run(vec![a, b]).await)
    });

    let ceiling = raw / 2.0;
    println!(
        "birth extract, official RSA-2048 + agency RSA-2048, {}, files store",
        if std::env::var("KYSO_BENCH_DATABASE_URL").is_ok() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!("openssl RSA-2048 signatures/s (1 core)      : {raw:>9.1}");
    println!("  ceiling: extracts/s at 2 raw signatures  : {ceiling:>9.1}");
    for (label, value) in [
        ("in process, B-B, 1 thread", in_process_bb),
        ("in process, B-T (own TSA), 1 thread", in_process_bt),
        ("over HTTP, B-T, 4 clients, one book", one_book),
        ("over HTTP, B-T, 4 clients, two books", two_books),
    ] {
        println!(
            "{label:<40} : {value:>9.1} extracts/s  = {:>5.1}% of the ceiling",
            100.0 * value / ceiling
        );
    }
    drop(runtime);
    drop_database(&database_url);
}
