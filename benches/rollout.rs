//! Readiness report latency: seeds 114 communes × 30 officials (agency, chair, vice-chairs,
//! civil-status officer and staff) with certificates in every state, request histories and a
//! month of signatures, then times `GET /api/v1/rollout` and `GET /rollout` over HTTP against
//! `GET /healthz` measured in the same run — the ratio is the cost of the readiness report.
//! Runs on SQLite, and on PostgreSQL when the test suite's server (`KYSO_TEST_DATABASE_URL`,
//! default postgres://postgres@127.0.0.1:5432) answers.
//!
//! `cargo bench --bench rollout`. Under `cargo test` it seeds 2 communes and makes a few
//! requests on SQLite, as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::Utc;
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

struct Latency {
    p50: Duration,
    p95: Duration,
}

async fn measure(http: &reqwest::Client, url: &str, key: &str, n: usize) -> Latency {
    for _ in 0..3 {
        let r = http.get(url).bearer_auth(key).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        r.bytes().await.unwrap();
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = http.get(url).bearer_auth(key).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        r.bytes().await.unwrap();
        samples.push(t.elapsed());
    }
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    Latency {
        p50: at(0.50),
        p95: at(0.95),
    }
}

async fn run(label: &str, url: &str, communes_n: usize, officials_n: usize, n: usize) {
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
    let app = kyso::server::build(settings).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let pool = db::connect(url).unwrap();
    let mut conn = db::get(&pool).unwrap();
    let started = Instant::now();
    seed(&mut conn, communes_n, officials_n);
    let (_, key) = clients::create(&mut conn, Role::Viewer, None, "bench").unwrap();
    drop(conn);
    let seeded = started.elapsed();

    let http = reqwest::Client::new();
    let health = measure(&http, &format!("{address}/healthz"), &key, n).await;
    let api = measure(&http, &format!("{address}/api/v1/rollout"), &key, n).await;
    let page = measure(&http, &format!("{address}/rollout"), &key, n).await;
    let body = http
        .get(format!("{address}/api/v1/rollout"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(body["communes"].as_array().unwrap().len(), communes_n + 3);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label}: {communes_n} communes × {officials_n} officials seeded in {:.1} s; {n} sequential requests each",
        seeded.as_secs_f64()
    );
    for (name, l) in [
        ("GET /healthz", &health),
        ("GET /api/v1/rollout", &api),
        ("GET /rollout", &page),
    ] {
        println!(
            "  {name:<22} p50 {:>7.2} ms  p95 {:>7.2} ms  (p50 {:>5.1}× healthz)",
            ms(l.p50),
            ms(l.p95),
            l.p50.as_secs_f64() / health.p50.as_secs_f64()
        );
    }
}

#[tokio::main]
async fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    if !benchmarking {
        run("SQLite (smoke)", &sqlite, 2, 6, 3).await;
        return;
    }
    run("SQLite", &sqlite, 114, 30, 200).await;

    let server = std::env::var("KYSO_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let Ok(mut admin) = PgConnection::establish(&format!("{server}/postgres")) else {
        println!("PostgreSQL: no server at {server}; skipped");
        return;
    };
    let name = format!("kyso_bench_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    run("PostgreSQL", &format!("{server}/{name}"), 114, 30, 200).await;
    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin);
}
