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
use super::openapi::Pdf;
use super::sign::Options;
use crate::app::AppState;
use crate::clients::Client;
use crate::db;
use crate::error::{Error, Result};
use crate::signing::SignOptions;
use crate::signing_sessions::{Finished, Handout, Returned};
use utoipa::ToSchema;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/signing-sessions").post(create))
        .service(web::resource("/signing-sessions/{id}/signature").post(signature))
        .service(web::resource("/signing-sessions/{id}/document").get(document))
        .service(web::resource("/signing-sessions/{id}/signed-pdf").post(signed_pdf));
}

/// The multipart form of `POST /api/v1/signing-sessions` (described, not built: the form is
/// streamed).
#[derive(ToSchema)]
#[allow(dead_code)]
struct SessionForm {
    #[schema(value_type = String, content_media_type = "application/pdf")]
    file: Vec<u8>,
    /// The holder's certificate, PEM or DER, registered in the roll-out registry.
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    certificate: Vec<u8>,
    reason: Option<String>,
    location: Option<String>,
    /// `B-B` (default), `B-T`, `B-LT`, `B-LTA`.
    level: Option<String>,
    /// `{"page": n, "rect": [x1, y1, x2, y2]}`.
    visible: Option<String>,
}

/// Mở phiên ký: kyso chuẩn bị tệp, thiết bị người ký ký `to_sign` · Open a signing session:
/// kyso prepares the file, the holder's device signs `to_sign`.
#[utoipa::path(
    post,
    path = "/api/v1/signing-sessions",
    tag = "signing-sessions",
    request_body(content((SessionForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Dữ liệu cần ký · What to sign", body = Handout),
        (status = 404, description = "Chứng thư chưa đăng ký · Certificate not registered"),
        (status = 413, description = "Tệp quá lớn · Upload too large"),
        (status = 422, description = "Chứng thư hết hạn, bị thu hồi hoặc tệp không ký được · Certificate not valid, or the PDF cannot be signed"),
    ),
    security(("api_key" = []))
)]
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
            commune: None,
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
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SignatureBody {
    signature: Option<String>,
    cms: Option<String>,
}

/// Nộp giá trị chữ ký (hoặc cả CMS) để hoàn tất · Send the signature value (or a whole CMS)
/// to finish.
#[utoipa::path(
    post,
    path = "/api/v1/signing-sessions/{id}/signature",
    tag = "signing-sessions",
    params(("id" = String, Path, description = "Mã phiên · Session id")),
    request_body = SignatureBody,
    responses(
        (status = 200, description = "Tệp PDF đã ký · The signed PDF", content_type = "application/pdf", body = Pdf),
        (status = 404, description = "Không có phiên này · No such session"),
        (status = 409, description = "Phiên đã dùng · Session already used"),
        (status = 410, description = "Phiên hết hạn · Session expired"),
        (status = 422, description = "Chữ ký sai hoặc của người khác · Wrong or foreign signature"),
        (status = 502, description = "Máy chủ dấu thời gian không trả lời · The TSA failed"),
    ),
    security(("api_key" = []))
)]
async fn signature(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
    body: web::Json<SignatureBody>,
) -> Result<HttpResponse> {
    let decode = |field: &str, text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| Error::bad_request(format!("`{field}` is not base64: {e}")))
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
            return Err(Error::bad_request(
                "send exactly one of `signature` (the raw value over to_sign) and `cms` (a whole SignedData)",
            ))
        }
    };
    finish(state, client, id.into_inner(), returned).await
}

/// Nộp lại tệp PDF đã ký bằng công cụ trên máy tính · Send back the PDF a desktop tool signed.
/// A signed PDF is as large as an upload may be.
#[utoipa::path(
    post,
    path = "/api/v1/signing-sessions/{id}/signed-pdf",
    tag = "signing-sessions",
    params(("id" = String, Path, description = "Mã phiên · Session id")),
    request_body(content((Pdf = "application/pdf"))),
    responses(
        (status = 200, description = "Tệp PDF đã nhận · The signed PDF, kept", content_type = "application/pdf", body = Pdf),
        (status = 404, description = "Không có phiên này · No such session"),
        (status = 409, description = "Phiên đã dùng · Session already used"),
        (status = 410, description = "Phiên hết hạn · Session expired"),
        (status = 413, description = "Tệp quá lớn · Upload too large"),
        (status = 415, description = "Không phải PDF · Not a PDF body"),
        (status = 422, description = "Tệp không đúng bản đã giao hoặc chữ ký không hợp lệ · Not the handed-out bytes, or not one valid signature"),
    ),
    security(("api_key" = []))
)]
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
        return Err(kyso_core::Error::UnsupportedMedia(
            "send the signed PDF as the body, Content-Type: application/pdf".into(),
        )
        .into());
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
    Ok(response.body(super::body::Sliced::new(pdf)))
}

/// Tải tệp PDF chưa ký cho công cụ trên máy tính · The unsigned PDF for a desktop tool.
#[utoipa::path(
    get,
    path = "/api/v1/signing-sessions/{id}/document",
    tag = "signing-sessions",
    params(("id" = String, Path, description = "Mã phiên · Session id")),
    responses(
        (status = 200, description = "Tệp PDF chờ ký · The PDF to sign", content_type = "application/pdf", body = Pdf),
        (status = 404, description = "Không có phiên này · No such session"),
        (status = 409, description = "Phiên đã dùng · Session already used"),
        (status = 410, description = "Phiên hết hạn · Session expired"),
    ),
    security(("api_key" = []))
)]
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
