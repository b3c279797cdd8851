//! Roll-out tracking API: communes, officials, certificates, CRLs, issuance requests, the
//! readiness report (JSON and CSV) and the audit log. Reading needs any key (a portal key
//! sees only its commune); changing needs admin, or the commune's own portal key.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::form::{self, Budget};
use super::openapi::{Csv, Pdf, PkixBytes};
use crate::app::AppState;
use crate::clients::{Client, Role};
use crate::db::models::{
    AuditEntry, Certificate, Commune, IssuanceRequest, Official, RequestEvent,
};
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};
use crate::pdf::render::request_form;
use crate::rollout::certificates::Registered;
use crate::rollout::communes::ImportReport;
use crate::rollout::crl::CrlImport;
use crate::rollout::officials::{NewOfficial, OfficialChange};
use crate::rollout::readiness::{self, CommuneReadiness, Rollout};
use crate::rollout::requests::NewRequest;
use crate::rollout::{
    audit, certificates, communes, crl, ensure_admin, ensure_may_read, ensure_not_viewer,
    officials, requests, RequestState,
};

/// Certificates and CRLs are small; a CA's full CRL stays well below this.
const MAX_PKI_UPLOAD: usize = 8 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/communes").get(list_communes))
        .service(web::resource("/communes/import").post(import_communes))
        .service(web::resource("/communes/{code}").get(get_commune))
        .service(
            web::resource("/officials")
                .get(list_officials)
                .post(create_official),
        )
        .service(
            web::resource("/officials/{id}")
                .get(get_official)
                .patch(update_official),
        )
        .service(
            web::resource("/certificates")
                .get(list_certificates)
                .post(upload_certificate),
        )
        .service(web::resource("/certificates/{id}").get(get_certificate))
        .service(web::resource("/crls").post(import_crl))
        .service(
            web::resource("/issuance-requests")
                .get(list_requests)
                .post(create_request),
        )
        .service(web::resource("/issuance-requests/{id}").get(get_request))
        .service(web::resource("/issuance-requests/{id}/transitions").post(transition_request))
        .service(web::resource("/issuance-requests/{id}/form.pdf").get(request_form_pdf))
        .service(web::resource("/rollout").get(rollout_json))
        .service(web::resource("/rollout.csv").get(rollout_csv))
        .service(web::resource("/audit").get(audit_log));
}

/// A commune with its readiness, and for all but a viewer key its officials.
#[derive(Serialize, ToSchema)]
struct CommuneDetail {
    commune: Commune,
    readiness: Option<CommuneReadiness>,
    #[serde(skip_serializing_if = "Option::is_none")]
    officials: Option<Vec<Official>>,
}

#[derive(Serialize, ToSchema)]
struct OfficialDetail {
    official: Official,
    certificates: Vec<Certificate>,
}

#[derive(Serialize, ToSchema)]
struct RequestDetail {
    request: IssuanceRequest,
    events: Vec<RequestEvent>,
    /// When the CA should have answered (`rollout.ca_deadline_days` after submission).
    deadline: Option<String>,
}

const ID: &str = "Mã · Id";

/// Runs `work` with a database connection on the blocking pool.
async fn with_conn<T: Send + 'static>(
    state: &web::Data<AppState>,
    work: impl FnOnce(&mut DbConnection, &AppState) -> Result<T> + Send + 'static,
) -> Result<T> {
    let state = state.clone();
    super::blocking(move || work(&mut *db::get(&state.pool)?, &state)).await
}

/// The commune a list of officials, certificates or requests (personal data) is limited to;
/// a viewer key reads none.
fn personal_scope(client: &Client, asked: Option<String>) -> Result<Option<String>> {
    ensure_not_viewer(client)?;
    scope(client, asked)
}

/// The commune a list is limited to: what was asked, and for a portal key always its own.
fn scope(client: &Client, asked: Option<String>) -> Result<Option<String>> {
    match (client.role, asked) {
        (Role::Portal, asked) => {
            let own = client.commune.clone();
            if asked.is_some() && asked != own {
                return Err(Error::Forbidden(
                    "a portal key reads only its commune".into(),
                ));
            }
            Ok(own)
        }
        (_, asked) => Ok(asked),
    }
}

/// The moment a report describes: now, or for an admin any `at` (RFC 3339), to look ahead at
/// expiries and deadlines.
pub(crate) fn moment(client: &Client, at: Option<&str>) -> Result<DateTime<Utc>> {
    match at {
        None => Ok(Utc::now()),
        Some(text) => {
            ensure_admin(client)?;
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| Error::bad_request(format!("`at` must be an RFC 3339 time: {e}")))
        }
    }
}

