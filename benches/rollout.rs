//! Readiness report latency: seeds 114 communes × 30 officials (agency, chair, vice-chairs,
//! civil-status officer and staff) with certificates in every state, request histories and a
//! month of signatures, then measures `GET /api/v1/rollout` and `GET /rollout` over HTTP with
//! criterion, beside `GET /healthz` in the same run — the ratio of their medians is the cost of
//! the readiness report. Runs on SQLite, and on PostgreSQL when the test suite's server
//! (`KYSO_TEST_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432) answers.
//!
//! `cargo bench --bench rollout`. Under `cargo test` it seeds 2 communes and makes each request
//! once on SQLite, as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::Criterion;
use diesel::{Connection, PgConnection, RunQueryDsl};
use kyso::clients::{self, Role};
use kyso::config::Settings;
use kyso::db::models::{
    Certificate, Commune, IssuanceRequest, Official, RequestEvent, SigningLogEntry,
};
use kyso::db::schema::{
    certificates, communes, issuance_requests, officials, request_events, signing_log,
};
use kyso::db::{self, DbConnection};
use tokio::runtime::Runtime;

const POSITIONS: [&str; 5] = [
    "agency",
    "chair",
    "vice_chair",
    "vice_chair",
    "civil_status",
];

/// A deterministic spread of states (no RNG needed: `n` walks through the cases).
fn seed(conn: &mut DbConnection, communes_n: usize, officials_n: usize) {
    let now = Utc::now();
    let ts = |days: i64| db::timestamp(now + chrono::Duration::days(days));
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        for c in 0..communes_n {
            let code = format!("{}", 31000 + c);
            let kind = ["xã", "phường", "đặc khu"][c % 3];
            diesel::insert_into(communes::table)
                .values(&Commune {
                    code: code.clone(),
                    name: format!("{} Số {c}", kind),
                    kind: kind.into(),
                    province: "Thành phố Hải Phòng".into(),
                    demo: false,
                    created_at: ts(-200),
                })
                .execute(conn)?;
            let mut officials_rows = Vec::new();
            let mut certificate_rows = Vec::new();
            let mut request_rows = Vec::new();
            let mut event_rows = Vec::new();
            for o in 0..officials_n {
                let n = c * officials_n + o;
                let id = format!("{code}-{o}");
                let position = POSITIONS.get(o).copied().unwrap_or("other");
                let agency = position == "agency";
                officials_rows.push(Official {
                    id: id.clone(),
                    commune_code: code.clone(),
                    kind: if agency { "agency" } else { "person" }.into(),
                    name: format!("Nguyễn Văn {n}"),
                    personal_id: (!agency).then(|| format!("{:012}", 31_000_000_000u64 + n as u64)),
                    tax_code: agency.then(|| format!("{:010}", 3_100_000_000u64 + n as u64)),
                    position: position.into(),
                    active: !n.is_multiple_of(29),
                    created_at: ts(-200),
                    updated_at: ts(-200),
                });
                // Most hold a valid certificate; some expired, revoked, expiring soon, or none.
                let certificate = match n % 13 {
                    0 => Some((-800, -70, false)),
                    1 => Some((-300, 400, true)),
                    2 => Some((-700, 20, false)),
                    3 => Some((-700, 50, false)),
                    4 => None,
                    _ => Some((-300, 1000, false)),
                };
                if let Some((from, until, revoked)) = certificate {
                    certificate_rows.push(Certificate {
                        id: format!("cert-{n}"),
                        official_id: id.clone(),
                        serial: format!("{n:x}"),
                        issuer: "CN=CA phục vụ các cơ quan Nhà nước".into(),
                        subject: format!("CN=Nguyễn Văn {n}"),
                        uids: format!("CCCD:{:012}", 31_000_000_000u64 + n as u64),
                        not_before: ts(from),
                        not_after: ts(until),
                        key_usage: "Digital Signature, Non Repudiation".into(),
                        fingerprint: format!("{n:064x}"),
                        pem: String::new(),
                        revoked_at: revoked.then(|| ts(-10)),
                        revocation_reason: revoked.then(|| "KeyCompromise".into()),
                        replaces_certificate_id: None,
                        created_at: ts(from),
                        trusted: true,
                    });
                }
                // A closed history for everyone, an open request for some.
                let histories: &[(&str, i64)] = match n % 5 {
                    0 => &[("issued", -300), ("submitted", -6)],
                    1 => &[("issued", -300), ("received", -2)],
                    2 => &[("rejected", -320), ("issued", -300)],
                    3 => &[("issued", -300), ("drafted", -1)],
                    _ => &[("issued", -300)],
                };
                for (k, (state, day)) in histories.iter().enumerate() {
                    let rid = format!("req-{n}-{k}");
                    let path: &[&str] = match *state {
                        "drafted" => &["drafted"],
                        "submitted" => &["drafted", "submitted"],
                        "received" => &["drafted", "submitted", "received"],
                        "rejected" => &["drafted", "submitted", "rejected"],
                        _ => &["drafted", "submitted", "received", "issued"],
                    };
                    request_rows.push(IssuanceRequest {
                        id: rid.clone(),
                        commune_code: code.clone(),
                        official_id: id.clone(),
                        kind: if k == 0 { "new" } else { "renewal" }.into(),
                        form: if agency { "02" } else { "01" }.into(),
                        state: (*state).into(),
                        note: String::new(),
                        certificate_id: None,
                        submitted_at: (path.len() > 1).then(|| ts(*day)),
                        received_at: (path.len() > 2).then(|| ts(*day + 1)),
                        closed_at: matches!(*state, "issued" | "rejected").then(|| ts(*day + 3)),
                        created_at: ts(*day),
                        updated_at: ts(*day),
                    });
                    for (seq, to) in path.iter().enumerate() {
                        event_rows.push(RequestEvent {
                            id: format!("{rid}-{seq}"),
                            request_id: rid.clone(),
                            seq: seq as i32 + 1,
                            actor: "bench".into(),
                            from_state: seq.checked_sub(1).map(|p| path[p].into()),
                            to_state: (*to).into(),
                            note: String::new(),
                            created_at: ts(*day),
                        });
                    }
                }
            }
            // Row by row: diesel's MultiConnection has no batch insert for SQLite.
            for row in &officials_rows {
                diesel::insert_into(officials::table)
                    .values(row)
                    .execute(conn)?;
            }
            for row in &certificate_rows {
                diesel::insert_into(certificates::table)
                    .values(row)
                    .execute(conn)?;
            }
            for row in &request_rows {
                diesel::insert_into(issuance_requests::table)
                    .values(row)
                    .execute(conn)?;
            }
            for row in &event_rows {
                diesel::insert_into(request_events::table)
                    .values(row)
                    .execute(conn)?;
            }
            for s in 0..(c % 40) {
                let row = SigningLogEntry {
                    id: format!("sig-{code}-{s}"),
                    signer_id: Some("99001-chair".into()),
                    client_id: None,
                    commune_code: code.clone(),
                    level: "B-B".into(),
                    input_sha256: String::new(),
                    output_sha256: String::new(),
                    created_at: ts(-(s as i64 % 45)),
                    certificate_id: None,
                    session_id: None,
                };
                diesel::insert_into(signing_log::table)
                    .values(&row)
                    .execute(conn)?;
            }
        }
        Ok(())
    })
    .unwrap();
}

