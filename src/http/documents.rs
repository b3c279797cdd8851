//! Issued documents: `POST /api/v1/extracts` (JSON), `POST /api/v1/certified-copies`
//! (multipart), `POST /api/v1/documents/{id}/seal`, and reading them back.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::form::{self, Budget, Form};
use crate::app::AppState;
use crate::clients::Client;
use crate::db::{self, models::Document};
use crate::documents::{
    self, extracts, Issuance, IssueRequest, Issuer, Kind, ListQuery, OfficialKey,
};
use crate::error::{Error, FieldError, Result};
use crate::pki::cms::sha256;
use crate::signing::Level;

fn issuer(state: &AppState) -> Issuer<'_> {
    Issuer {
        signing: state.signing(),
        sessions: state.signing_sessions(),
        pool: &state.pool,
        settings: &state.settings,
    }
}

/// A document as the API shows it, with its links.
#[derive(Serialize)]
struct View<'a> {
    #[serde(flatten)]
    document: &'a Document,
    lookup_url: String,
    pdf: String,
}

fn view<'a>(state: &AppState, document: &'a Document) -> View<'a> {
    View {
        document,
        lookup_url: format!(
            "{}/d/{}",
            state.settings.public_base_url.trim_end_matches('/'),
            document.lookup_code
        ),
        pdf: format!("/api/v1/documents/{}/pdf", document.id),
    }
}

