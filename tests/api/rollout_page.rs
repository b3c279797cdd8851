//! `GET /rollout`, the dashboard: over HTTP (sign-in, filters, sorting) and in headless
//! Chromium (what a person sees), with a screenshot kept as an artifact.

use fantoccini::Locator;
use kyso::clients::Role;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::spawn_app;
use crate::rollout::{json_of, post};
use crate::validators::artifact_dir;

#[tokio::test]
async fn the_page_asks_for_a_key_then_filters_and_sorts() {
    let app = spawn_app().await;
    let page = |query: &'static str, key: Option<String>| {
        let app = &app;
        async move {
            let mut request = app.http.get(format!("{}/rollout{query}", app.address));
            if let Some(key) = key {
                request = request.bearer_auth(key);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, html) = page("", None).await;
    assert_eq!(status, 401);
    assert!(
        html.contains("Khóa API") && !html.contains("commune-99001"),
        "{html}"
    );
    let (status, _) = page("", Some("kyso_wrong".into())).await;
    assert_eq!(status, 401);

    // One commune falls behind: its civil-status officer retires, the successor has no
    // certificate yet.
    let body = json!({"commune_code": "99002", "kind": "person", "name": "Lý Thị Ngân",
                      "personal_id": "099180000123", "position": "civil_status"});
    json_of(
        post(&app, &app.admin_key, "/api/v1/officials", &body).await,
        201,
    )
    .await;
    let retired = app
        .http
        .patch(format!(
            "{}/api/v1/officials/99002-civil-status",
            app.address
        ))
        .bearer_auth(&app.admin_key)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    json_of(retired, 200).await;

    let viewer = app.api_key(Role::Viewer, None);
    let (status, html) = page("", Some(viewer.clone())).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("2 / 3</strong> xã, phường, đặc khu sẵn sàng ký số"),
        "{html}"
    );
    assert!(html.contains("<svg") && html.contains("Đơn vị sẵn sàng ký số theo loại"));
    // A viewer reads statistics only: who waits is personal data, an admin sees it.
    assert!(!html.contains("Lý Thị Ngân"), "{html}");
    let (_, html) = page("", Some(app.admin_key.clone())).await;
    assert!(html.contains("Chưa có chứng thư: Lý Thị Ngân"), "{html}");

    let (_, xa) = page("?kind=x%C3%A3", Some(viewer.clone())).await;
    assert!(
        xa.contains("commune-99002") && !xa.contains("commune-99001"),
        "{xa}"
    );
    let (_, not_ready) = page("?status=not_ready", Some(viewer.clone())).await;
    assert!(not_ready.contains("commune-99002") && !not_ready.contains("commune-99003"));
    let (_, found) = page("?q=c%C3%A1t+h%E1%BA%A3i", Some(viewer.clone())).await;
    assert!(found.contains("commune-99003") && !found.contains("commune-99002"));
    let (_, by_name) = page("?sort=name&dir=desc", Some(viewer.clone())).await;
    let order: Vec<_> = ["commune-99001", "commune-99002", "commune-99003"]
        .iter()
        .map(|id| by_name.find(id).unwrap())
        .collect();
    // Phường Thành Đông < Xã An Hưng < Đặc khu Cát Hải (code point order), reversed.
    assert!(order[2] < order[1] && order[1] < order[0], "{order:?}");
    let (status, _) = page("?at=2030-01-01T00:00:00Z", Some(viewer.clone())).await;
    assert_eq!(status, 403);
    let csv = app
        .http
        .get(format!("{}/rollout/export.csv", app.address))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .any(|l| l.starts_with("99002,Xã An Hưng,xã,false,true,4,3,")),
        "{csv}"
    );
}