/// `n` sequential GETs of `url`, each answered 200 and read whole; the time they took.
async fn get(http: &reqwest::Client, url: &str, key: &str, n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let r = http.get(url).bearer_auth(key).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        r.bytes().await.unwrap();
    }
    start.elapsed()
}

const ROUTES: [(&str, &str); 3] = [
    ("healthz", "/healthz"),
    ("api_rollout", "/api/v1/rollout"),
    ("rollout_page", "/rollout"),
];

/// Seeds `communes_n` × `officials_n` on the database at `url`, starts a server on it and
/// measures each route as group `group`.
fn run(
    c: &mut Criterion,
    runtime: &Runtime,
    group: &str,
    url: &str,
    (communes_n, officials_n): (usize, usize),
) {
    let data = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: url.to_owned(),
        data_dir: data.path().to_path_buf(),
        ..Settings::default()
    };
    settings.pki.dev_dir = data.path().join("pki");
    settings.pki.trust_dir = data.path().join("trust");
    settings.pki.crl_dir = data.path().join("crl");
    let address = runtime.block_on(async {
        let app = kyso::server::build(settings).unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        address
    });
    let pool = db::connect(url).unwrap();
    let mut conn = db::get(&pool).unwrap();
    let started = Instant::now();
    seed(&mut conn, communes_n, officials_n);
    let (_, key) = clients::create(&mut conn, Role::Viewer, None, "bench").unwrap();
    drop(conn);
    println!(
        "{group}: {communes_n} communes × {officials_n} officials seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let http = reqwest::Client::new();
    let body = runtime.block_on(async {
        let response = http
            .get(format!("{address}/api/v1/rollout"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        response.json::<serde_json::Value>().await.unwrap()
    });
    assert_eq!(body["communes"].as_array().unwrap().len(), communes_n + 3);

    let mut bench = c.benchmark_group(group);
    // Requests of milliseconds: ten equal samples.
    bench
        .sample_size(10)
        .sampling_mode(criterion::SamplingMode::Flat);
    for (name, path) in ROUTES {
        let url = format!("{address}{path}");
        bench.bench_function(name, |b| {
            b.iter_custom(|n| runtime.block_on(get(&http, &url, &key, n)))
        });
    }
    bench.finish();
}

fn print_ratios(group: &str) {
    let health = common::median(group, "healthz");
    println!("\nmedians of this run ({group}):");
    for (name, path) in ROUTES {
        let t = common::median(group, name);
        println!(
            "  GET {path:<16} : {:>8.2} ms = {:>6.1} × healthz",
            t / 1e6,
            t / health
        );
    }
}

fn main() {
    let benchmarking = common::benchmarking();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default().configure_from_args();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    if !benchmarking {
        run(&mut c, &runtime, "rollout_sqlite", &sqlite, (2, 6));
        return;
    }
    run(&mut c, &runtime, "rollout_sqlite", &sqlite, (114, 30));
    let mut groups = vec!["rollout_sqlite"];

    let server = std::env::var("KYSO_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    match PgConnection::establish(&format!("{server}/postgres")) {
        Err(_) => println!("PostgreSQL: no server at {server}; not measured"),
        Ok(mut admin) => {
            let name = format!("kyso_bench_{}", uuid::Uuid::new_v4().simple());
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .unwrap();
            run(
                &mut c,
                &runtime,
                "rollout_postgres",
                &format!("{server}/{name}"),
                (114, 30),
            );
            groups.push("rollout_postgres");
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
    c.final_summary();
    for group in groups {
        print_ratios(group);
    }
}
