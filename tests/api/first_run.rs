//! A first run explains itself: `/` leads to `/verify`; every page of a dev instance says it
//! is one. (What `serve` prints is `app::announcement`, unit-tested.)

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_root_leads_to_verify_and_pages_carry_the_dev_banner() {
    let app = spawn_app().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = no_redirects
        .get(format!("{}/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/verify");
    for path in ["/verify", "/d/NO-SUCH-CODE", "/rollout"] {
        let page = app
            .http
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("class=\"dev-banner\""), "{path}: {page}");
        assert!(page.contains("Bản chạy thử"), "{path}");
        assert!(page.contains("Dev instance"), "{path}");
    }
}

#[tokio::test]
async fn page_errors_are_pages_and_api_errors_stay_json() {
    let app = spawn_app().await;
    let nowhere = app
        .http
        .get(format!("{}/no-such-page", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(nowhere.status(), 404);
    assert!(nowhere.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = nowhere.text().await.unwrap();
    assert!(
        html.contains("Không có trang này") && html.contains("There is no such page"),
        "{html}"
    );
    let api = app
        .http
        .get(format!("{}/api/v1/documents/x", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(crate::helpers::error_code(api, 401).await, "unauthorized");
}
