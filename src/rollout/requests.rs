//! Issuance requests (đề nghị cấp, gia hạn, thay đổi thông tin, thu hồi chứng thư số,
//! khôi phục thiết bị) and their life-cycle. Every transition is an event with who, when and
//! a note; a transition the state machine does not allow is refused, naming the allowed ones.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use diesel::prelude::*;
use serde::Deserialize;

use super::{
    audit, ensure_may_move, ensure_may_write, ensure_visible, officials, Form, OfficialKind,
    Position, RequestKind, RequestState,
};
use crate::clients::Client;
use crate::config::RolloutSettings;
use crate::db::models::{Commune, IssuanceRequest, Official, RequestEvent};
use crate::db::schema::{issuance_requests, request_events};
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};
use crate::pdf::render::request_form::RequestForm;
use crate::vietnam::{self, vietnam_time};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub official_id: String,
    pub kind: RequestKind,
    /// Defaults to Mẫu 01 for a person and Mẫu 02 for an agency.
    pub form: Option<Form>,
    #[serde(default)]
    pub note: String,
}

pub fn create(
    conn: &mut DbConnection,
    client: &Client,
    new: NewRequest,
) -> Result<IssuanceRequest> {
    conn.transaction(|conn| {
        let official = officials::read(conn, client, &new.official_id)?;
        ensure_may_write(client, &official.commune_code)?;
        let form = new
            .form
            .unwrap_or(if official.kind == OfficialKind::Agency.as_str() {
                Form::Mau02
            } else {
                Form::Mau01
            });
        let now = db::now();
        let request = IssuanceRequest {
            id: super::new_id(),
            commune_code: official.commune_code,
            official_id: official.id,
            kind: new.kind.as_str().into(),
            form: form.as_str().into(),
            state: RequestState::Drafted.as_str().into(),
            note: new.note.clone(),
            certificate_id: None,
            submitted_at: None,
            received_at: None,
            closed_at: None,
            created_at: now.clone(),
            updated_at: now,
        };
        diesel::insert_into(issuance_requests::table)
            .values(&request)
            .execute(conn)?;
        event(
            conn,
            &client.id,
            &request.id,
            None,
            RequestState::Drafted,
            &new.note,
        )?;
        audit::record(
            conn,
            &client.id,
            "request.create",
            &request.id,
            None,
            Some(&request),
        )?;
        Ok(request)
    })
}

/// Moves request `id` to `to` on behalf of `client`.
pub fn transition(
    conn: &mut DbConnection,
    client: &Client,
    id: &str,
    to: RequestState,
    note: &str,
) -> Result<IssuanceRequest> {
    ensure_may_move(client, to)?;
    conn.transaction(|conn| {
        let request = read(conn, client, id)?;
        ensure_may_write(client, &request.commune_code)?;
        apply(conn, &client.id, request, to, note, None)
    })
}

