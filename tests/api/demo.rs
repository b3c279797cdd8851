//! `kyso demo load haiphong` and `serve --demo`: Hải Phòng's 114 real units in a roll-out under
//! way, seen through the API and the dashboard, loaded by the command an operator runs.

use std::process::Output;

use diesel::prelude::*;
use kyso::config::DemoData;
use kyso::db::schema::certificates;
use serde_json::Value;

use crate::helpers::{spawn_app_with, TestApp};
use crate::rollout::{get, json_of, post_bytes};

/// `kyso demo load SET` on the app's database and dev PKI.
fn demo_load(app: &TestApp, set: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["demo", "load", set])
        .env("KYSO_DATABASE_URL", &app.database_url)
        .env("KYSO_DATA_DIR", app.data_dir())
        .env("KYSO_PKI__DEV_DIR", &app.pki.dir)
        .env("KYSO_PKI__TRUST_DIR", app.data_dir().join("trust"))
        .env("KYSO_PKI__CRL_DIR", app.data_dir().join("crl"))
        .output()
        .unwrap()
}

async fn rollout(app: &TestApp) -> Value {
    json_of(get(app, &app.admin_key, "/api/v1/rollout").await, 200).await
}

fn certificate_counts(app: &TestApp) -> (i64, i64) {
    let conn = &mut *kyso::db::get(&app.pool).unwrap();
    let all = certificates::table.count().get_result(conn).unwrap();
    let trusted = certificates::table
        .filter(certificates::trusted.eq(true))
        .count()
        .get_result(conn)
        .unwrap();
    (all, trusted)
}

/// What the story of each commune is, without the times that move with the day of loading.
fn story(rollout: &Value) -> Vec<(String, bool, u64, u64, u64)> {
    rollout["communes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["ready"].as_bool().unwrap(),
                c["officials_required"].as_u64().unwrap(),
                c["officials_covered"].as_u64().unwrap(),
                c["pending_requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_haiphong_demo_shows_a_rollout_under_way() {
    let app = spawn_app_with(|s| s.demo = DemoData::None).await;
    assert_eq!(rollout(&app).await["totals"]["communes"], 0);

    let output = demo_load(&app, "haiphong");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = rollout(&app).await;
    let totals = &report["totals"];
    assert_eq!(totals["communes"], 114, "{totals}");
    let by_kind: Vec<(&str, u64)> = totals["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap(), k["communes"].as_u64().unwrap()))
        .collect();
    assert_eq!(by_kind, [("xã", 67), ("phường", 45), ("đặc khu", 2)]);
    // Under way: some units ready, many not; requests pending, some past the CA's service
    // time; certificates ending within the first warning window.
    let ready = totals["ready"].as_u64().unwrap();
    assert!((30..=80).contains(&ready), "{totals}");
    assert!(
        totals["pending_requests"].as_u64().unwrap() >= 40,
        "{totals}"
    );
    assert!(
        totals["overdue_requests"].as_u64().unwrap() >= 10,
        "{totals}"
    );
    assert_eq!(totals["expiring"][0]["within_days"], 30);
    assert!(
        totals["expiring"][0]["certificates"].as_u64().unwrap() >= 5,
        "{totals}"
    );
    let communes = report["communes"].as_array().unwrap();
    let count = |test: &dyn Fn(&Value) -> bool| communes.iter().filter(|c| test(c)).count();
    assert!(count(&|c| c["agency_certificate_valid"] == false) >= 10);
    assert!(count(&|c| c["officials_covered"] == 0) >= 5);
    assert!(count(&|c| c["ready"] == false && c["officials_covered"] != 0) >= 20);
    let island = communes
        .iter()
        .find(|c| c["code"] == "11948")
        .expect("Bạch Long Vĩ");
    assert_eq!(island["name"], "Đặc khu Bạch Long Vĩ");
    assert_eq!(island["kind"], "đặc khu");
    assert_eq!(island["province"], "Thành phố Hải Phòng");
    // Every certificate is a real one of the dev CA naming its holder: all count.
    let (all, trusted) = certificate_counts(&app);
    assert!(all > 250, "{all}");
    assert_eq!(trusted, all);

    // The dashboard shows it to city IT.
    let page = get(&app, &app.admin_key, "/rollout").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"id="ready-count">{ready} / 114<"#)),
        "{html}"
    );
    let overdue = totals["overdue_requests"].to_string();
    assert!(html.contains(&format!(r#"id="overdue-count">{overdue}<"#)));
    assert!(html.contains("Đặc khu Bạch Long Vĩ") && html.contains("Phường Thủy Nguyên"));
    let not_ready = get(&app, &app.admin_key, "/rollout?status=overdue").await;
    let html = not_ready.text().await.unwrap();
    assert!(html.matches(r#"data-ready="false""#).count() >= 10);

    // A second load changes nothing.
    let again = demo_load(&app, "haiphong");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(certificate_counts(&app).0, all);
    assert_eq!(story(&rollout(&app).await), story(&report));

    // `serve --demo haiphong` on a fresh database tells the same (seeded) story.
    let fresh = spawn_app_with(|s| s.demo = DemoData::Haiphong).await;
    assert_eq!(story(&rollout(&fresh).await), story(&report));
    let health = fresh
        .http
        .get(format!("{}/healthz", fresh.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn the_demo_never_mixes_with_real_records() {
    let app = spawn_app_with(|s| s.demo = DemoData::None).await;
    let csv = "code,name,kind,province\n10507,Phường Thành Đông,phường,Thành phố Hải Phòng\n";
    json_of(
        post_bytes(&app, &app.admin_key, "/api/v1/communes/import", csv.into()).await,
        200,
    )
    .await;
    let output = demo_load(&app, "haiphong");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 of Hải Phòng's units are already registered"),
        "{stderr}"
    );
    // Nothing of it was written.
    assert_eq!(rollout(&app).await["totals"]["communes"], 1);
    assert_eq!(certificate_counts(&app), (0, 0));

    // Demo data is for dev mode only.
    let config = tempfile::NamedTempFile::new().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["--config", &config.path().display().to_string()])
        .args(["demo", "load", "haiphong"])
        .env("KYSO_DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("dev mode"));
}