/// Các xã · Communes (a portal key: its own).
#[utoipa::path(
    get,
    path = "/api/v1/communes",
    tag = "rollout",
    responses((status = 200, description = "Các xã · Communes", body = Vec<Commune>)),
    security(("api_key" = []))
)]
async fn list_communes(state: web::Data<AppState>, client: Client) -> Result<HttpResponse> {
    let scope = scope(&client, None)?;
    let list = with_conn(&state, move |conn, _| {
        let mut list = communes::list(conn)?;
        list.retain(|c| scope.as_ref().is_none_or(|s| *s == c.code));
        Ok(list)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Nhập danh sách xã từ CSV · Import communes from CSV (admin).
#[utoipa::path(
    post,
    path = "/api/v1/communes/import",
    tag = "rollout",
    request_body(content = Csv, content_type = "text/csv", description = "`code,name,kind,province`, một dòng mỗi xã · one row per commune"),
    responses((status = 200, description = "Số xã tạo, sửa, giữ nguyên · Created, updated, unchanged", body = ImportReport), (status = 413, description = "Quá lớn · Too large"), (status = 422, description = "Dòng sai, không nhập gì · Bad rows, nothing imported")),
    security(("api_key" = []))
)]
async fn import_communes(
    state: web::Data<AppState>,
    client: Client,
    payload: web::Payload,
) -> Result<HttpResponse> {
    ensure_admin(&client)?;
    let csv = form::body(payload, Budget::new(&state.settings, MAX_PKI_UPLOAD)).await?;
    let report = with_conn(&state, move |conn, _| {
        communes::import_csv(conn, &client.id, &csv)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Một xã và mức sẵn sàng · A commune and its readiness.
#[utoipa::path(
    get,
    path = "/api/v1/communes/{code}",
    tag = "rollout",
    params(("code" = String, Path, description = "Mã xã · Commune code")),
    responses((status = 200, description = "Xã · The commune", body = CommuneDetail), (status = 404, description = "Không có xã này · No such commune")),
    security(("api_key" = []))
)]
async fn get_commune(
    state: web::Data<AppState>,
    client: Client,
    code: web::Path<String>,
) -> Result<HttpResponse> {
    let code = code.into_inner();
    if client.role == Role::Viewer {
        // Statistics only: the commune and its readiness, without names.
        let query = RolloutQuery {
            at: None,
            commune: Some(code.clone()),
        };
        let readiness = report(&state, client, query).await?.communes.pop();
        let commune = with_conn(&state, move |conn, _| communes::get(conn, &code)).await?;
        return Ok(HttpResponse::Ok().json(CommuneDetail {
            commune,
            readiness,
            officials: None,
        }));
    }
    ensure_may_read(&client, &code)?;
    let body = with_conn(&state, move |conn, state| {
        let commune = communes::get(conn, &code)?;
        let readiness = readiness::compute(conn, &state.settings.rollout, Utc::now(), Some(&code))?
            .communes
            .pop();
        let officials = officials::list(conn, Some(&code))?;
        Ok(CommuneDetail {
            commune,
            readiness,
            officials: Some(officials),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
struct ListQuery {
    commune: Option<String>,
    official: Option<String>,
    state: Option<String>,
}

/// Cán bộ và cơ quan · Officials and agencies.
#[utoipa::path(
    get,
    path = "/api/v1/officials",
    tag = "rollout",
    params(("commune" = Option<String>, Query, description = "Mã xã · Commune code")),
    responses((status = 200, description = "Cán bộ · Officials", body = Vec<Official>)),
    security(("api_key" = []))
)]
async fn list_officials(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let scope = personal_scope(&client, query.into_inner().commune)?;
    let list = with_conn(&state, move |conn, _| {
        officials::list(conn, scope.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Thêm cán bộ hoặc cơ quan · Add an official or agency.
#[utoipa::path(
    post,
    path = "/api/v1/officials",
    tag = "rollout",
    request_body = NewOfficial,
    responses((status = 201, description = "Đã thêm · Created", body = Official), (status = 404, description = "Không có xã này · No such commune"), (status = 409, description = "Trùng · Duplicate")),
    security(("api_key" = []))
)]
async fn create_official(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<NewOfficial>,
) -> Result<HttpResponse> {
    let official = with_conn(&state, move |conn, _| {
        officials::create(conn, &client, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(official))
}

/// Một cán bộ và chứng thư · An official and certificates.
#[utoipa::path(
    get,
    path = "/api/v1/officials/{id}",
    tag = "rollout",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "Cán bộ · The official", body = OfficialDetail), (status = 404, description = "Không có · Not found")),
    security(("api_key" = []))
)]
async fn get_official(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let body = with_conn(&state, move |conn, _| {
        let official = officials::read(conn, &client, &id)?;
        let certificates = certificates::list(conn, None, Some(&official.id))?;
        Ok(OfficialDetail {
            official,
            certificates,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Sửa cán bộ · Change an official.
#[utoipa::path(
    patch,
    path = "/api/v1/officials/{id}",
    tag = "rollout",
    params(("id" = String, Path, description = ID)),
    request_body = OfficialChange,
    responses((status = 200, description = "Đã sửa · Changed", body = Official), (status = 404, description = "Không có · Not found")),
    security(("api_key" = []))
)]
async fn update_official(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
    body: web::Json<OfficialChange>,
) -> Result<HttpResponse> {
    let official = with_conn(&state, move |conn, _| {
        officials::update(conn, &client, &id, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Ok().json(official))
}

/// Chứng thư số đã đăng ký · Registered certificates.
#[utoipa::path(
    get,
    path = "/api/v1/certificates",
    tag = "rollout",
    params(("commune" = Option<String>, Query, description = "Mã xã · Commune code"), ("official" = Option<String>, Query, description = "Mã cán bộ · Official id")),
    responses((status = 200, description = "Chứng thư · Certificates", body = Vec<Certificate>), (status = 404, description = "Không có cán bộ này · No such official")),
    security(("api_key" = []))
)]
async fn list_certificates(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let scope = personal_scope(&client, query.commune)?;
    let list = with_conn(&state, move |conn, _| {
        if let Some(id) = &query.official {
            officials::read(conn, &client, id)?;
        }
        certificates::list(conn, scope.as_deref(), query.official.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// The holder's official id, when the certificate's UID does not name them.
    holder: Option<String>,
}

/// The body is the certificate itself, PEM or DER; `?holder=` names the official explicitly.
/// Đăng ký chứng thư số · Register a certificate.
#[utoipa::path(
    post,
    path = "/api/v1/certificates",
    tag = "rollout",
    params(UploadQuery),
    request_body(content = PkixBytes, content_type = "application/octet-stream", description = "Chứng thư PEM hoặc DER · The certificate, PEM or DER"),
    responses((status = 201, description = "Đã đăng ký · Registered", body = Registered), (status = 404, description = "Không có cán bộ này · No such official"), (status = 409, description = "Đã có · Already registered"), (status = 413, description = "Quá lớn · Too large"), (status = 422, description = "Không biết người giữ · Holder unknown")),
    security(("api_key" = []))
)]
async fn upload_certificate(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<UploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let bytes = form::body(payload, Budget::new(&state.settings, MAX_PKI_UPLOAD)).await?;
    let holder = query.into_inner().holder;
    let registered = with_conn(&state, move |conn, state| {
        certificates::upload(conn, &client, &bytes, holder.as_deref(), &state.trust)
    })
    .await?;
    Ok(HttpResponse::Created().json(registered))
}

/// Một chứng thư · One certificate.
#[utoipa::path(
    get,
    path = "/api/v1/certificates/{id}",
    tag = "rollout",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "Chứng thư · The certificate", body = Certificate), (status = 404, description = "Không có · Not found")),
    security(("api_key" = []))
)]
async fn get_certificate(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let certificate = with_conn(&state, move |conn, _| {
        certificates::read(conn, &client, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(certificate))
}

/// Nhập danh sách thu hồi · Import a CRL (admin).
#[utoipa::path(
    post,
    path = "/api/v1/crls",
    tag = "rollout",
    request_body(content = PkixBytes, content_type = "application/octet-stream", description = "CRL PEM hoặc DER · The CRL, PEM or DER"),
    responses((status = 200, description = "Đã nhập · Imported", body = CrlImport), (status = 413, description = "Quá lớn · Too large"), (status = 422, description = "CA không tin cậy · Untrusted CA")),
    security(("api_key" = []))
)]
async fn import_crl(
    state: web::Data<AppState>,
    client: Client,
    payload: web::Payload,
) -> Result<HttpResponse> {
    ensure_admin(&client)?;
    let bytes = form::body(payload, Budget::new(&state.settings, MAX_PKI_UPLOAD)).await?;
    let report = with_conn(&state, move |conn, state| {
        // A CRL must be signed by a CA this instance trusts (trust folder, dev CAs).
        let report = crl::import(conn, &client.id, &bytes, state.trust.anchors())?;
        // The verifier judges signatures against it from now on too.
        let der = openssl::x509::X509Crl::from_der(&bytes)
            .or_else(|_| openssl::x509::X509Crl::from_pem(&bytes))
            .and_then(|crl| crl.to_der())
            .map_err(|e| kyso_core::Error::CrlMalformed(e.to_string()))?;
        state
            .revocation
            .files
            .store(&state.settings.pki.crl_dir, &der)?;
        Ok(report)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Đề nghị cấp chứng thư · Issuance requests.
#[utoipa::path(
    get,
    path = "/api/v1/issuance-requests",
    tag = "rollout",
    params(("commune" = Option<String>, Query, description = "Mã xã · Commune code"), ("state" = Option<RequestState>, Query, description = "Trạng thái · State")),
    responses((status = 200, description = "Đề nghị · Requests", body = Vec<IssuanceRequest>)),
    security(("api_key" = []))
)]
async fn list_requests(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let scope = personal_scope(&client, query.commune)?;
    let wanted = query
        .state
        .as_deref()
        .map(RequestState::parse)
        .transpose()?;
    let list = with_conn(&state, move |conn, _| {
        requests::list(conn, scope.as_deref(), wanted)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Lập đề nghị cấp chứng thư · Open an issuance request.
#[utoipa::path(
    post,
    path = "/api/v1/issuance-requests",
    tag = "rollout",
    request_body = NewRequest,
    responses((status = 201, description = "Đã lập · Created", body = IssuanceRequest), (status = 404, description = "Không có cán bộ này · No such official"), (status = 409, description = "Đã có đề nghị đang mở · One is open")),
    security(("api_key" = []))
)]
async fn create_request(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<NewRequest>,
) -> Result<HttpResponse> {
    let request = with_conn(&state, move |conn, _| {
        requests::create(conn, &client, body.into_inner())
    })
    .await?;
    Ok(HttpResponse::Created().json(request))
}

/// Một đề nghị và lịch sử · A request and its history.
#[utoipa::path(
    get,
    path = "/api/v1/issuance-requests/{id}",
    tag = "rollout",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "Đề nghị · The request", body = RequestDetail), (status = 404, description = "Không có · Not found")),
    security(("api_key" = []))
)]
async fn get_request(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let body = with_conn(&state, move |conn, state| {
        let request = requests::read(conn, &client, &id)?;
        let events = requests::events(conn, &id)?;
        let deadline = request
            .submitted_at
            .as_deref()
            .map(crate::rollout::parse_time)
            .transpose()?
            .map(|sent| requests::deadline(sent, &state.settings.rollout).to_string());
        Ok(RequestDetail {
            request,
            events,
            deadline,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Transition {
    /// The new state.
    #[schema(value_type = RequestState)]
    to: String,
    #[serde(default)]
    note: String,
}

/// Chuyển trạng thái đề nghị · Move a request on.
#[utoipa::path(
    post,
    path = "/api/v1/issuance-requests/{id}/transitions",
    tag = "rollout",
    params(("id" = String, Path, description = ID)),
    request_body = Transition,
    responses((status = 200, description = "Đã chuyển · Moved", body = IssuanceRequest), (status = 404, description = "Không có · Not found"), (status = 409, description = "Không được chuyển · Not allowed")),
    security(("api_key" = []))
)]
async fn transition_request(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
    body: web::Json<Transition>,
) -> Result<HttpResponse> {
    let body = body.into_inner();
    let to = RequestState::parse(&body.to)?;
    let request = with_conn(&state, move |conn, _| {
        requests::transition(conn, &client, &id, to, &body.note)
    })
    .await?;
    Ok(HttpResponse::Ok().json(request))
}

/// Mẫu đề nghị điền sẵn · The pre-filled request form.
#[utoipa::path(
    get,
    path = "/api/v1/issuance-requests/{id}/form.pdf",
    tag = "rollout",
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "Mẫu 01/02/03", content_type = "application/pdf", body = Pdf), (status = 404, description = "Không có · Not found")),
    security(("api_key" = []))
)]
async fn request_form_pdf(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    form_pdf(&state, client, id.into_inner()).await
}

/// The pre-filled written request (Mẫu 01/02/03) of request `id`, as PDF.
pub(crate) async fn form_pdf(
    state: &web::Data<AppState>,
    client: Client,
    id: String,
) -> Result<HttpResponse> {
    let pdf = with_conn(state, move |conn, _| {
        let request = requests::read(conn, &client, &id)?;
        let official = officials::get(conn, &request.official_id)?;
        let commune = communes::get(conn, &request.commune_code)?;
        let now = Utc::now();
        Ok(request_form::render(
            &requests::form(&request, &official, &commune, now)?,
            crate::vietnam::vietnam_time(now),
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", "inline; filename=\"de-nghi.pdf\""))
        .body(pdf))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RolloutQuery {
    /// Admin only: the report at another moment (RFC 3339), to look ahead.
    #[param(format = DateTime)]
    pub at: Option<String>,
    /// Only this commune.
    pub commune: Option<String>,
}

/// The readiness report as `client` may see it.
pub(crate) async fn report(
    state: &web::Data<AppState>,
    client: Client,
    query: RolloutQuery,
) -> Result<Rollout> {
    let now = moment(&client, query.at.as_deref())?;
    let scope = scope(&client, query.commune)?;
    let mut rollout = with_conn(state, move |conn, state| {
        readiness::compute(conn, &state.settings.rollout, now, scope.as_deref())
    })
    .await?;
    if client.role == Role::Viewer {
        // Statistics only: who is still waiting is personal data.
        for commune in &mut rollout.communes {
            commune.waiting.clear();
        }
    }
    Ok(rollout)
}

/// Mức sẵn sàng của các xã · Readiness of the communes.
#[utoipa::path(
    get,
    path = "/api/v1/rollout",
    tag = "rollout",
    params(RolloutQuery),
    responses((status = 200, description = "Báo cáo · The report", body = Rollout)),
    security(("api_key" = []))
)]
async fn rollout_json(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<RolloutQuery>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(report(&state, client, query.into_inner()).await?))
}

/// Mức sẵn sàng, CSV · Readiness as CSV.
#[utoipa::path(
    get,
    path = "/api/v1/rollout.csv",
    tag = "rollout",
    params(RolloutQuery),
    responses((status = 200, description = "Một xã mỗi dòng · One commune per row", content_type = "text/csv", body = Csv)),
    security(("api_key" = []))
)]
async fn rollout_csv(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<RolloutQuery>,
) -> Result<HttpResponse> {
    csv_report(&state, client, query.into_inner()).await
}