/// 201 with the new document, or 200 with the one an earlier request with the same
/// Idempotency-Key created; 202 with the number and the signing session when the official
/// signs on their own device.
fn issued(state: &AppState, issuance: Issuance) -> HttpResponse {
    let issued = match issuance {
        Issuance::Issued(issued) => *issued,
        Issuance::Session {
            handout,
            number_label,
            book_label,
        } => {
            return HttpResponse::Accepted()
                .insert_header((
                    header::LOCATION,
                    format!("/api/v1/signing-sessions/{}", handout.id),
                ))
                .json(serde_json::json!({
                    "number_label": number_label,
                    "book": book_label,
                    "signing_session": handout,
                }))
        }
    };
    let mut response = if issued.created {
        let document = &issued.document;
        state
            .metrics
            .document(&document.commune_code, &document.kind);
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((
            header::LOCATION,
            format!("/api/v1/documents/{}", issued.document.id),
        ))
        .json(view(state, &issued.document))
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(|k| Some(k.to_owned()))
        .ok_or_else(|| {
            Error::BadRequest("Idempotency-Key must be 1 to 200 visible ASCII characters".into())
        })
}

/// An extract request is a few kilobytes of JSON.
const MAX_EXTRACT_BODY: usize = 256 * 1024;

pub async fn create_extract(
    state: web::Data<AppState>,
    client: Client,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let key = idempotency_key(&req)?;
    let body = form::body(payload, Budget::new(&state.settings, MAX_EXTRACT_BODY)).await?;
    let (request, extract) = extracts::parse(&body, key)?;
    let work = state.clone();
    let result =
        super::blocking(move || issuer(&work).issue_extract(&client, &request, &extract)).await?;
    Ok(issued(&state, result))
}

pub async fn create_certified_copy(
    state: web::Data<AppState>,
    client: Client,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let key = idempotency_key(&req)?;
    let mut form = Form::read(req.headers(), payload, Budget::upload(&state.settings)).await?;
    let mut missing = Vec::new();
    let mut text = |form: &mut Form, name: &str| {
        form.optional(name).unwrap_or_else(|| {
            missing.push(FieldError {
                field: name.into(),
                message: "is required".into(),
            });
            String::new()
        })
    };
    let commune = text(&mut form, "commune");
    let signer = text(&mut form, "signer");
    let official_key = match (form.optional("pin"), form.file_or_text("certificate").ok()) {
        (Some(pin), None) => OfficialKey::Pin(SecretString::from(pin)),
        (None, Some(certificate)) => OfficialKey::Certificate(certificate),
        _ => {
            missing.push(FieldError {
                field: "pin".into(),
                message: "give either pin (kyso holds the official's key) or certificate (the official signs on their own device)".into(),
            });
            OfficialKey::Pin(SecretString::from(String::new()))
        }
    };
    let level = form.optional("level");
    let files = form.all_files("file");
    if files.is_empty() {
        missing.push(FieldError {
            field: "file".into(),
            message: "is required: a PDF, or one or more JPEG/PNG pages".into(),
        });
    }
    let level = match level.map(|l| Level::parse(&l)) {
        Some(Ok(level)) => Some(level),
        Some(Err(_)) => {
            missing.push(FieldError {
                field: "level".into(),
                message: "must be B-B, B-T, B-LT or B-LTA".into(),
            });
            None
        }
        None => None,
    };
    if !missing.is_empty() {
        return Err(Error::ValidationFailed(missing));
    }
    let mut asked = format!("{commune}\n{signer}\n");
    if let Some(level) = level {
        asked.push_str(&format!("level {}\n", level.as_str()));
    }
    for file in &files {
        asked.push_str(&hex::encode(sha256(file)?));
        asked.push('\n');
    }
    let request = IssueRequest {
        kind: Kind::CertifiedCopy,
        commune,
        signer,
        official_key,
        agency_pin: form.optional("agency_pin").map(SecretString::from),
        level,
        idempotency_key: key,
        request_sha256: hex::encode(sha256(asked.as_bytes())?),
    };
    let work = state.clone();
    let result =
        super::blocking(move || issuer(&work).certify_copy(&client, &request, files)).await?;
    Ok(issued(&state, result))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealBody {
    agency_pin: String,
}

pub async fn seal(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
    body: web::Json<SealBody>,
) -> Result<HttpResponse> {
    let pin = SecretString::from(body.into_inner().agency_pin);
    let work = state.clone();
    let document = super::blocking(move || issuer(&work).seal(&client, &id, &pin)).await?;
    Ok(HttpResponse::Ok().json(view(&state, &document)))
}

pub async fn list(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let work = state.clone();
    let found =
        super::blocking(move || documents::list(&mut *db::get(&work.pool)?, &client, &query))
            .await?;
    let views: Vec<View<'_>> = found.iter().map(|d| view(&state, d)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "documents": views })))
}

/// The document, if this client may read it (404 otherwise: its existence is not disclosed).
fn readable(state: &AppState, client: &Client, id: &str) -> Result<Document> {
    crate::rollout::ensure_not_viewer(client)?;
    let document = documents::find(&mut *db::get(&state.pool)?, id)?;
    if documents::may_read(client, &document.commune_code) {
        Ok(document)
    } else {
        Err(Error::NotFound(format!("document `{id}`")))
    }
}

pub async fn get(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let work = state.clone();
    let document = super::blocking(move || readable(&work, &client, &id)).await?;
    Ok(HttpResponse::Ok().json(view(&state, &document)))
}

pub async fn pdf(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let (document, bytes) = super::blocking(move || {
        let document = readable(&state, &client, &id)?;
        let bytes = issuer(&state).pdf(&mut *db::get(&state.pool)?, &document)?;
        Ok((document, bytes))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}-{}.pdf\"",
                document.kind, document.lookup_code
            ),
        ))
        .body(bytes))
}

/// `GET /api/v1/numbering-books/{commune}/{kind}/{year}`: every number taken, issued, void
/// (with the reason) or pending.
pub async fn book(
    state: web::Data<AppState>,
    client: Client,
    path: web::Path<(String, String, i32)>,
) -> Result<HttpResponse> {
    let (commune, kind, year) = path.into_inner();
    let kind = Kind::parse(&kind)
        .ok_or_else(|| Error::BadRequest(format!("unknown document kind `{kind}`")))?;
    let listing = super::blocking(move || {
        documents::numbering::listing(
            &mut *db::get(&state.pool)?,
            &client,
            &commune,
            kind.as_str(),
            year,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(listing))
}
