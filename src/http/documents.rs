//! Issued documents: `POST /api/v1/extracts` (JSON), `POST /api/v1/certified-copies`
//! (multipart), `POST /api/v1/documents/{id}/seal`, and reading them back.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
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
use utoipa::ToSchema;

use super::openapi::Pdf;

#[derive(Serialize, ToSchema)]
struct DocumentList<'a> {
    documents: Vec<View<'a>>,
}

/// The body of `POST /api/v1/extracts`, for the API document: `extracts::parse` checks it
/// field by field (every problem at once) instead of deserializing this.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ExtractBody {
    kind: ExtractKind,
    /// The commune's code.
    commune: String,
    /// The signing official's signer id.
    signer: String,
    /// The official's PIN, when kyso holds the official's key; or give `certificate`.
    #[schema(format = Password)]
    pin: Option<String>,
    /// The official's certificate (PEM), when the official signs on their own device: the
    /// answer is `202` with a signing session to finish.
    certificate: Option<String>,
    /// The agency's PIN: seals the document at once (else `POST …/seal` later).
    #[schema(format = Password)]
    agency_pin: Option<String>,
    /// `B-B`, `B-T`, `B-LT` or `B-LTA`; by default the best the configuration allows.
    level: Option<String>,
    /// Birth, marriage, death: `{book, number, date, authority}`, the register entry.
    #[schema(value_type = Option<Object>)]
    register: Option<()>,
    /// Birth: `{full_name, sex, date_of_birth, place_of_birth, home_town, ethnicity, nationality, personal_id}`.
    #[schema(value_type = Option<Object>)]
    child: Option<()>,
    /// Birth: `{full_name, year_of_birth, ethnicity, nationality, residence}`; may be absent.
    #[schema(value_type = Option<Object>)]
    father: Option<()>,
    /// Birth: as `father`.
    #[schema(value_type = Option<Object>)]
    mother: Option<()>,
    /// Marriage: `{full_name, date_of_birth, ethnicity, nationality, residence, identity_document}`.
    #[schema(value_type = Option<Object>)]
    husband: Option<()>,
    /// Marriage: as `husband`.
    #[schema(value_type = Option<Object>)]
    wife: Option<()>,
    /// Death: `{full_name, date_of_birth, sex, ethnicity, nationality, identity_document, last_residence}`.
    #[schema(value_type = Option<Object>)]
    deceased: Option<()>,
    /// Death: `{date, time, place, cause}`.
    #[schema(value_type = Option<Object>)]
    death: Option<()>,
    /// Death: `{number, issuer, date}`.
    #[schema(value_type = Option<Object>)]
    death_notice: Option<()>,
    /// Marital status: `{full_name, date_of_birth, sex, ethnicity, nationality, identity_document, residence}`.
    #[schema(value_type = Option<Object>)]
    person: Option<()>,
    /// Marital status: `{place, from, to}`.
    #[schema(value_type = Option<Object>)]
    residence_period: Option<()>,
    /// Marital status: who asks.
    requester: Option<String>,
    /// Marital status: the status to confirm.
    marital_status: Option<String>,
    /// Marital status: what the confirmation is for.
    purpose: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum ExtractKind {
    Birth,
    Marriage,
    Death,
    MaritalStatus,
}

/// The fields of `POST /api/v1/certified-copies` (described, not built: the form is streamed).
#[derive(ToSchema)]
#[allow(dead_code)]
struct CertifiedCopyForm {
    commune: String,
    signer: String,
    /// The official's PIN; or give `certificate` (PEM) to sign on the official's device.
    #[schema(format = Password)]
    pin: Option<String>,
    certificate: Option<String>,
    #[schema(format = Password)]
    agency_pin: Option<String>,
    /// `B-B`, `B-T`, `B-LT` or `B-LTA`; by default the best the configuration allows.
    level: Option<String>,
    /// A PDF, or one or more JPEG/PNG pages (the field repeated).
    #[schema(value_type = Vec<String>, content_media_type = "application/octet-stream")]
    file: Vec<Vec<u8>>,
}

fn issuer(state: &AppState) -> Issuer<'_> {
    Issuer {
        signing: state.signing(),
        sessions: state.signing_sessions(),
        pool: &state.pool,
        settings: &state.settings,
    }
}

/// A document as the API shows it, with its links.
#[derive(Serialize, ToSchema)]
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
            Error::bad_request("Idempotency-Key must be 1 to 200 visible ASCII characters")
        })
}

/// An extract request is a few kilobytes of JSON.
const MAX_EXTRACT_BODY: usize = 256 * 1024;

/// Cấp trích lục hộ tịch hoặc xác nhận tình trạng hôn nhân · Issue a civil-status extract.
#[utoipa::path(
    post,
    path = "/api/v1/extracts",
    tag = "documents",
    params(("Idempotency-Key" = Option<String>, Header, description = "Gửi lại cùng khóa trả lại văn bản đã cấp · Replays return the first document")),
    request_body(content = ExtractBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Đã cấp · Issued", body = View),
        (status = 200, description = "Đã cấp trước đó với cùng Idempotency-Key · Issued before", body = View),
        (status = 404, description = "Không có xã hoặc người ký này · No such commune or signer"),
        (status = 409, description = "Idempotency-Key đã dùng cho yêu cầu khác · Key reused"),
        (status = 413, description = "Quá lớn · Too large"),
        (status = 422, description = "Trường không hợp lệ · Invalid fields"),
        (status = 423, description = "Khóa bị tạm khóa · Key locked"),
    ),
    security(("api_key" = []))
)]
pub async fn create_extract(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    // What failed in the request is reported only to a caller whose key holds.
    let key = idempotency_key(&req);
    let body = form::body(payload, Budget::new(&state.settings, MAX_EXTRACT_BODY)).await;
    let work = state.clone();
    let result = super::blocking(move || {
        // One connection for the key's check and the issuance.
        let mut conn = db::get(&work.pool)?;
        let client = caller.check(&mut conn)?;
        let (request, extract) = extracts::parse(&body?, key?)?;
        issuer(&work).issue_extract(&mut conn, &client, &request, &extract)
    })
    .await?;
    Ok(issued(&state, result))
}