#[tokio::test]
async fn a_commune_page_shows_who_waits_and_what_the_ca_holds() {
    let app = spawn_app().await;
    let body = json!({"commune_code": "99002", "kind": "person", "name": "Lý Thị Ngân",
                      "personal_id": "099180000123", "position": "civil_status"});
    let official = json_of(
        post(&app, &app.admin_key, "/api/v1/officials", &body).await,
        201,
    )
    .await;
    let body = json!({"official_id": official["id"], "kind": "new"});
    let request = json_of(
        post(&app, &app.admin_key, "/api/v1/issuance-requests", &body).await,
        201,
    )
    .await;
    let id = request["id"].as_str().unwrap();
    let path = format!("/api/v1/issuance-requests/{id}/transitions");
    json_of(
        post(&app, &app.admin_key, &path, &json!({"to": "submitted"})).await,
        200,
    )
    .await;

    let fetch = |path: String, key: String| {
        let app = &app;
        async move {
            let response = app
                .http
                .get(format!("{}{path}", app.address))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.bytes().await.unwrap().to_vec(),
            )
        }
    };
    // Names and ids are personal data: a viewer key is refused, the commune's portal reads.
    let viewer = app.api_key(Role::Viewer, None);
    assert_eq!(
        fetch("/rollout/communes/99002".into(), viewer.clone())
            .await
            .0,
        403
    );
    let own = app.api_key(Role::Portal, Some("99002"));
    let (status, html) = fetch("/rollout/communes/99002".into(), own.clone()).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, 200, "{html}");
    for expected in [
        "Xã An Hưng",
        "Lý Thị Ngân",
        "chưa có",
        "…0123",
        "Đã gửi",
        "Cấp mới",
        "Đặng Quốc Hùng",
        "còn hiệu lực",
    ] {
        assert!(html.contains(expected), "{expected} missing: {html}");
    }
    assert!(!html.contains("099180000123"), "the personal id is masked");
    assert!(!html.contains("quá hạn"));
    let later = (chrono::Utc::now() + chrono::Duration::days(8)).format("%Y-%m-%dT%H:%M:%SZ");
    let (_, html) = fetch(
        format!("/rollout/communes/99002?at={later}"),
        app.admin_key.clone(),
    )
    .await;
    assert!(String::from_utf8(html).unwrap().contains("quá hạn"));

    let portal = app.api_key(Role::Portal, Some("99001"));
    assert_eq!(fetch("/rollout/communes/99002".into(), portal).await.0, 403);
    let form = format!("/rollout/requests/{id}/form.pdf");
    assert_eq!(fetch(form.clone(), viewer).await.0, 403);
    let (status, pdf) = fetch(form, own).await;
    assert_eq!(status, 200);
    assert!(crate::validators::pdftotext(&pdf).contains("Lý Thị Ngân"));
}

#[tokio::test]
async fn chromium_reads_the_totals_and_a_commune() {
    let app = spawn_app().await;
    // An admin: the commune page shows officials, which a viewer key does not read.
    let admin = app.admin_key.clone();
    // An open request, so the commune page shows its requests table too.
    let request = json_of(
        post(
            &app,
            &admin,
            "/api/v1/issuance-requests",
            &json!({"official_id": "99001-chair", "kind": "renewal"}),
        )
        .await,
        201,
    )
    .await;
    let transitions = format!(
        "/api/v1/issuance-requests/{}/transitions",
        request["id"].as_str().unwrap()
    );
    json_of(
        post(&app, &admin, &transitions, &json!({"to": "submitted"})).await,
        200,
    )
    .await;
    let browser = Browser::start().await;
    let c = &browser.client;

    c.goto(&format!("{}/rollout", app.address)).await.unwrap();
    browser.assert_accessible("roll-out sign-in").await;
    browser.submit("input[name=key]", &admin, "#totals").await;

    let totals = browser.text("#totals").await;
    assert_eq!(totals, "3 / 3 xã, phường, đặc khu sẵn sàng ký số");
    let row = browser.text("#commune-99001").await;
    for cell in [
        "99001",
        "Phường Thành Đông",
        "phường",
        "Sẵn sàng",
        "còn hiệu lực",
        "4 / 4",
    ] {
        assert!(row.contains(cell), "{cell} not in row: {row}");
    }
    browser.assert_accessible("roll-out dashboard").await;
    let chart = c.find(Locator::Css("#chart")).await.unwrap();
    assert!(chart.text().await.unwrap().contains("1 / 1"));
    browser
        .screenshot(&artifact_dir("rollout").join("rollout.png"))
        .await;

    // The commune's name leads to its page.
    browser.follow("Phường Thành Đông", "#officials").await;
    let chair = browser.text("#official-99001-chair").await;
    assert!(
        chair.contains("Nguyễn Văn An") && chair.contains("còn hiệu lực"),
        "{chair}"
    );
    let requests = browser.text("#requests").await;
    assert!(requests.contains("Nguyễn Văn An"), "{requests}");
    browser.assert_accessible("commune page").await;
    browser
        .screenshot(&artifact_dir("rollout").join("rollout-99001.png"))
        .await;
    // A dev instance says so on every page; the page's font is kyso's own, loaded from kyso.
    let banner = browser.text(".dev-banner").await;
    assert!(
        banner.contains("Bản chạy thử") && banner.contains("Dev instance"),
        "{banner}"
    );
    let loaded = c
        .execute(
            "return document.fonts.ready.then(() => [...document.fonts]
                .filter(f => f.family.includes('kyso Serif') && f.status === 'loaded').length)",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        loaded.as_u64().unwrap() >= 1,
        "kyso's font not loaded: {loaded}"
    );

    // An error on a page route is a page: Vietnamese first, English second, no raw JSON.
    c.goto(&format!("{}/rollout/communes/00000", app.address))
        .await
        .unwrap();
    assert_eq!(browser.text("h1").await, "Không thực hiện được yêu cầu");
    let error = browser.text(".card.failed").await;
    assert!(
        error.contains("Không tìm thấy") && error.contains("not found"),
        "{error}"
    );
    assert!(browser.text(".dev-banner").await.contains("Bản chạy thử"));
    browser.assert_accessible("error page").await;

    // The cookie keeps the session: filtering is a plain GET.
    c.goto(&format!("{}/rollout?kind=x%C3%A3", app.address))
        .await
        .unwrap();
    let rows = c
        .find_all(Locator::Css("#communes tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    browser.quit().await;
}
