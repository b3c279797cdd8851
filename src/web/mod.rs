//! Server-rendered pages (maud: typed, auto-escaped HTML in Rust) sharing one layout and one
//! stylesheet embedded in the binary, so the pages work offline.

mod commune;
mod docs;
pub mod errors;
mod lookup;
mod pages;
mod rollout;
pub mod verify;

use actix_web::{web, HttpResponse};
use maud::{html, Markup, DOCTYPE};

const CSS: &str = include_str!("../../assets/web/kyso.css");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/kyso.css", web::get().to(css))
        .route("/assets/fonts/{file}", web::get().to(font))
        .configure(rollout::routes)
        .route("/d/{code}", web::get().to(lookup::show))
        .route("/d/{code}", web::post().to(lookup::check))
        .route("/docs", web::get().to(docs::docs))
        .route("/docs/rapidoc.js", web::get().to(docs::docs_script))
        .route("/verify", web::get().to(pages::verify_form))
        .route("/verify", web::post().to(pages::verify_upload));
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(CSS)
}

async fn font(file: web::Path<String>) -> HttpResponse {
    // kyso's own Liberation Serif: a system's older copy lacks glyphs of upper-case Vietnamese
    // (`HỢP`, `PHƯỜNG`) and leaves gaps.
    match crate::pdf::font::FILES
        .iter()
        .find(|(name, _)| *name == file.as_str())
    {
        Some((_, bytes)) => HttpResponse::Ok()
            .content_type("font/ttf")
            .insert_header(("Cache-Control", "public, max-age=86400"))
            .body(*bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

/// The page frame: Vietnamese first, every asset from kyso itself. `dev`: the instance runs
/// on the dev PKI, which every page says so that nobody takes its documents for real ones.
pub fn layout(dev: bool, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — kyso" }
                link rel="stylesheet" href="/assets/kyso.css";
            }
            body {
                header.site {
                    a.brand href="/verify" { "kyso · Ký số" }
                    a href="/verify" { "Kiểm tra chữ ký" }
                    a href="/rollout" { "Tiến độ cấp chứng thư số" }
                }
                @if dev {
                    p.dev-banner role="note" {
                        strong { "Bản chạy thử (dev):" }
                        " chữ ký và văn bản ở đây dùng chứng thư thử nghiệm, không có giá trị pháp lý. "
                        span lang="en" { "Dev instance: signatures and documents here use test certificates and have no legal value." }
                    }
                }
                main { (body) }
                footer { "kyso — dịch vụ ký số của UBND cấp xã" }
            }
        }
    }
}