/// The readiness report as CSV, one commune per row.
pub(crate) async fn csv_report(
    state: &web::Data<AppState>,
    client: Client,
    query: RolloutQuery,
) -> Result<HttpResponse> {
    let rollout = report(state, client, query).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "code".to_owned(),
        "name".into(),
        "kind".into(),
        "ready".into(),
        "agency_certificate_valid".into(),
        "officials_required".into(),
        "officials_covered".into(),
        "pending_requests".into(),
        "oldest_pending_days".into(),
        "overdue_requests".into(),
    ];
    let windows = state.settings.rollout.expiry_warning_days.clone();
    header.extend(windows.iter().map(|d| format!("expiring_{d}d")));
    header.push("signatures".into());
    out.write_record(header.iter().map(|c| inert(c)))
        .map_err(Error::internal)?;
    for r in &rollout.communes {
        let mut row = vec![
            r.code.clone(),
            r.name.clone(),
            r.kind.clone(),
            r.ready.to_string(),
            r.agency_certificate_valid.to_string(),
            r.officials_required.to_string(),
            r.officials_covered.to_string(),
            r.pending_requests.to_string(),
            r.oldest_pending_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            r.overdue_requests.to_string(),
        ];
        row.extend(r.expiring.iter().map(|e| e.certificates.to_string()));
        row.push(r.signatures.to_string());
        out.write_record(row.iter().map(|c| inert(c)))
            .map_err(Error::internal)?;
    }
    let body = out.into_inner().map_err(Error::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"rollout.csv\"",
        ))
        .body(body))
}

/// A cell a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is a formula to Excel and LibreOffice (OWASP "CSV injection"), so it gets a leading `'`.
fn inert(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    /// 1–1000, default 100.
    limit: Option<i64>,
}

/// Nhật ký thay đổi · Audit log (admin).
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "rollout",
    params(AuditQuery),
    responses((status = 200, description = "Mới nhất trước · Newest first", body = Vec<AuditEntry>)),
    security(("api_key" = []))
)]
async fn audit_log(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse> {
    ensure_admin(&client)?;
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let list = with_conn(&state, move |conn, _| {
        audit::list(conn, q.entity.as_deref(), q.entity_id.as_deref(), limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}