/// Checks and records one transition inside the caller's transaction.
pub(super) fn apply(
    conn: &mut DbConnection,
    actor: &str,
    old: IssuanceRequest,
    to: RequestState,
    note: &str,
    certificate: Option<&str>,
) -> Result<IssuanceRequest> {
    let from = RequestState::parse(&old.state)?;
    if !from.next().contains(&to) {
        let allowed = from.next().iter().map(|s| s.as_str()).collect::<Vec<_>>();
        return Err(Error::TransitionNotAllowed {
            from: from.as_str().into(),
            to: to.as_str().into(),
            allowed: if allowed.is_empty() {
                format!("none, `{from}` is final")
            } else {
                allowed.join(", ")
            },
        });
    }
    let now = db::now();
    let mut new = old.clone();
    new.state = to.as_str().into();
    new.updated_at = now.clone();
    match to {
        RequestState::Submitted => new.submitted_at = Some(now.clone()),
        RequestState::Received => new.received_at = Some(now.clone()),
        _ => new.closed_at = Some(now.clone()),
    }
    if let Some(certificate) = certificate {
        new.certificate_id = Some(certificate.to_owned());
    }
    // Only if nobody moved it meanwhile: concurrent transitions cannot both pass the check.
    let updated = diesel::update(
        issuance_requests::table
            .find(&old.id)
            .filter(issuance_requests::state.eq(&old.state)),
    )
    .set(&new)
    .execute(conn)?;
    if updated == 0 {
        return Err(Error::Conflict(format!(
            "request `{}` changed meanwhile; reload it",
            old.id
        )));
    }
    event(conn, actor, &old.id, Some(from), to, note)?;
    audit::record(
        conn,
        actor,
        "request.transition",
        &old.id,
        Some(&old),
        Some(&new),
    )?;
    // A revocation carried out by the CA: the registry follows without waiting for its CRL.
    if to == RequestState::Issued && new.kind == RequestKind::Revocation.as_str() {
        super::certificates::revoke_holder(conn, actor, &new)?;
    }
    Ok(new)
}

fn event(
    conn: &mut DbConnection,
    actor: &str,
    request: &str,
    from: Option<RequestState>,
    to: RequestState,
    note: &str,
) -> Result<()> {
    let seq: i64 = request_events::table
        .filter(request_events::request_id.eq(request))
        .count()
        .get_result(conn)?;
    diesel::insert_into(request_events::table)
        .values(&RequestEvent {
            id: super::new_id(),
            request_id: request.to_owned(),
            seq: i32::try_from(seq + 1).map_err(Error::internal)?,
            actor: actor.to_owned(),
            from_state: from.map(|s| s.as_str().into()),
            to_state: to.as_str().into(),
            note: note.to_owned(),
            created_at: db::now(),
        })
        .execute(conn)
        .map_err(super::unique_or("an event of this request"))?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<IssuanceRequest> {
    issuance_requests::table
        .find(id)
        .select(IssuanceRequest::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("issuance request `{id}`")))
}

pub fn read(conn: &mut DbConnection, client: &Client, id: &str) -> Result<IssuanceRequest> {
    let request = get(conn, id)?;
    ensure_visible(client, &request.commune_code, || {
        format!("issuance request `{id}`")
    })?;
    Ok(request)
}

