//! The API document: `/openapi.json` is valid OpenAPI 3.1 (openapi-spec-validator), names
//! every route actix serves under `/api/v1` with every method it takes, and carries the error
//! codes of the code itself; `/docs` is served whole by kyso, nothing fetched from elsewhere.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use actix_web::{test, web, App, HttpRequest, HttpResponse};
use kyso::error::ErrorCode;
use serde_json::Value;

use crate::helpers::spawn_app;

/// A program of the API-testing virtualenv `.ci/setup` makes (`.venv-api`).
pub fn api_tool(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".venv-api/bin")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run .ci/setup",
        path.display()
    );
    path
}

async fn document(address: &str) -> Value {
    let response = reqwest::get(format!("{address}/openapi.json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1_with_the_codes_of_the_error_type() {
    let app = spawn_app().await;
    let doc = document(&app.address).await;
    assert_eq!(doc["openapi"], "3.1.0");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let output = Command::new(api_tool("openapi-spec-validator"))
        .args(["--schema", "3.1"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let codes: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode enum")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let expected: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes, expected);
    assert!(codes.contains(&"pdf_not_pdf") && codes.contains(&"validation_failed"));

    let scheme = &doc["components"]["securitySchemes"]["api_key"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    // Verify needs no key; signing does; every error answer has the error body.
    assert!(doc["paths"]["/api/v1/verify"]["post"]["security"].is_null());
    let sign = &doc["paths"]["/api/v1/sign"]["post"];
    assert_eq!(sign["security"], serde_json::json!([{"api_key": []}]));
    assert!(sign["requestBody"]["content"]["multipart/form-data"].is_object());
    assert!(sign["responses"]["200"]["content"]["application/pdf"].is_object());
    for status in ["400", "401", "404", "500"] {
        assert_eq!(
            sign["responses"][status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{status}"
        );
    }
    let csv = &doc["paths"]["/api/v1/rollout.csv"]["get"]["responses"]["200"]["content"];
    assert!(csv["text/csv"].is_object(), "{csv}");
}

/// Every resource pattern of an actix resource map, whole (scope prefixes joined), from its
/// pretty `Debug` form: actix offers no other way to list what it routes. A change of that
/// form makes this find nothing, which the caller asserts against.
fn patterns(map: &str) -> Vec<String> {
    let lines: Vec<&str> = map.lines().collect();
    let mut scopes: Vec<(usize, String)> = Vec::new();
    let mut found = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let text = line.trim_start();
        if text != "patterns: Single(" {
            continue;
        }
        let indent = line.len() - text.len();
        let pattern = lines[at + 1].trim().trim_end_matches(',').trim_matches('"');
        let is_prefix = lines[at + 2..]
            .iter()
            .find_map(|l| l.trim().strip_prefix("is_prefix: "))
            .is_some_and(|v| v.starts_with("true"));
        while scopes.last().is_some_and(|(depth, _)| *depth >= indent) {
            scopes.pop();
        }
        let whole: String = scopes.iter().map(|(_, p)| p.as_str()).collect::<String>() + pattern;
        if is_prefix {
            scopes.push((indent, pattern.to_owned()));
        } else {
            found.push(whole);
        }
    }
    found
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

#[actix_web::test]
async fn every_route_actix_serves_under_api_v1_is_in_the_document() {
    // kyso's own routes, with a default answer nothing else gives (418) and a way to read the
    // resource map actix built from them.
    let app = test::init_service(
        App::new()
            .configure(kyso::http::routes)
            .route(
                "/__resource_map",
                web::get()
                    .to(|req: HttpRequest| async move { format!("{:#?}", req.resource_map()) }),
            )
            .default_service(web::to(HttpResponse::ImATeapot)),
    )
    .await;
    let map = test::call_and_read_body(
        &app,
        test::TestRequest::get().uri("/__resource_map").to_request(),
    )
    .await;
    let map = String::from_utf8(map.to_vec()).unwrap();
    let api: Vec<String> = patterns(&map)
        .into_iter()
        .filter(|p| p.starts_with("/api/v1/"))
        .collect();
    assert!(api.len() >= 20, "too few /api/v1 routes found: {api:?}");

    // A pattern's methods: what answers neither 418 (no resource) nor 405 (not this method).
    let mut served = BTreeSet::new();
    for pattern in &api {
        let path = pattern
            .split('/')
            .map(|s| if s.starts_with('{') { "probe" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let request = test::TestRequest::default()
                .method(method.parse().unwrap())
                .uri(&path)
                .to_request();
            let status = test::call_service(&app, request).await.status().as_u16();
            if status != 418 && status != 405 {
                served.insert(format!("{method} {pattern}"));
            }
        }
    }

    let app = spawn_app().await;
    let doc = document(&app.address).await;
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.starts_with("/api/v1/"))
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(m.to_lowercase()).is_some())
                .map(move |m| format!("{m} {path}"))
        })
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in /openapi.json (annotate the handler, add it to ApiDoc): {undocumented:?}"
    );
    let phantom: Vec<_> = documented.difference(&served).collect();
    assert!(phantom.is_empty(), "documented but not served: {phantom:?}");
}

/// URLs in `text` that a browser would fetch: scripts, styles, fonts, images, or anything on
/// a CDN or font host. (A bundle also holds URLs it never loads: XML namespaces, licence links.)
fn fetched_urls(text: &str) -> Vec<String> {
    const ASSETS: [&str; 12] = [
        ".js", ".mjs", ".css", ".woff", ".woff2", ".ttf", ".otf", ".svg", ".png", ".jpg", ".gif",
        ".webp",
    ];
    const HOSTS: [&str; 7] = [
        "unpkg.com",
        "jsdelivr.net",
        "cdnjs",
        "googleapis.com",
        "gstatic.com",
        "cdn.",
        "fonts.",
    ];
    let mut found = Vec::new();
    for scheme in ["http://", "https://"] {
        for (at, _) in text.match_indices(scheme) {
            let url: String = text[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !"\"'`)<>".contains(*c))
                .collect();
            let path = url.split(['?', '#']).next().unwrap_or_default();
            if ASSETS.iter().any(|ext| path.ends_with(ext)) || HOSTS.iter().any(|h| url.contains(h))
            {
                found.push(url);
            }
        }
    }
    found
}

#[tokio::test]
async fn the_reference_is_served_whole_by_kyso_in_vietnamese_first() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(!csp.contains("http"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(
        html.contains("<title>Tài liệu API — kyso</title>"),
        "{html}"
    );
    assert!(html.contains("<html lang=\"vi\""));
    assert!(html.contains("spec-url=\"/openapi.json\""));
    assert!(html.contains("load-fonts=\"false\""));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );

    let scripts: Vec<&str> = html
        .split("<script ")
        .skip(1)
        .filter_map(|tag| tag.split("src=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(scripts, ["/docs/rapidoc.js"]);
    for src in scripts {
        let script = app
            .http
            .get(format!("{}{src}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(script.status(), 200, "{src}");
        assert!(script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        let js = script.text().await.unwrap();
        assert!(js.len() > 500_000, "{src} is not the viewer");
        assert_eq!(fetched_urls(&js), Vec::<String>::new(), "{src}");
    }
    // The check finds what it is meant to find.
    assert_eq!(
        fetched_urls("x=\"https://unpkg.com/rapidoc/dist/rapidoc-min.js\" y"),
        ["https://unpkg.com/rapidoc/dist/rapidoc-min.js"]
    );
    assert!(fetched_urls("\"http://www.w3.org/2000/svg\"").is_empty());
}
