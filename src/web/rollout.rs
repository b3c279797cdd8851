//! `GET /rollout`: the roll-out dashboard for city IT — totals, a chart drawn server-side (SVG)
//! and a table of communes that sorts and filters through query parameters, so it needs no
//! JavaScript. The page is internal to the city: it asks for an API key (viewer is enough for
//! the statistics) once and opens a server-side session; the cookie (HttpOnly, SameSite=Strict,
//! `Max-Age`, scoped to `/rollout`) holds only the session id — never the key, and never in the
//! URL, which would land in access logs. Its forms check `Origin`.

use std::cmp::Ordering;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup, PreEscaped};
use serde::{Deserialize, Serialize};

use super::layout;
use crate::app::AppState;
use crate::clients::{self, Client, Role};
use crate::error::{Error, Result};
use crate::http::rollout::{csv_report, report, RolloutQuery};
use crate::rollout::readiness::{CommuneReadiness, Rollout};
use crate::{db, sessions};

const COOKIE: &str = "kyso_session";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/rollout", web::get().to(page))
        .route("/rollout/export.csv", web::get().to(csv))
        .route(
            "/rollout/communes/{code}",
            web::get().to(super::commune::page),
        )
        .route(
            "/rollout/requests/{id}/form.pdf",
            web::get().to(super::commune::form_pdf),
        )
        .route("/rollout/session", web::post().to(sign_in))
        .route("/rollout/sign-out", web::post().to(sign_out));
}

/// Filters and order of the table, all in the query string.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
struct View {
    #[serde(skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<String>,
}

/// The caller from `Authorization: Bearer` or the dashboard's session cookie.
pub(super) async fn caller(
    req: &HttpRequest,
    state: &web::Data<AppState>,
) -> Result<Option<Client>> {
    let key = crate::http::auth::bearer(req);
    let session = req.cookie(COOKIE).map(|c| c.value().to_owned());
    let state = state.clone();
    let found = match (key, session) {
        (Some(key), _) => {
            crate::http::blocking(move || clients::authenticate(&mut *db::get(&state.pool)?, &key))
                .await
        }
        (None, Some(id)) => {
            crate::http::blocking(move || sessions::client(&mut *db::get(&state.pool)?, &id)).await
        }
        (None, None) => return Ok(None),
    };
    match found {
        Ok(client) => Ok(Some(client)),
        Err(Error::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) fn sign_in_page(state: &AppState, failed: bool) -> HttpResponse {
    let body = html! {
        h1 { "Tiến độ cấp chứng thư số" }
        p { "Trang này dành cho cán bộ CNTT của thành phố. Nhập khóa API (quyền xem là đủ)." }
        @if failed { p.card.failed { "Khóa không hợp lệ." } }
        form.upload method="post" action="/rollout/session" {
            label { "Khóa API: " input type="password" name="key" autocomplete="off" required; }
            " "
            button type="submit" { "Xem" }
        }
    };
    HttpResponse::Unauthorized()
        .content_type("text/html; charset=utf-8")
        .body(layout(state.settings.dev_mode, "Tiến độ cấp chứng thư số", body).into_string())
}

#[derive(Deserialize)]
struct SignIn {
    key: String,
}

async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SignIn>,
) -> Result<HttpResponse> {
    crate::http::same_origin(&req, &state)?;
    let https = req.connection_info().scheme() == "https";
    let key = form.into_inner().key.trim().to_owned();
    let ttl = chrono::Duration::minutes(state.settings.security.session_minutes);
    let pool = state.clone();
    match crate::http::blocking(move || {
        let conn = &mut *db::get(&pool.pool)?;
        let client = clients::authenticate(conn, &key)?;
        sessions::open(conn, &client, ttl)
    })
    .await
    {
        Ok(session) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/rollout"))
            .cookie(
                Cookie::build(COOKIE, session)
                    .path("/rollout")
                    .http_only(true)
                    .same_site(SameSite::Strict)
                    .secure(https)
                    .max_age(actix_web::cookie::time::Duration::seconds(
                        ttl.num_seconds(),
                    ))
                    .finish(),
            )
            .finish()),
        Err(Error::Unauthorized) => Ok(sign_in_page(&state, true)),
        Err(e) => Err(e),
    }
}

async fn sign_out(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    crate::http::same_origin(&req, &state)?;
    if let Some(id) = req.cookie(COOKIE).map(|c| c.value().to_owned()) {
        let pool = state.clone();
        crate::http::blocking(move || sessions::close(&mut *db::get(&pool.pool)?, &id)).await?;
    }
    let mut gone = Cookie::build(COOKIE, "").path("/rollout").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/rollout"))
        .cookie(gone)
        .finish())
}

async fn csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    view: web::Query<View>,
) -> Result<HttpResponse> {
    let Some(client) = caller(&req, &state).await? else {
        return Ok(sign_in_page(&state, false));
    };
    let query = RolloutQuery {
        at: view.into_inner().at,
        commune: None,
    };
    csv_report(&state, client, query).await
}

