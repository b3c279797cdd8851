//! Signed birth extracts, end to end (validate, number, render, sign by the official, seal by
//! the agency, store, record), in process and over HTTP, with criterion, beside one raw OpenSSL
//! RSA-2048 signature measured in the same run. An extract carries two signatures, so the
//! ceiling is one extract per two raw signatures per core; after the run every figure is
//! printed as extracts/s and as a share of that ceiling.
//!
//! `cargo bench --bench documents` (SQLite; `KYSO_BENCH_DATABASE_URL=postgres://host:5432` for
//! PostgreSQL). Under `cargo test` each function runs once as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion, SamplingMode};
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

/// Posts `n` extracts from 4 clients at once, spreading them over `bodies` (each client keeps
/// to one); the time they took.
async fn post_concurrently(post: &Post, bodies: &[Arc<Vec<u8>>], n: u64) -> Duration {
    let start = Instant::now();
    let clients = (0..4u64).map(|i| {
        let body = bodies[i as usize % bodies.len()].clone();
        // Client i posts every 4th of the n extracts.
        let count = n / 4 + u64::from(i < n % 4);
        async move {
            for _ in 0..count {
                post.send(body.clone()).await;
            }
        }
    });
    futures_util::future::join_all(clients).await;
    start.elapsed()
}

/// Posts an extract to the running server and expects it issued.
#[derive(Clone)]
struct Post {
    http: reqwest::Client,
    url: String,
    api_key: String,
}

impl Post {
    async fn send(&self, body: Arc<Vec<u8>>) {
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.api_key)
            .header("Content-Type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
}

fn main() {
    let backend = if std::env::var("KYSO_BENCH_DATABASE_URL").is_ok() {
        "postgres"
    } else {
        "sqlite"
    };
    let group_name = format!("documents_{backend}");
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let manifest = kyso::pki::dev::dev_init(&pki, None).unwrap();
    let signer = |id: &str| manifest.signers.iter().find(|s| s.id == id).unwrap();
    let extract_of = |commune: &str| {
        let pins = (
            &signer(&format!("{commune}-civil-status")).pin,
            &signer(&format!("{commune}-agency")).pin,
        );
        serde_json::to_vec(&body(commune, (pins.0, pins.1))).unwrap()
    };
    let extract = extract_of("99001");
    // 99003's officials and agency also sign with RSA-2048.
    let other_book = extract_of("99003");
    let official = signer("99001-civil-status");
    let key = Pkcs12Files {
        base_dir: ".".into(),
    }
    .unlock(
        &Pkcs12Files::key_ref(&manifest.path(&pki, &official.pkcs12)),
        &SecretString::from(official.pin.clone()),
    )
    .unwrap();

    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        database_url: database(&dir),
        ..Settings::default()
    };
    settings.pki.dev_dir = pki.clone();
    settings.pki.trust_dir = dir.path().join("trust");
    settings.pki.crl_dir = dir.path().join("crl");
    let database_url = settings.database_url.clone();
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
        let Issuance::Issued(issued) = issuer.issue_extract(&client, &request, &extract).unwrap()
        else {
            panic!("a PIN request issues at once");
        };
        assert_eq!(issued.document.state, "sealed");
    };

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group(&group_name);
    group.bench_function("raw_rsa2048_signature", |b| {
        b.iter(|| key.sign(black_box(&[7u8; 32])).unwrap())
    });
    // An extract takes milliseconds: ten equal samples, not criterion's growing ones.
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("in_process_b_t", |b| b.iter(|| issue(&state)));
    let timestamper = state.timestamper.take();
    group.bench_function("in_process_b_b", |b| b.iter(|| issue(&state)));
    state.timestamper = timestamper;
    drop(state);

    // Over HTTP: the real server (B-T with kyso's own TSA, as in dev mode), four clients at
    // once, all on one commune's book (the serialised worst case), then spread over two
    // communes' books.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let post = runtime.block_on(async {
        let app = kyso::server::build(settings).unwrap();
        let url = format!("http://127.0.0.1:{}/api/v1/extracts", app.port());
        tokio::spawn(app.run_until_stopped());
        Post {
            http: reqwest::Client::new(),
            url,
            api_key,
        }
    });
    let (a, b) = (Arc::new(extract), Arc::new(other_book));
    for (name, books) in [
        ("http_b_t_4_clients_one_book", vec![a.clone()]),
        ("http_b_t_4_clients_two_books", vec![a.clone(), b.clone()]),
    ] {
        group.bench_function(name, |bencher| {
            bencher.iter_custom(|n| runtime.block_on(post_concurrently(&post, &books, n)))
        });
    }
    group.finish();
    c.final_summary();

    if common::benchmarking() {
        print_ratios(&group_name);
    }
    drop(runtime);
    drop_database(&database_url);
}

fn print_ratios(group: &str) {
    let raw = common::median(group, "raw_rsa2048_signature");
    // Two raw signatures per extract.
    let ceiling = 1e9 / (2.0 * raw);
    println!("\nmedians of this run ({group}): birth extract, official RSA-2048 + agency RSA-2048");
    println!(
        "  raw RSA-2048 signature : {:>9.1} µs; ceiling {ceiling:.1} extracts/s",
        raw / 1e3
    );
    for (name, what) in [
        ("in_process_b_b", "in process, B-B, 1 thread"),
        ("in_process_b_t", "in process, B-T (own TSA), 1 thread"),
        (
            "http_b_t_4_clients_one_book",
            "over HTTP, B-T, 4 clients, one book",
        ),
        (
            "http_b_t_4_clients_two_books",
            "over HTTP, B-T, 4 clients, two books",
        ),
    ] {
        let per_second = 1e9 / common::median(group, name);
        println!(
            "  {what:<38} : {per_second:>7.1} extracts/s = {:.3} of the ceiling",
            per_second / ceiling
        );
    }
}
