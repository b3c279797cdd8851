//! `POST /api/v1/verify`: a PDF as the body (`application/pdf`) or as multipart `file`.
//! Verifications are capped: each holds an upload in memory and a core, so beyond
//! `security.max_concurrent_verifications` the answer is `503` with `Retry-After`.

use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::OwnedSemaphorePermit;

use super::form::{self, Budget, Form};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::pdf::verify::{self, report::Report};

/// Seconds a client is asked to wait when every verification slot is taken.
const RETRY_AFTER_SECS: u64 = 5;

/// A verification slot, taken before the upload is read and held until the report is made.
pub(crate) fn slot(state: &AppState) -> Result<OwnedSemaphorePermit> {
    state
        .verifications
        .clone()
        .try_acquire_owned()
        .map_err(|_| Error::Busy {
            retry_after: RETRY_AFTER_SECS,
        })
}

/// Verifies `pdf` on the blocking pool while `slot` is held.
pub(crate) async fn report(
    state: web::Data<AppState>,
    slot: OwnedSemaphorePermit,
    pdf: Vec<u8>,
) -> Result<Report> {
    super::blocking(move || {
        let _slot = slot;
        let report = verify::verify(&pdf, &state.verification())?;
        state.metrics.verification(&report.indication.to_string());
        Ok(report)
    })
    .await
}

/// The multipart form of `POST /api/v1/verify` (described, not built: see `sign::SignForm`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct VerifyForm {
    #[schema(value_type = String, content_media_type = "application/pdf")]
    file: Vec<u8>,
}

/// Kiểm tra mọi chữ ký của một tệp PDF · Verify every signature of a PDF. No key needed.
#[utoipa::path(
    post,
    path = "/api/v1/verify",
    tag = "verification",
    request_body(
        description = "Tệp PDF, nguyên tệp hoặc trường `file` · The PDF, as the body or as field `file`",
        content(
            (super::openapi::Pdf = "application/pdf"),
            (VerifyForm = "multipart/form-data"),
        )
    ),
    responses(
        (status = 200, description = "Báo cáo kiểm tra · The validation report", body = Report),
        (status = 408, description = "Tải lên quá chậm · Body too slow"),
        (status = 413, description = "Tệp quá lớn · Upload too large"),
        (status = 503, description = "Mọi lượt kiểm tra đang bận (`Retry-After`) · Every verification slot taken",
            headers(("Retry-After" = u64, description = "Giây · Seconds"))),
    )
)]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let slot = slot(&state)?;
    let budget = Budget::upload(&state.settings);
    let is_multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/"));
    let pdf = if is_multipart {
        Form::read(req.headers(), payload, budget)
            .await?
            .file("file")?
    } else {
        form::body(payload, budget).await?
    };
    Ok(HttpResponse::Ok().json(report(state, slot, pdf).await?))
}
