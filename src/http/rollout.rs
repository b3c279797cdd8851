//! Roll-out tracking API: communes, officials, certificates, CRLs, issuance requests, the
//! readiness report (JSON and CSV) and the audit log. Reading needs any key (a portal key
//! sees only its commune); changing needs admin, or the commune's own portal key.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::form::{self, Budget};
use crate::app::AppState;
use crate::clients::{Client, Role};
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};
use crate::pdf::render::request_form;
use crate::rollout::officials::{NewOfficial, OfficialChange};
use crate::rollout::readiness::{self, Rollout};
use crate::rollout::requests::NewRequest;
use crate::rollout::{
    audit, certificates, communes, crl, ensure_admin, ensure_may_read, ensure_not_viewer,
    officials, requests, RequestState,
};

/// Certificates and CRLs are small; a CA's full CRL stays well below this.
const MAX_PKI_UPLOAD: usize = 8 * 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/communes", web::get().to(list_communes))
        .route("/communes/import", web::post().to(import_communes))
        .route("/communes/{code}", web::get().to(get_commune))
        .route("/officials", web::get().to(list_officials))
        .route("/officials", web::post().to(create_official))
        .route("/officials/{id}", web::get().to(get_official))
        .route("/officials/{id}", web::patch().to(update_official))
        .route("/certificates", web::get().to(list_certificates))
        .route("/certificates", web::post().to(upload_certificate))
        .route("/certificates/{id}", web::get().to(get_certificate))
        .route("/crls", web::post().to(import_crl))
        .route("/issuance-requests", web::get().to(list_requests))
        .route("/issuance-requests", web::post().to(create_request))
        .route("/issuance-requests/{id}", web::get().to(get_request))
        .route(
            "/issuance-requests/{id}/transitions",
            web::post().to(transition_request),
        )
        .route(
            "/issuance-requests/{id}/form.pdf",
            web::get().to(request_form_pdf),
        )
        .route("/rollout", web::get().to(rollout_json))
        .route("/rollout.csv", web::get().to(rollout_csv))
        .route("/audit", web::get().to(audit_log));
}

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
                .map_err(|e| Error::BadRequest(format!("`at` must be an RFC 3339 time: {e}")))
        }
    }
}

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
        return Ok(HttpResponse::Ok().json(json!({"commune": commune, "readiness": readiness})));
    }
    ensure_may_read(&client, &code)?;
    let body = with_conn(&state, move |conn, state| {
        let commune = communes::get(conn, &code)?;
        let readiness = readiness::compute(conn, &state.settings.rollout, Utc::now(), Some(&code))?
            .communes
            .pop();
        let officials = officials::list(conn, Some(&code))?;
        Ok(json!({"commune": commune, "readiness": readiness, "officials": officials}))
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

async fn get_official(
    state: web::Data<AppState>,
    client: Client,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let body = with_conn(&state, move |conn, _| {
        let official = officials::read(conn, &client, &id)?;
        let certificates = certificates::list(conn, None, Some(&official.id))?;
        Ok(json!({"official": official, "certificates": certificates}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

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

#[derive(Deserialize)]
struct UploadQuery {
    holder: Option<String>,
}

/// The body is the certificate itself, PEM or DER; `?holder=` names the official explicitly.
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
            .map_err(|e| Error::CrlMalformed(e.to_string()))?;
        state.revocation.store(&state.settings.pki.crl_dir, &der)?;
        Ok(report)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

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
        Ok(json!({"request": request, "events": events, "deadline": deadline}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transition {
    to: String,
    #[serde(default)]
    note: String,
}

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
        request_form::render(
            &requests::form(&request, &official, &commune, now)?,
            crate::signing::vietnam_time(now),
        )
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", "inline; filename=\"de-nghi.pdf\""))
        .body(pdf))
}

#[derive(Deserialize)]
pub(crate) struct RolloutQuery {
    pub at: Option<String>,
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

async fn rollout_json(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<RolloutQuery>,
) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(report(&state, client, query.into_inner()).await?))
}

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

#[derive(Deserialize)]
struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    limit: Option<i64>,
}

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
