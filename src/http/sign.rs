//! `POST /api/v1/sign`: multipart `file`, `signer`, `pin`, optional `reason`, `location`,
//! `level` (B-B | B-T | B-LT | B-LTA) and `visible` (JSON `{page, rect}`); answers the signed PDF.

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;

use super::form::{Budget, Form};
use crate::app::AppState;
use crate::clients::Client;
use crate::error::{Error, Result};
use crate::signing::{Level, Placement, SignRequest};

pub async fn sign(
    state: web::Data<AppState>,
    client: Client,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let mut form = Form::read(req.headers(), payload, Budget::upload(&state.settings)).await?;
    let pdf = form.file("file")?;
    let options = Options::read(&mut form)?;
    let request = SignRequest {
        signer_id: form.text("signer")?,
        pin: SecretString::from(form.text("pin")?),
        reason: options.reason,
        location: options.location,
        level: options.level,
        visible: options.visible,
    };
    let signed =
        super::blocking(move || state.signing().sign(Some(&client), &pdf, &request)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .body(signed))
}

/// How a signature is made, as the signing routes take it: optional `reason`, `location`,
/// `level` (default B-B) and `visible` (JSON `{page, rect}`).
pub(super) struct Options {
    pub reason: Option<String>,
    pub location: Option<String>,
    pub level: Level,
    pub visible: Option<Placement>,
}

impl Options {
    pub fn read(form: &mut Form) -> Result<Self> {
        Ok(Options {
            reason: form.optional("reason"),
            location: form.optional("location"),
            level: form
                .optional("level")
                .map(|l| Level::parse(&l))
                .transpose()?
                .unwrap_or_default(),
            visible: form
                .optional("visible")
                .map(|v| {
                    serde_json::from_str::<Placement>(&v).map_err(|e| {
                        Error::BadRequest(format!(
                            "`visible` must be {{\"page\": n, \"rect\": [x1, y1, x2, y2]}}: {e}"
                        ))
                    })
                })
                .transpose()?,
        })
    }
}

/// `POST /api/v1/extend`: multipart `file` (a signed PDF, anyone's) and `level` (B-LT |
/// B-LTA, default B-LT); answers the PDF with the validation data (and document timestamp)
/// appended, earlier revisions untouched.
pub async fn extend(
    state: web::Data<AppState>,
    client: Client,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    if client.role == crate::clients::Role::Viewer {
        return Err(Error::Forbidden(
            "a viewer key does not extend signatures".into(),
        ));
    }
    let mut form = Form::read(req.headers(), payload, Budget::upload(&state.settings)).await?;
    let pdf = form.file("file")?;
    let level = form
        .optional("level")
        .map(|l| Level::parse_long_term(&l))
        .transpose()?
        .unwrap_or(Level::BLt);
    let extended = super::blocking(move || state.signing().extend(&pdf, level)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .body(extended))
}
