//! Two-step signing over HTTP, for keys kyso never sees:
//! - `POST /api/v1/signing-sessions` (multipart `file`, `certificate`, optional `reason`,
//!   `location`, `level`, `visible`) → `201` with what the holder's device signs;
//! - `POST /api/v1/signing-sessions/{id}/signature` (JSON `{"signature"}` or `{"cms"}`, base64)
//!   → the signed PDF;
//! - `GET /api/v1/signing-sessions/{id}/document` → the unsigned PDF for a desktop tool, and
//!   `POST /api/v1/signing-sessions/{id}/signed-pdf` (body `application/pdf`) → what it signed,
//!   checked and kept.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::Deserialize;

use super::form::{self, Budget, Form};
use super::sign::Options;
use crate::app::AppState;
use crate::clients::Client;
use crate::db;
use crate::error::{Error, Result};
use crate::signing::SignOptions;
use crate::signing_sessions::{Finished, Returned};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/signing-sessions", web::post().to(create))
        .route(
            "/signing-sessions/{id}/signature",
            web::post().to(signature),
        )
        .route("/signing-sessions/{id}/document", web::get().to(document))
        .route(
            "/signing-sessions/{id}/signed-pdf",
            web::post().to(signed_pdf),
        );
}

async fn create(
    state: web::Data<AppState>,
    client: Client,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let mut form = Form::read(req.headers(), payload, Budget::upload(&state.settings)).await?;
    let certificate = form.file_or_text("certificate")?;
    let pdf = form.file("file")?;
    let options = Options::read(&mut form)?;
    let handout = super::blocking(move || {
        let sessions = state.signing_sessions();
        let mut conn = db::get(&state.pool)?;
        let certified = sessions.certified(&mut conn, &client, &certificate)?;
        let options = SignOptions {
            reason: options.reason.as_deref(),
            location: options.location.as_deref(),
            level: options.level,
            visible: options.visible,
        };
        sessions.open(&mut conn, &client, &certified, &pdf, &options, None)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/signing-sessions/{}", handout.id),
        ))
        .json(handout))
}

/// Exactly one of the two, base64 (standard alphabet).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureBody {
    signature: Option<String>,
    cms: Option<String>,
}

async fn signature(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
    body: web::Json<SignatureBody>,
) -> Result<HttpResponse> {
    let decode = |field: &str, text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| Error::BadRequest(format!("`{field}` is not base64: {e}")))
    };
    let returned = match body.into_inner() {
        SignatureBody {
            signature: Some(value),
            cms: None,
        } => Returned::Signature(decode("signature", &value)?),
        SignatureBody {
            signature: None,
            cms: Some(der),
        } => Returned::Cms(decode("cms", &der)?),
        _ => {
            return Err(Error::BadRequest(
                "send exactly one of `signature` (the raw value over to_sign) and `cms` (a whole SignedData)".into(),
            ))
        }
    };
    finish(state, client, id.into_inner(), returned).await
}

/// A signed PDF is as large as an upload may be.
async fn signed_pdf(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let is_pdf = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with("application/pdf"));
    if !is_pdf {
        return Err(Error::UnsupportedMedia(
            "send the signed PDF as the body, Content-Type: application/pdf".into(),
        ));
    }
    let pdf = form::body(payload, Budget::upload(&state.settings)).await?;
    finish(state, client, id.into_inner(), Returned::SignedPdf(pdf)).await
}

async fn finish(
    state: web::Data<AppState>,
    client: Client,
    id: String,
    returned: Returned,
) -> Result<HttpResponse> {
    let work = state.clone();
    let Finished { pdf, document } = super::blocking(move || {
        work.signing_sessions()
            .finish(&mut *db::get(&work.pool)?, &client, &id, returned)
    })
    .await?;
    let mut response = HttpResponse::Ok();
    response.content_type("application/pdf");
    if let Some(document) = document {
        state
            .metrics
            .document(&document.commune_code, &document.kind);
        response.insert_header((
            header::LOCATION,
            format!("/api/v1/documents/{}", document.id),
        ));
    }
    Ok(response.body(pdf))
}

async fn document(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let pdf = super::blocking(move || {
        state
            .signing_sessions()
            .document(&mut *db::get(&state.pool)?, &client, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().content_type("application/pdf").body(pdf))
}
