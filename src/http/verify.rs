//! `POST /api/v1/verify`: a PDF as the body (`application/pdf`) or as multipart `file`.
//! Verifications are capped: each holds an upload in memory and a core, so beyond
//! `security.max_concurrent_verifications` the answer is `503` with `Retry-After`.

use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::OwnedSemaphorePermit;

use super::form::{self, Budget, Form};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::input::MappedFile;
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

/// An uploaded PDF: a form's part, in memory, or a raw body, spooled to a file and mapped.
pub(crate) enum Upload {
    Memory(Vec<u8>),
    File(MappedFile),
}

/// Verifies `pdf` on the blocking pool while `slot` is held.
pub(crate) async fn report(
    state: web::Data<AppState>,
    slot: OwnedSemaphorePermit,
    pdf: Upload,
) -> Result<Report> {
    super::blocking(move || {
        let _slot = slot;
        let check = |bytes: &[u8]| verify::verify(bytes, &state.verification());
        let report = match &pdf {
            Upload::Memory(bytes) => check(bytes),
            Upload::File(file) => file.read(check),
        }?;
        state.metrics.verification(&report.indication.to_string());
        Ok(report)
    })
    .await
}

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
        Upload::Memory(
            Form::read(req.headers(), payload, budget)
                .await?
                .file("file")?,
        )
    } else {
        Upload::File(form::spooled(payload, budget).await?)
    };
    Ok(HttpResponse::Ok().json(report(state, slot, pdf).await?))
}
