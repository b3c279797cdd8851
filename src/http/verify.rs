//! `POST /api/v1/verify`: a PDF as the body (`application/pdf`) or as multipart `file`;
//! `POST /api/v1/verify/batch`: a ZIP of PDFs the same ways, answered by a summary.
//! Verifications are capped: each holds an upload in memory and a core, so beyond
//! `security.max_concurrent_verifications` the answer is `503` with `Retry-After`.

use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::OwnedSemaphorePermit;

use super::form::{self, Budget, Form};
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

/// The upload: the body itself, or a multipart form's `file`.
async fn upload(state: &AppState, req: &HttpRequest, payload: web::Payload) -> Result<Vec<u8>> {
    let budget = Budget::upload(&state.settings);
    let is_multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/"));
    if is_multipart {
        Form::read(req.headers(), payload, budget)
            .await?
            .file("file")
    } else {
        form::body(payload, budget).await
    }
}

pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let slot = slot(&state)?;
    let pdf = upload(&state, &req, payload).await?;
    Ok(HttpResponse::Ok().json(report(state, slot, pdf).await?))
}

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
    let zip = upload(&state, &req, payload).await?;
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
        crate::verify_batch::verify_zip(&zip, &limits, &mut batch)?;
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
