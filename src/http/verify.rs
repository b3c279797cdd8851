//! `POST /api/v1/verify`: a PDF as the body (`application/pdf`) or as multipart `file`; the
//! validation time `at` (RFC 3339, default now) as a query parameter or a form field.
//! `POST /api/v1/verify/batch`: a ZIP of PDFs the same ways, answered by a summary.
//! Verifications are capped: each holds an upload in memory and a core, so beyond
//! `security.max_concurrent_verifications` the answer is `503` with `Retry-After`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use tokio::sync::OwnedSemaphorePermit;

use super::form::{self, Budget, Form, Upload};
use crate::app::AppState;
use crate::clients::Client;
use crate::error::{Error, Result};
use crate::pdf::verify::{self, report::Report};
use crate::verify_batch::{Batch, ZipLimits, NOT_VERIFIED};

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

/// The validation time asked for: RFC 3339, or (from the page's date-time field) a local
/// `YYYY-MM-DDTHH:MM[:SS]` in Vietnam time; `None` for now.
pub(crate) fn validation_time(text: Option<&str>) -> Result<Option<DateTime<Utc>>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let local = || {
        ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .and_then(crate::vietnam::from_local)
    };
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .ok()
        .or_else(local)
        .map(Some)
        .ok_or_else(|| {
            Error::bad_request(format!(
                "`at` must be an RFC 3339 time such as 2032-11-30T09:00:00+07:00, not `{text}`"
            ))
        })
}

/// Verifies `pdf` on the blocking pool while `slot` is held, as of `at` (default now).
pub(crate) async fn report(
    state: web::Data<AppState>,
    slot: OwnedSemaphorePermit,
    pdf: Upload,
    at: Option<DateTime<Utc>>,
) -> Result<Report> {
    super::blocking(move || {
        let _slot = slot;
        let mut context = state.verification();
        context.now = at.unwrap_or(context.now);
        let report = pdf.read(|bytes| verify::verify(bytes, &context))?;
        state.metrics.verification(&report.indication.to_string());
        Ok(report)
    })
    .await
}

#[derive(serde::Deserialize)]
struct VerifyQuery {
    at: Option<String>,
}

/// The upload (the body itself, or a multipart form's `file`) and the form's `at` field.
async fn upload(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Upload, Option<String>)> {
    let budget = Budget::upload(&state.settings);
    let is_multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/"));
    if is_multipart {
        let mut form = Form::read(req.headers(), payload, budget).await?;
        let at = form.optional("at");
        Ok((form.upload("file")?, at))
    } else {
        Ok((form::spooled(payload, budget).await?, None))
    }
}

/// The multipart form of `POST /api/v1/verify` (described, not built: see `sign::SignForm`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct VerifyForm {
    #[schema(value_type = String, content_media_type = "application/pdf")]
    file: Vec<u8>,
    /// The validation time (RFC 3339); default now.
    at: Option<String>,
}

/// The multipart form of `POST /api/v1/verify/batch` (described, not built).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct BatchForm {
    #[schema(value_type = String, content_media_type = "application/zip")]
    file: Vec<u8>,
}

/// Kiểm tra mọi chữ ký của một tệp PDF · Verify every signature of a PDF. No key needed.
#[utoipa::path(
    post,
    path = "/api/v1/verify",
    tag = "verification",
    params(("at" = Option<String>, Query, description = "Thời điểm kiểm tra (RFC 3339), mặc định là bây giờ · Validation time, default now")),
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
    let query = web::Query::<VerifyQuery>::from_query(req.query_string())
        .map_err(|e| Error::bad_request(format!("query string: {e}")))?;
    let mut at = validation_time(query.at.as_deref())?;
    let slot = slot(&state)?;
    let (pdf, field) = upload(&state, &req, payload).await?;
    if let Some(field) = validation_time(field.as_deref())? {
        at = Some(field);
    }
    Ok(HttpResponse::Ok().json(report(state, slot, pdf, at).await?))
}

/// Kiểm tra nhiều tệp trong một ZIP · Verify every PDF of a ZIP.
#[utoipa::path(
    post,
    path = "/api/v1/verify/batch",
    tag = "verification",
    request_body(
        description = "Tệp ZIP chứa các PDF · A ZIP of PDFs, as the body or as field `file`",
        content((super::openapi::Zip = "application/zip"), (BatchForm = "multipart/form-data"))
    ),
    responses(
        (status = 200, description = "Kết quả từng tệp · One row per file (JSON, or CSV with `Accept: text/csv`)",
            content((crate::verify_batch::Summary = "application/json"), (super::openapi::Csv = "text/csv"))),
        (status = 408, description = "Tải lên quá chậm · Body too slow"),
        (status = 413, description = "ZIP quá lớn · ZIP too large"),
        (status = 503, description = "Mọi lượt kiểm tra đang bận (`Retry-After`) · Every verification slot taken",
            headers(("Retry-After" = u64, description = "Giây · Seconds"))),
    ),
    security(("api_key" = []))
)]
/// A ZIP of PDFs, each verified as a single upload would be, in one slot (a batch is one
/// client's work). Needs an API key, any role: a batch holds its slot much longer than one
/// file. Answers JSON with every report, or CSV rows with `Accept: text/csv`.
pub async fn batch(
    state: web::Data<AppState>,
    _client: Client,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let slot = slot(&state)?;
    let (zip, _) = upload(&state, &req, payload).await?;
    let csv = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"));
    let summary = super::blocking(move || {
        let _slot = slot;
        let limits = ZipLimits {
            max_entry_bytes: state.settings.max_upload_bytes,
            max_entries: state.settings.batch.max_entries,
            max_total_bytes: state.settings.batch.max_uncompressed_bytes,
        };
        let ctx = state.verification();
        let mut batch = Batch::new(&ctx, !csv);
        zip.read(|bytes| crate::verify_batch::verify_zip(bytes, &limits, &mut batch))?;
        let summary = batch.finish();
        for row in summary
            .results
            .iter()
            .filter(|r| r.indication != NOT_VERIFIED)
        {
            state.metrics.verification(&row.indication);
        }
        Ok(summary)
    })
    .await?;
    Ok(if csv {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(summary.to_csv()?)
    } else {
        HttpResponse::Ok().json(summary)
    })
}