/// Cấp bản sao chứng thực từ bản chính · Issue a certified copy.
#[utoipa::path(
    post,
    path = "/api/v1/certified-copies",
    tag = "documents",
    params(("Idempotency-Key" = Option<String>, Header, description = "Gửi lại cùng khóa trả lại văn bản đã cấp · Replays return the first document")),
    request_body(content = CertifiedCopyForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Đã cấp · Issued", body = View),
        (status = 200, description = "Đã cấp trước đó với cùng Idempotency-Key · Issued before", body = View),
        (status = 404, description = "Không có xã hoặc người ký này · No such commune or signer"),
        (status = 408, description = "Tải lên quá chậm · Body too slow"),
        (status = 409, description = "Idempotency-Key đã dùng cho yêu cầu khác · Key reused"),
        (status = 413, description = "Quá lớn · Too large"),
        (status = 415, description = "Không phải PDF, JPEG hay PNG · Not PDF, JPEG or PNG"),
        (status = 422, description = "Trường không hợp lệ, PDF đã ký · Invalid fields, PDF already signed"),
        (status = 423, description = "Khóa bị tạm khóa · Key locked"),
    ),
    security(("api_key" = []))
)]
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
    let result = super::blocking(move || {
        issuer(&work).certify_copy(&mut *db::get(&work.pool)?, &client, &request, files)
    })
    .await?;
    Ok(issued(&state, result))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealBody {
    agency_pin: String,
}

/// Đóng dấu của cơ quan lên văn bản · Add the agency's seal.
#[utoipa::path(
    post,
    path = "/api/v1/documents/{id}/seal",
    tag = "documents",
    params(("id" = String, Path, description = "Mã văn bản · Document id")),
    request_body = SealBody,
    responses(
        (status = 200, description = "Văn bản đã đóng dấu · The sealed document", body = View),
        (status = 404, description = "Không có văn bản này · No such document"),
        (status = 409, description = "Đã đóng dấu · Already sealed"),
        (status = 423, description = "Khóa bị tạm khóa · Key locked"),
    ),
    security(("api_key" = []))
)]
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

/// Các văn bản đã cấp, mới nhất trước · Issued documents, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/documents",
    tag = "documents",
    params(ListQuery),
    responses((status = 200, description = "Tối đa 500 · At most 500", body = DocumentList)),
    security(("api_key" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let work = state.clone();
    let found =
        super::blocking(move || documents::list(&mut *db::get(&work.pool)?, &client, &query))
            .await?;
    let documents = found.iter().map(|d| view(&state, d)).collect();
    Ok(HttpResponse::Ok().json(DocumentList { documents }))
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

/// Một văn bản · One document.
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}",
    tag = "documents",
    params(("id" = String, Path, description = "Mã văn bản · Document id")),
    responses(
        (status = 200, description = "Văn bản · The document", body = View),
        (status = 404, description = "Không có văn bản này · No such document"),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let work = state.clone();
    let document = super::blocking(move || readable(&work, &client, &id)).await?;
    Ok(HttpResponse::Ok().json(view(&state, &document)))
}

/// Tệp PDF đã cấp · The issued PDF.
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}/pdf",
    tag = "documents",
    params(("id" = String, Path, description = "Mã văn bản · Document id")),
    responses(
        (status = 200, description = "Tệp PDF · The PDF", content_type = "application/pdf", body = Pdf),
        (status = 404, description = "Không có văn bản này · No such document"),
    ),
    security(("api_key" = []))
)]
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
        .body(super::body::Sliced::new(bytes)))
}

/// Sổ cấp số: mọi số đã lấy, đã cấp, bị hủy (kèm lý do) hay đang chờ · A numbering book: every
/// number taken, issued, void (with the reason) or pending.
#[utoipa::path(
    get,
    path = "/api/v1/numbering-books/{commune}/{kind}/{year}",
    tag = "documents",
    params(
        ("commune" = String, Path, description = "Mã xã · Commune code"),
        ("kind" = String, Path, description = "`birth`, `marriage`, `death`, `marital_status`, `certified_copy`"),
        ("year" = i32, Path, description = "Năm · Year"),
    ),
    responses(
        (status = 200, description = "Sổ và các số · The book and its numbers", body = documents::numbering::Listing),
        (status = 404, description = "Không có sổ này · No such book"),
    ),
    security(("api_key" = []))
)]
pub async fn book(
    state: web::Data<AppState>,
    client: Client,
    path: web::Path<(String, String, i32)>,
) -> Result<HttpResponse> {
    let (commune, kind, year) = path.into_inner();
    let kind = Kind::parse(&kind)
        .ok_or_else(|| Error::bad_request(format!("unknown document kind `{kind}`")))?;
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
