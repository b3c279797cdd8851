//! The web pages' routes: `GET /verify` and the upload it posts back to itself.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::form::Form;
use crate::app::AppState;
use crate::pdf::verify;
use crate::web;

fn html(status: StatusCode, markup: maud::Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

pub async fn verify_form() -> HttpResponse {
    html(StatusCode::OK, web::verify::page(None))
}

/// Works without JavaScript: a plain multipart form post answered with the same page.
pub async fn verify_upload(
    state: actix_web::web::Data<AppState>,
    multipart: Multipart,
) -> HttpResponse {
    let limit = state.settings.max_upload_bytes;
    let result = match Form::read(multipart, limit)
        .await
        .and_then(|mut f| f.file("file"))
    {
        Ok(pdf) => super::blocking(move || verify::verify(&pdf, &state.verification())).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(report) => html(StatusCode::OK, web::verify::page(Some(Ok(&report)))),
        Err(e) => {
            let status = actix_web::ResponseError::status_code(&e);
            let message = match &e {
                crate::Error::NotPdf => "Tệp này không phải là PDF.".to_owned(),
                crate::Error::PdfEncrypted => {
                    "Tệp PDF được đặt mật khẩu; không kiểm tra được.".to_owned()
                }
                crate::Error::TooLarge { limit } => {
                    format!("Tệp quá lớn (giới hạn {} MB).", limit >> 20)
                }
                crate::Error::PdfMalformed(_) => "Tệp PDF bị hỏng hoặc không đầy đủ.".to_owned(),
                crate::Error::PdfTooComplex(_) => "Tệp PDF quá phức tạp để đọc an toàn.".to_owned(),
                _ if status.is_client_error() => e.to_string(),
                _ => "Lỗi hệ thống; vui lòng thử lại.".to_owned(),
            };
            html(status, web::verify::page(Some(Err(message))))
        }
    }
}