pub fn events(conn: &mut DbConnection, id: &str) -> Result<Vec<RequestEvent>> {
    Ok(request_events::table
        .filter(request_events::request_id.eq(id))
        .order(request_events::seq)
        .select(RequestEvent::as_select())
        .load(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    commune: Option<&str>,
    state: Option<RequestState>,
) -> Result<Vec<IssuanceRequest>> {
    let mut query = issuance_requests::table
        .select(IssuanceRequest::as_select())
        .into_boxed();
    if let Some(code) = commune {
        query = query.filter(issuance_requests::commune_code.eq(code.to_owned()));
    }
    if let Some(state) = state {
        query = query.filter(issuance_requests::state.eq(state.as_str()));
    }
    Ok(query
        .order(issuance_requests::created_at.desc())
        .load(conn)?)
}

/// The last day (Vietnam time) the CA may still hold a request sent on `sent`: the service
/// time in working days later, Saturdays, Sundays and the configured holidays not counted.
pub fn deadline(sent: DateTime<Utc>, service: &RolloutSettings) -> NaiveDate {
    let mut day = vietnam::day(sent);
    let mut left = service.service_days;
    while left > 0 {
        day = day + Days::new(1);
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        if !weekend && !service.holidays.contains(&day) {
            left -= 1;
        }
    }
    day
}

/// Held by the CA past its service time at `now`.
pub fn is_overdue(sent: DateTime<Utc>, service: &RolloutSettings, now: DateTime<Utc>) -> bool {
    vietnam::day(now) > deadline(sent, service)
}

/// Where the written requests go (to confirm: the CA's exact department).
const ADDRESSEE: &str = "Kính gửi: Ban Cơ yếu Chính phủ";

/// The words of the written request for `request`, dated `now` (Vietnam time).
pub fn form(
    request: &IssuanceRequest,
    official: &Official,
    commune: &Commune,
    now: DateTime<Utc>,
) -> Result<RequestForm> {
    let kind = RequestKind::parse(&request.kind)?;
    let title = match kind {
        RequestKind::RestoreDevice => "GIẤY ĐỀ NGHỊ KHÔI PHỤC THIẾT BỊ LƯU KHÓA BÍ MẬT".to_owned(),
        other => {
            let verb = match other {
                RequestKind::Renewal => "GIA HẠN",
                RequestKind::ChangeInfo => "THAY ĐỔI THÔNG TIN",
                RequestKind::Revocation => "THU HỒI",
                _ => "CẤP",
            };
            format!("GIẤY ĐỀ NGHỊ {verb} CHỨNG THƯ CHỮ KÝ SỐ")
        }
    };
    let agency = format!("UBND {}", commune.name.to_uppercase());
    let place = commune
        .province
        .trim_start_matches("Thành phố ")
        .trim_start_matches("Tỉnh ");
    let today = vietnam_time(now);
    let mut fields = if official.kind == OfficialKind::Agency.as_str() {
        vec![
            ("Tên cơ quan".to_owned(), official.name.clone()),
            (
                "Mã số thuế".to_owned(),
                official.tax_code.clone().unwrap_or_default(),
            ),
            (
                "Địa chỉ".to_owned(),
                format!("{}, {}", commune.name, commune.province),
            ),
        ]
    } else {
        vec![
            ("Họ và tên".to_owned(), official.name.clone()),
            (
                "Số định danh cá nhân".to_owned(),
                official.personal_id.clone().unwrap_or_default(),
            ),
            (
                "Chức vụ".to_owned(),
                Position::parse(&official.position)?.label().to_owned(),
            ),
            (
                "Cơ quan công tác".to_owned(),
                format!("{agency}, {}", commune.province),
            ),
        ]
    };
    fields.push(("Nội dung đề nghị".to_owned(), kind.label().to_owned()));
    if !request.note.trim().is_empty() {
        fields.push(("Ghi chú".to_owned(), request.note.clone()));
    }
    Ok(RequestForm {
        form: Form::parse(&request.form)?.label().to_owned(),
        agency,
        place_and_date: format!(
            "{place}, ngày {:02} tháng {:02} năm {}",
            today.day(),
            today.month(),
            today.year()
        ),
        title,
        addressee: ADDRESSEE.to_owned(),
        fields,
        signature_title: "THỦ TRƯỞNG CƠ QUAN".to_owned(),
        signature_hint: "(Ký, ghi rõ họ tên và đóng dấu)".to_owned(),
        footer: format!("kyso · mã đề nghị {}", request.id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        let mut service = crate::config::Settings::default().rollout;
        // Friday 27 Nov 2026, 10:00 in Vietnam: three working days end on Wednesday 2 Dec.
        let friday = at("2026-11-27T03:00:00Z");
        assert_eq!(deadline(friday, &service), date(2026, 12, 2));
        assert!(!is_overdue(friday, &service, at("2026-12-02T16:59:00Z")));
        // 00:00 on Thursday in Vietnam.
        assert!(is_overdue(friday, &service, at("2026-12-02T17:00:00Z")));
        // Sent late on Sunday evening in Vietnam (still Sunday there): Mon, Tue, Wed.
        let sunday = at("2026-11-29T16:00:00Z");
        assert_eq!(deadline(sunday, &service), date(2026, 12, 2));
        // A holiday on the Monday pushes the deadline to Thursday.
        service.holidays = vec![date(2026, 11, 30)];
        assert_eq!(deadline(friday, &service), date(2026, 12, 3));
    }
}
