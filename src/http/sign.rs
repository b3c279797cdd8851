//! `POST /api/v1/sign`: multipart `file`, `signer`, `pin`, optional `reason`, `location`,
//! `level` (B-B | B-T | B-LT | B-LTA) and `visible` (JSON `{page, rect}`); answers the signed PDF.

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;

use super::auth::Caller;
use super::form::{Budget, Form, Upload};
use crate::app::AppState;
use crate::clients::Client;
use crate::db;
use crate::error::{Error, Result};
use crate::signing::{Level, Placement, SignRequest, Signed};

/// The fields of `POST /api/v1/sign`, for the API document: the handler streams the form
/// within its byte budget (`form.rs`) rather than building this.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct SignForm {
    /// The PDF to sign.
    #[schema(value_type = String, content_media_type = "application/pdf")]
    file: Vec<u8>,
    /// The signer's id (`kyso signer add --id`).
    signer: String,
    /// The PIN of the signer's key.
    #[schema(format = Password)]
    pin: String,
    reason: Option<String>,
    location: Option<String>,
    level: Option<LevelName>,
    /// `{"page": 1, "rect": [x1, y1, x2, y2]}` in PDF points: a visible signature.
    #[schema(example = json!("{\"page\": 1, \"rect\": [50, 50, 250, 120]}"))]
    visible: Option<String>,
}

/// The PAdES baseline levels (ETSI EN 319 142-1); `B-B` when absent.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
enum LevelName {
    #[schema(rename = "B-B")]
    BB,
    #[schema(rename = "B-T")]
    BT,
    #[schema(rename = "B-LT")]
    BLt,
    #[schema(rename = "B-LTA")]
    BLta,
}

/// Ký một tệp PDF · Sign a PDF (PAdES, incremental update).
#[utoipa::path(
    post,
    path = "/api/v1/sign",
    tag = "signing",
    request_body(content = SignForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Tệp đã ký · The signed PDF", content_type = "application/pdf", body = super::openapi::Pdf),
        (status = 404, description = "Không có người ký này · No such signer"),
        (status = 408, description = "Tải lên quá chậm · Body too slow"),
        (status = 413, description = "Tệp quá lớn · Upload too large"),
        (status = 422, description = "Chứng thư không dùng được, PDF đã chứng nhận · Certificate not valid now, certified PDF"),
        (status = 423, description = "Khóa bị tạm khóa vì sai PIN · Key locked after wrong PINs"),
        (status = 502, description = "Máy chủ cấp dấu thời gian lỗi · TSA failed"),
    ),
    security(("api_key" = []))
)]
pub async fn sign(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    // A form that failed is reported only to a caller whose key holds.
    let form = Form::read(req.headers(), payload, Budget::upload(&state.settings)).await;
    // On SQLite, with a connection free at once and the upload in memory (at most 1 MiB), a
    // B-B signature by a held key is reads of a local file, a parse and one RSA signature in
    // memory: CPU work with no waiting, done on this worker without two thread hand-offs.
    // Anything else, and every connection of PostgreSQL (a round trip per statement), goes to
    // the blocking pool.
    // Asked of SQLite only: a PostgreSQL connection checked out is pinged first.
    let free = db::is_sqlite(&state.settings.database_url)
        .then(|| state.pool.try_get())
        .flatten();
    let signed = match free {
        Some(conn) => {
            let (job, held) = super::on_worker(|| {
                let mut job = Job::new(state, conn, caller, form)?;
                let held = job.sign_held()?;
                Ok((job, held))
            })?;
            match held {
                Some(signed) => signed,
                None => super::blocking(move || job.sign()).await?,
            }
        }
        None => {
            super::blocking(move || {
                let conn = db::get(&state.pool)?;
                Job::new(state, conn, caller, form)?.sign()
            })
            .await?
        }
    };
    signed.logged.committed().await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .body(super::body::Sliced::new(signed.pdf)))
}

/// A signing request whose caller's key holds and whose form was read.
struct Job {
    state: web::Data<AppState>,
    conn: db::PooledConnection,
    client: Client,
    pdf: Upload,
    request: SignRequest,
}

impl Job {
    fn new(
        state: web::Data<AppState>,
        mut conn: db::PooledConnection,
        caller: Caller,
        form: Result<Form>,
    ) -> Result<Self> {
        let client = caller.check(&mut conn)?;
        let mut form = form?;
        let pdf = form.upload("file")?;
        let options = Options::read(&mut form)?;
        let request = SignRequest {
            signer_id: form.text("signer")?,
            pin: SecretString::from(form.text("pin")?),
            reason: options.reason,
            location: options.location,
            level: options.level,
            visible: options.visible,
        };
        Ok(Job {
            state,
            conn,
            client,
            pdf,
            request,
        })
    }

    /// `Signing::sign_held` of an upload in memory; `None` for anything slower.
    fn sign_held(&mut self) -> Result<Option<Signed>> {
        let Upload::Memory(pdf) = &self.pdf else {
            return Ok(None);
        };
        self.state
            .signing()
            .sign_held(&mut self.conn, Some(&self.client), pdf, &self.request)
    }

    /// `Signing::sign`: blocking work.
    fn sign(mut self) -> Result<Signed> {
        self.pdf.read(|pdf| {
            self.state
                .signing()
                .sign(&mut self.conn, Some(&self.client), pdf, &self.request)
        })
    }
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
                        Error::bad_request(format!(
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
/// The fields of `POST /api/v1/extend` (described, not built: see [`SignForm`]).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ExtendForm {
    /// A signed PDF, anyone's.
    #[schema(value_type = String, content_media_type = "application/pdf")]
    file: Vec<u8>,
    /// `B-LT` (default) or `B-LTA`.
    level: Option<LevelName>,
}

/// Bổ sung dữ liệu kiểm tra dài hạn · Extend to B-LT or B-LTA.
#[utoipa::path(
    post,
    path = "/api/v1/extend",
    tag = "signing",
    request_body(content = ExtendForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Tệp đã bổ sung · The extended PDF", content_type = "application/pdf", body = super::openapi::Pdf),
        (status = 408, description = "Tải lên quá chậm · Body too slow"),
        (status = 413, description = "Tệp quá lớn · Upload too large"),
        (status = 502, description = "Máy chủ cấp dấu thời gian lỗi · TSA failed"),
    ),
    security(("api_key" = []))
)]
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
    let pdf = form.upload("file")?;
    let level = form
        .optional("level")
        .map(|l| Level::parse_long_term(&l))
        .transpose()?
        .unwrap_or(Level::BLt);
    let extended =
        super::blocking(move || pdf.read(|pdf| state.signing().extend(pdf, level))).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .body(super::body::Sliced::new(extended)))
}
