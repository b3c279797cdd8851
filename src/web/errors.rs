//! Errors on page routes are pages: Vietnamese first, English second, in the site's frame.
//! `/api`, `/tsa`, `/ocsp`, `/crl`, `/ca`, `/metrics` and `/healthz` keep the JSON error body
//! machines read.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use maud::html;

use kyso_core::Error as Core;

use crate::app::AppState;
use crate::Error;

/// Routes whose answers are for programs, not people.
fn for_machines(path: &str) -> bool {
    path.starts_with("/api/")
        || ["/tsa", "/ocsp", "/metrics", "/healthz"].contains(&path)
        || ["/ocsp/", "/crl/", "/ca/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
        || path.starts_with("/assets/")
}

/// What went wrong, in Vietnamese, for a person (never an internal cause).
pub fn message_vi(e: &Error) -> String {
    match e {
        Error::Core(Core::NotPdf) => "Tệp này không phải là PDF.".to_owned(),
        Error::Core(Core::PdfEncrypted) => {
            "Tệp PDF được đặt mật khẩu; không kiểm tra được.".to_owned()
        }
        Error::TooLarge { limit } => format!("Tệp quá lớn (giới hạn {} MB).", limit >> 20),
        Error::Core(Core::PdfMalformed(_)) => "Tệp PDF bị hỏng hoặc không đầy đủ.".to_owned(),
        Error::Busy { retry_after } => {
            format!("Máy chủ đang bận; vui lòng thử lại sau {retry_after} giây.")
        }
        Error::Core(Core::PdfTooComplex(_)) => "Tệp PDF quá phức tạp để đọc an toàn.".to_owned(),
        Error::NotFound(_) => "Không tìm thấy nội dung được yêu cầu.".to_owned(),
        Error::Unauthorized => "Cần đăng nhập bằng khóa API hợp lệ.".to_owned(),
        Error::Forbidden(_) => "Khóa API này không có quyền xem nội dung này.".to_owned(),
        Error::Core(Core::WrongPin) => "Mã PIN không đúng.".to_owned(),
        Error::WrongPin { attempts_left: 0 } => {
            "Mã PIN không đúng; khóa ký đã bị tạm khóa.".to_owned()
        }
        Error::WrongPin { attempts_left: n } => {
            format!("Mã PIN không đúng; còn {n} lần thử trước khi khóa ký bị tạm khóa.")
        }
        Error::KeyLocked { until } => {
            format!("Khóa ký đang bị tạm khóa vì nhập sai mã PIN nhiều lần; thử lại sau {until}.")
        }
        Error::CrossOrigin => "Biểu mẫu được gửi từ trang khác nên bị từ chối.".to_owned(),
        Error::Core(Core::InvalidInput(_)) | Error::ValidationFailed(_) => {
            "Yêu cầu không hợp lệ; vui lòng kiểm tra lại.".to_owned()
        }
        Error::BodyTimeout { .. } => "Tệp tải lên quá chậm; vui lòng thử lại.".to_owned(),
        _ if e.status_code().is_client_error() => "Không thực hiện được yêu cầu.".to_owned(),
        _ => "Lỗi hệ thống; vui lòng thử lại.".to_owned(),
    }
}

/// The same in English: the error's own text for the client's mistakes, nothing internal.
pub fn message_en(e: &Error) -> String {
    if e.status_code().is_server_error() {
        "Internal error; the incident was logged.".to_owned()
    } else {
        e.to_string()
    }
}

pub async fn as_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let page = !for_machines(req.path());
    let dev = req
        .app_data::<web::Data<AppState>>()
        .is_none_or(|s| s.settings.dev_mode);
    let res = next.call(req).await?;
    let status = res.status();
    if !page || !(status.is_client_error() || status.is_server_error()) {
        return Ok(res.map_into_boxed_body());
    }
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if is_html {
        return Ok(res.map_into_boxed_body());
    }
    let (vi, en) = match res.response().error().and_then(|e| e.as_error::<Error>()) {
        Some(e) => (message_vi(e), message_en(e)),
        None if status == StatusCode::NOT_FOUND => (
            "Không có trang này.".to_owned(),
            "There is no such page.".to_owned(),
        ),
        None => (
            "Không thực hiện được yêu cầu.".to_owned(),
            status
                .canonical_reason()
                .unwrap_or("Request failed")
                .to_owned(),
        ),
    };
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let (request, _) = res.into_parts();
    let body = html! {
        h1 { "Không thực hiện được yêu cầu" }
        section.card.failed {
            p.verdict { (vi) }
            p lang="en" { (en) }
        }
        p { a href="/verify" { "Về trang kiểm tra chữ ký" } " · " span lang="en" { "Back to signature checking" } }
    };
    let mut response = HttpResponse::build(status);
    response.content_type("text/html; charset=utf-8");
    if let Some(value) = retry_after {
        response.insert_header((header::RETRY_AFTER, value));
    }
    let response = response.body(super::layout(dev, "Lỗi", body).into_string());
    Ok(ServiceResponse::new(request, response))
}

#[cfg(test)]
mod tests {
    use super::{message_en, message_vi};
    use crate::Error;

    #[test]
    fn a_wrong_pin_says_how_many_tries_are_left() {
        let wrong = |left| Error::WrongPin {
            attempts_left: left,
        };
        let uncounted = Error::Core(kyso_core::Error::WrongPin);
        assert_eq!(
            message_vi(&wrong(3)),
            "Mã PIN không đúng; còn 3 lần thử trước khi khóa ký bị tạm khóa."
        );
        assert_eq!(
            message_en(&wrong(3)),
            "wrong PIN for this signer's key; 3 attempts left before the key is locked"
        );
        assert!(message_vi(&wrong(0)).contains("đã bị tạm khóa"));
        assert_eq!(message_vi(&uncounted), "Mã PIN không đúng.");
    }
}
