//! `GET /rollout/communes/{code}`: one commune for city IT — who holds which certificate, who
//! is still waiting, and which requests the CA holds, with their deadlines.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout;
use super::rollout::{caller, sign_in_page};
use crate::app::AppState;
use crate::config::RolloutSettings;
use crate::db;
use crate::db::models::{Certificate, Commune, IssuanceRequest, Official};
use crate::error::Result;
use crate::http::rollout::moment;
use crate::rollout::{
    certificates, communes, ensure_may_read, officials, parse_time, requests, Position,
    RequestKind, RequestState,
};
use crate::vietnam;

#[derive(Deserialize)]
pub(super) struct AtQuery {
    at: Option<String>,
}

struct Detail {
    commune: Commune,
    officials: Vec<Official>,
    certificates: Vec<Certificate>,
    open: Vec<IssuanceRequest>,
}

pub(super) async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    query: web::Query<AtQuery>,
) -> Result<HttpResponse> {
    let Some(client) = caller(&req, &state).await? else {
        return Ok(sign_in_page(&state, false));
    };
    let code = code.into_inner();
    ensure_may_read(&client, &code)?;
    let now = moment(&client, query.at.as_deref())?;
    let pool = state.clone();
    let detail = crate::http::blocking(move || {
        let conn = &mut *db::get(&pool.pool)?;
        let mut open = requests::list(conn, Some(&code), None)?;
        open.retain(|r| RequestState::parse(&r.state).is_ok_and(|s| s.is_open()));
        Ok(Detail {
            commune: communes::get(conn, &code)?,
            officials: officials::list(conn, Some(&code))?,
            certificates: certificates::list(conn, Some(&code), None)?,
            open,
        })
    })
    .await?;
    let title = detail.commune.name.clone();
    let body = render(&detail, now, &state.settings.rollout);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(layout(state.settings.dev_mode, &title, body).into_string()))
}

fn date(text: &str) -> String {
    parse_time(text).map_or_else(|_| text.to_owned(), |t| vietnam::date(vietnam::day(t)))
}

/// What a person reading the page needs to know about someone's certificates at `now`.
fn certificate_status(held: &[&Certificate], now: DateTime<Utc>) -> Markup {
    let now_text = db::timestamp(now);
    if let Some(valid) = held
        .iter()
        .filter(|c| c.is_valid_at(now))
        .max_by(|a, b| a.not_after.cmp(&b.not_after))
    {
        return html! { span.ok { "còn hiệu lực" } " đến " (date(&valid.not_after)) };
    }
    match held.iter().max_by(|a, b| a.not_after.cmp(&b.not_after)) {
        None => html! { span.bad { "chưa có" } },
        Some(c) if c.revoked_at.as_ref().is_some_and(|at| *at <= now_text) => {
            html! { span.bad { "đã thu hồi" } " ngày " (date(c.revoked_at.as_deref().unwrap_or_default())) }
        }
        Some(c) if c.not_after < now_text => {
            html! { span.bad { "đã hết hạn" } " ngày " (date(&c.not_after)) }
        }
        Some(c) => html! { "hiệu lực từ " (date(&c.not_before)) },
    }
}

/// A personal id or tax code shown by its last four characters only.
fn masked(id: Option<&str>) -> String {
    id.map(|id| {
        let tail: String = id
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    })
    .unwrap_or_default()
}

fn render(d: &Detail, now: DateTime<Utc>, service: &RolloutSettings) -> Markup {
    let name_of = |id: &str| {
        d.officials
            .iter()
            .find(|o| o.id == id)
            .map_or(id.to_owned(), |o| o.name.clone())
    };
    html! {
        p { a href="/rollout" { "← Tiến độ cấp chứng thư số" } }
        h1 { (d.commune.name) }
        p.muted { "Mã " (d.commune.code) " · " (d.commune.kind) " · " (d.commune.province) }
        h2 { "Người ký và chứng thư số" }
        table #officials {
            thead { tr { th { "Họ và tên" } th { "Chức vụ" } th { "Định danh" } th { "Chứng thư số" } } }
            tbody {
                @for o in d.officials.iter().filter(|o| o.active) {
                    @let held: Vec<&Certificate> = d.certificates.iter().filter(|c| c.official_id == o.id).collect();
                    tr id={ "official-" (o.id) } {
                        td { (o.name) }
                        td { (Position::label_of(&o.position)) }
                        td { (masked(o.personal_id.as_deref().or(o.tax_code.as_deref()))) }
                        td.certificate { (certificate_status(&held, now)) }
                    }
                }
            }
        }
        h2 { "Đề nghị đang xử lý" }
        @if d.open.is_empty() {
            p.muted { "Không có đề nghị nào đang chờ." }
        } @else {
            table #requests {
                thead { tr { th { "Người" } th { "Nội dung" } th { "Mẫu" } th { "Trạng thái" } th { "Gửi ngày" } th { "Hạn xử lý" } } }
                tbody {
                    @for r in &d.open {
                        @let sent = r.submitted_at.as_deref().and_then(|t| parse_time(t).ok());
                        @let late = sent.is_some_and(|s| RequestState::parse(&r.state).is_ok_and(|st| st.is_with_ca()) && requests::is_overdue(s, service, now));
                        tr id={ "request-" (r.id) } {
                            td { (name_of(&r.official_id)) }
                            td { (RequestKind::label_of(&r.kind)) }
                            td { a href={ "/rollout/requests/" (r.id) "/form.pdf" } { "Mẫu " (r.form) } }
                            td { (RequestState::label_of(&r.state)) }
                            td { (r.submitted_at.as_deref().map(date).unwrap_or_default()) }
                            td {
                                @if let Some(sent) = sent {
                                    (vietnam::date(requests::deadline(sent, service)))
                                    @if late { " " span.bad { "quá hạn" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The pre-filled request form, for the dashboard's cookie.
pub(super) async fn form_pdf(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let Some(client) = caller(&req, &state).await? else {
        return Ok(sign_in_page(&state, false));
    };
    crate::http::rollout::form_pdf(&state, client, id.into_inner()).await
}