async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    view: web::Query<View>,
) -> Result<HttpResponse> {
    let Some(client) = caller(&req, &state).await? else {
        return Ok(sign_in_page(&state, false));
    };
    let view = view.into_inner();
    let query = RolloutQuery {
        at: view.at.clone(),
        commune: None,
    };
    // A commune's page is not for viewers (statistics only): no links that would answer 403.
    let details = client.role != Role::Viewer;
    let rollout = report(&state, client, query).await?;
    let windows = &state.settings.rollout;
    let markup = dashboard(
        &rollout,
        &view,
        details,
        windows.expiry_warning_days.first().copied(),
        windows.signature_window_days,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(layout(state.settings.dev_mode, "Tiến độ cấp chứng thư số", markup).into_string()))
}

fn kind_plural(kind: &str) -> &str {
    match kind {
        "xã" => "xã",
        "phường" => "phường",
        _ => "đặc khu",
    }
}

fn dashboard(
    rollout: &Rollout,
    view: &View,
    details: bool,
    expiry_days: Option<u32>,
    signature_days: u32,
) -> Markup {
    let t = &rollout.totals;
    let mut rows: Vec<&CommuneReadiness> =
        rollout.communes.iter().filter(|r| keep(r, view)).collect();
    sort(&mut rows, view);
    let expiry_days = expiry_days.unwrap_or(30);
    html! {
        h1 { "Tiến độ cấp chứng thư số" }
        p.totals #totals {
            strong #ready-count { (t.ready) " / " (t.communes) }
            " xã, phường, đặc khu sẵn sàng ký số"
        }
        p.muted {
            "Đề nghị đang chờ: " strong #pending-count { (t.pending_requests) }
            " · quá hạn: " strong #overdue-count { (t.overdue_requests) }
            @for e in &t.expiring {
                " · hết hạn trong " (e.within_days) " ngày: " strong { (e.certificates) }
            }
            " · chữ ký số trong " (signature_days) " ngày: " strong { (t.signatures) }
        }
        (chart(rollout))
        form.filters method="get" action="/rollout" {
            label { "Tìm: " input type="search" name="q" value=[view.q.as_deref()] placeholder="tên hoặc mã"; }
            " "
            label { "Loại: "
                select name="kind" {
                    option value="" { "tất cả" }
                    @for k in crate::rollout::communes::KINDS {
                        option value=(k) selected[view.kind.as_deref() == Some(k)] { (k) }
                    }
                }
            }
            " "
            label { "Trạng thái: "
                select name="status" {
                    @for (value, label) in [("", "tất cả"), ("ready", "sẵn sàng"), ("not_ready", "chưa sẵn sàng"), ("overdue", "có đề nghị quá hạn")] {
                        option value=(value) selected[view.status.as_deref().unwrap_or("") == value] { (label) }
                    }
                }
            }
            @if let Some(sort) = &view.sort { input type="hidden" name="sort" value=(sort); }
            @if let Some(dir) = &view.dir { input type="hidden" name="dir" value=(dir); }
            @if let Some(at) = &view.at { input type="hidden" name="at" value=(at); }
            " "
            button type="submit" { "Lọc" }
            " "
            a href={ "/rollout/export.csv" (at_suffix(view)) } { "Tải CSV" }
        }
        table #communes {
            thead { tr {
                (header(view, "code", "Mã"))
                (header(view, "name", "Đơn vị"))
                (header(view, "kind", "Loại"))
                (header(view, "ready", "Sẵn sàng"))
                th { "Chứng thư cơ quan" }
                (header(view, "progress", "Người ký có chứng thư"))
                (header(view, "pending", "Đề nghị đang chờ"))
                (header(view, "overdue", "Quá hạn"))
                (header(view, "expiring", &format!("Hết hạn ≤ {expiry_days} ngày")))
                (header(view, "signatures", &format!("Chữ ký ({signature_days} ngày)")))
            } }
            tbody {
                @for r in &rows {
                    tr id={ "commune-" (r.code) } data-ready=(r.ready) {
                        td.code { (r.code) }
                        td.name {
                            @if details { a href={ "/rollout/communes/" (r.code) } { (r.name) } }
                            @else { (r.name) }
                        }
                        td.kind { (r.kind) }
                        td.ready { @if r.ready { span.ok { "Sẵn sàng" } } @else { span.bad { "Chưa" } } }
                        td.agency { @if r.agency_certificate_valid { "còn hiệu lực" } @else { span.bad { "chưa có" } } }
                        td.progress title=(waiting_title(r)) {
                            progress.bar value=(r.progress()) max="100" {}
                            span.count { (r.officials_covered) " / " (r.officials_required) }
                        }
                        td.pending {
                            (r.pending_requests)
                            @if let Some(days) = r.oldest_pending_days { span.muted { " (lâu nhất " (days) " ngày)" } }
                        }
                        td.overdue { @if r.overdue_requests > 0 { span.bad { (r.overdue_requests) } } @else { "0" } }
                        td.expiring { (r.expiring.first().map_or(0, |e| e.certificates)) }
                        td.signatures { (r.signatures) }
                    }
                }
            }
        }
        @if rows.is_empty() { p.muted { "Không có đơn vị nào khớp bộ lọc." } }
        p.muted {
            "Số liệu tại " (as_of(&rollout.at))
            ". Sẵn sàng: mọi chức danh bắt buộc đều có người giữ chứng thư số còn hiệu lực."
        }
        form method="post" action="/rollout/sign-out" { button type="submit" { "Thoát" } }
    }
}

