//! `GET /docs`: the API reference (RapiDoc over `/openapi.json`), a page like the others.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::app::AppState;

/// RapiDoc 9.3.8 (MIT), vendored: see `assets/docs/vendor.sh`.
const RAPIDOC: &str = include_str!("../../assets/docs/rapidoc-min.js");

/// The reference runs RapiDoc's script and its inline styles, and reads `/openapi.json`; it
/// takes nothing from anywhere else.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; font-src 'self'; connect-src 'self'; \
                        form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /docs`: the API reference, Vietnamese first.
pub async fn docs(state: web::Data<AppState>) -> HttpResponse {
    let body = maud::html! {
        h1 { "Tài liệu API" }
        p {
            "Mọi đường dẫn của kyso, các trường gửi lên, các câu trả lời và mã lỗi. "
            "Bản máy đọc được: " a href="/openapi.json" { "/openapi.json" } " (OpenAPI 3.1). "
            "Các thao tác cần khóa API gửi trong tiêu đề " code { "Authorization: Bearer <khóa>" } "."
        }
        p lang="en" {
            "Every kyso route, its fields, answers and error codes; machine-readable at "
            a href="/openapi.json" { "/openapi.json" } ". Operations that need a key take "
            code { "Authorization: Bearer <key>" } "."
        }
        rapi-doc spec-url="/openapi.json" load-fonts="false" show-header="false"
            render-style="view" layout="column" allow-server-selection="false"
            regular-font="'kyso Serif', serif" theme="light" primary-color="#8b1a1a"
            allow-authentication="true" persist-auth="false" {}
        script type="module" src="/docs/rapidoc.js" {}
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_CSP))
        .body(super::layout(state.settings.dev_mode, "Tài liệu API", body).into_string())
}

pub async fn docs_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(RAPIDOC)
}
