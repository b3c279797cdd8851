//! `POST /api/v1/verify`: a PDF as the body (`application/pdf`) or as multipart `file`.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};

use super::form::{self, Form};
use crate::app::AppState;
use crate::error::Result;
use crate::pdf::verify;

pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let limit = state.settings.max_upload_bytes;
    let is_multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/"));
    let pdf = if is_multipart {
        Form::read(Multipart::new(req.headers(), payload), limit)
            .await?
            .file("file")?
    } else {
        form::body(payload, limit).await?
    };
    let report = super::blocking(move || verify::verify(&pdf, &state.verification())).await?;
    Ok(HttpResponse::Ok().json(report))
}