/// `hh:mm dd/mm/yyyy +07:00`, as every time kyso shows.
fn as_of(at: &str) -> String {
    crate::rollout::parse_time(at).map_or_else(|_| at.to_owned(), crate::vietnam::date_time_minutes)
}

fn at_suffix(view: &View) -> String {
    view.at
        .as_ref()
        .and_then(|at| serde_urlencoded::to_string([("at", at)]).ok())
        .map(|q| format!("?{q}"))
        .unwrap_or_default()
}

fn waiting_title(r: &CommuneReadiness) -> String {
    if r.waiting.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = r.waiting.iter().map(|w| w.name.as_str()).collect();
    format!("Chưa có chứng thư: {}", names.join(", "))
}

/// A column heading that sorts by `key`, toggling the direction when already sorted by it.
fn header(view: &View, key: &str, label: &str) -> Markup {
    let current = view.sort.as_deref() == Some(key);
    let desc = current && view.dir.as_deref() != Some("desc");
    let target = View {
        sort: Some(key.to_owned()),
        dir: Some(if desc { "desc" } else { "asc" }.to_owned()),
        ..view.clone()
    };
    let href = format!(
        "/rollout?{}",
        serde_urlencoded::to_string(&target).unwrap_or_default()
    );
    let arrow = match (current, view.dir.as_deref()) {
        (false, _) => "",
        (true, Some("desc")) => " ▼",
        (true, _) => " ▲",
    };
    html! { th { a href=(href) { (label) (arrow) } } }
}

fn keep(r: &CommuneReadiness, view: &View) -> bool {
    let text = view.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let matches_text = text.is_none_or(|q| {
        let q = q.to_lowercase();
        r.name.to_lowercase().contains(&q) || r.code.contains(&q)
    });
    let kind = view.kind.as_deref().filter(|k| !k.is_empty());
    let matches_status = match view.status.as_deref() {
        Some("ready") => r.ready,
        Some("not_ready") => !r.ready,
        Some("overdue") => r.overdue_requests > 0,
        _ => true,
    };
    matches_text && kind.is_none_or(|k| r.kind == k) && matches_status
}

fn sort(rows: &mut [&CommuneReadiness], view: &View) {
    let key = view.sort.as_deref().unwrap_or("code");
    let by = |a: &CommuneReadiness, b: &CommuneReadiness| -> Ordering {
        match key {
            "name" => a.name.cmp(&b.name),
            "kind" => a.kind.cmp(&b.kind),
            "ready" => a.ready.cmp(&b.ready),
            "progress" => a.progress().cmp(&b.progress()),
            "pending" => a.pending_requests.cmp(&b.pending_requests),
            "overdue" => a.overdue_requests.cmp(&b.overdue_requests),
            "expiring" => {
                let first = |r: &CommuneReadiness| r.expiring.first().map_or(0, |e| e.certificates);
                first(a).cmp(&first(b))
            }
            "signatures" => a.signatures.cmp(&b.signatures),
            _ => Ordering::Equal,
        }
        .then_with(|| a.code.cmp(&b.code))
    };
    rows.sort_by(|a, b| by(a, b));
    if view.dir.as_deref() == Some("desc") {
        rows.reverse();
    }
}

/// Ready communes of each kind as horizontal bars, drawn here so the page needs no script.
fn chart(rollout: &Rollout) -> Markup {
    const WIDTH: u32 = 420;
    const BAR: u32 = 22;
    let kinds: Vec<_> = rollout
        .totals
        .by_kind
        .iter()
        .filter(|k| k.communes > 0)
        .collect();
    let height = u32::try_from(kinds.len()).unwrap_or(0) * (BAR + 12) + 8;
    let label_width = 90;
    let svg = html! {
        svg #chart xmlns="http://www.w3.org/2000/svg" width=(WIDTH + label_width + 80) height=(height)
            role="img" aria-label="Số đơn vị sẵn sàng ký số theo loại" {
            @for (i, k) in kinds.iter().enumerate() {
                @let y = u32::try_from(i).unwrap_or(0) * (BAR + 12) + 4;
                @let share = u32::try_from(k.ready * WIDTH as usize / k.communes.max(1)).unwrap_or(0);
                text x="0" y=(y + 16) font-size="14" { (kind_plural(&k.kind)) }
                rect x=(label_width) y=(y) width=(WIDTH) height=(BAR) fill="#e3e7ee" rx="4" {}
                rect x=(label_width) y=(y) width=(share) height=(BAR) fill="#1e7b34" rx="4" {}
                text x=(label_width + WIDTH + 8) y=(y + 16) font-size="14" { (k.ready) " / " (k.communes) }
            }
        }
    };
    html! { figure.chart { (PreEscaped(svg.into_string())) figcaption.muted { "Đơn vị sẵn sàng ký số theo loại" } } }
}
