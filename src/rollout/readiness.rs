//! Readiness (mức sẵn sàng ký số) per commune at a given moment: is the agency certificate
//! valid, is each required position held by someone with a valid certificate, who is still
//! waiting, which requests are pending or overdue at the CA, what expires soon, and how many
//! signatures were made lately. A commune is *ready* when every required position is covered.
//!
//! Five queries load what is needed for all communes at once; the rest is arithmetic here, so
//! the cost does not grow with one query per commune.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::Serialize;

use super::{parse_time, requests, Position, RequestState};
use crate::config::RolloutSettings;
use crate::db::models::Commune;
use crate::db::schema::{certificates, communes, issuance_requests, officials, signing_log};
use crate::db::{self, DbConnection};
use crate::error::Result;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Rollout {
    pub at: String,
    pub totals: Totals,
    pub communes: Vec<CommuneReadiness>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub communes: usize,
    pub ready: usize,
    pub by_kind: Vec<KindTotal>,
    pub pending_requests: usize,
    pub overdue_requests: usize,
    pub expiring: Vec<Expiring>,
    pub signatures: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KindTotal {
    pub kind: String,
    pub communes: usize,
    pub ready: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Expiring {
    pub within_days: u32,
    pub certificates: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommuneReadiness {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub province: String,
    pub ready: bool,
    pub agency_certificate_valid: bool,
    pub positions: Vec<Coverage>,
    /// Active officials in required positions, and how many of them hold a valid certificate.
    pub officials_required: usize,
    pub officials_covered: usize,
    /// Required officials without a valid certificate.
    pub waiting: Vec<Waiting>,
    pub pending_requests: usize,
    pub oldest_pending_days: Option<i64>,
    pub overdue_requests: usize,
    /// Officials whose last valid certificate ends within each warning window.
    pub expiring: Vec<Expiring>,
    pub signatures: i64,
}

impl CommuneReadiness {
    /// Share of required officials covered, 0–100.
    pub fn progress(&self) -> u32 {
        if self.officials_required == 0 {
            return 0;
        }
        let share = self.officials_covered * 100 / self.officials_required;
        u32::try_from(share).unwrap_or(100)
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub position: Position,
    pub label: &'static str,
    pub officials: usize,
    pub covered: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Waiting {
    pub official_id: String,
    pub name: String,
    pub position: String,
}

/// Readiness of every commune (or just `only`) at `now`.
pub fn compute(
    conn: &mut DbConnection,
    settings: &RolloutSettings,
    now: DateTime<Utc>,
    only: Option<&str>,
) -> Result<Rollout> {
    let now_text = db::timestamp(now);
    let mut communes_q = communes::table.select(Commune::as_select()).into_boxed();
    let mut officials_q = officials::table
        .filter(officials::active.eq(true))
        .select((
            officials::id,
            officials::commune_code,
            officials::name,
            officials::position,
        ))
        .into_boxed();
    let mut certificates_q = certificates::table
        .inner_join(officials::table)
        .filter(officials::active.eq(true))
        // Only certificates that chain to a trust anchor and name their holder count.
        .filter(certificates::trusted.eq(true))
        // Revoked only from its revocation time on, so a report at an earlier `now` is right.
        .filter(
            certificates::revoked_at
                .is_null()
                .or(certificates::revoked_at.gt(&now_text)),
        )
        .filter(certificates::not_before.le(&now_text))
        .filter(certificates::not_after.ge(&now_text))
        .select((certificates::official_id, certificates::not_after))
        .into_boxed();
    let open = [
        RequestState::Drafted.as_str(),
        RequestState::Submitted.as_str(),
        RequestState::Received.as_str(),
    ];
    let mut requests_q = issuance_requests::table
        .filter(issuance_requests::state.eq_any(open))
        .select((
            issuance_requests::commune_code,
            issuance_requests::state,
            issuance_requests::created_at,
            issuance_requests::submitted_at,
        ))
        .into_boxed();
    let since = db::timestamp(now - Duration::days(settings.signature_window_days.into()));
    let mut signatures_q = signing_log::table
        .filter(signing_log::created_at.ge(since))
        .filter(signing_log::created_at.le(&now_text))
        .group_by(signing_log::commune_code)
        .select((signing_log::commune_code, count_star()))
        .into_boxed();
    if let Some(code) = only {
        communes_q = communes_q.filter(communes::code.eq(code.to_owned()));
        officials_q = officials_q.filter(officials::commune_code.eq(code.to_owned()));
        certificates_q = certificates_q.filter(officials::commune_code.eq(code.to_owned()));
        requests_q = requests_q.filter(issuance_requests::commune_code.eq(code.to_owned()));
        signatures_q = signatures_q.filter(signing_log::commune_code.eq(code.to_owned()));
    }
    let communes: Vec<Commune> = communes_q.order(communes::code).load(conn)?;
    let officials: Vec<(String, String, String, String)> = officials_q.load(conn)?;
    let valid: Vec<(String, String)> = certificates_q.load(conn)?;
    let open_requests: Vec<(String, String, String, Option<String>)> = requests_q.load(conn)?;
    let signatures: HashMap<String, i64> = signatures_q.load(conn)?.into_iter().collect();

    // Official -> the end of its longest-running valid certificate.
    let mut valid_until: HashMap<&str, &str> = HashMap::new();
    for (official, not_after) in &valid {
        let entry = valid_until.entry(official).or_insert(not_after);
        if not_after.as_str() > *entry {
            *entry = not_after;
        }
    }
    let horizons: Vec<(u32, String)> = settings
        .expiry_warning_days
        .iter()
        .map(|d| (*d, db::timestamp(now + Duration::days((*d).into()))))
        .collect();

    let mut by_commune: HashMap<&str, CommuneReadiness> = communes
        .iter()
        .map(|c| {
            let readiness = CommuneReadiness {
                code: c.code.clone(),
                name: c.name.clone(),
                kind: c.kind.clone(),
                province: c.province.clone(),
                ready: false,
                agency_certificate_valid: false,
                positions: settings
                    .required_positions
                    .iter()
                    .map(|p| Coverage {
                        position: *p,
                        label: p.label(),
                        officials: 0,
                        covered: 0,
                    })
                    .collect(),
                officials_required: 0,
                officials_covered: 0,
                waiting: Vec::new(),
                pending_requests: 0,
                oldest_pending_days: None,
                overdue_requests: 0,
                expiring: horizons
                    .iter()
                    .map(|(d, _)| Expiring {
                        within_days: *d,
                        certificates: 0,
                    })
                    .collect(),
                signatures: signatures.get(&c.code).copied().unwrap_or(0),
            };
            (c.code.as_str(), readiness)
        })
        .collect();

    for (id, commune, name, position) in &officials {
        let Some(r) = by_commune.get_mut(commune.as_str()) else {
            continue;
        };
        let until = valid_until.get(id.as_str());
        if position == Position::Agency.as_str() && until.is_some() {
            r.agency_certificate_valid = true;
        }
        if let Some(until) = until {
            for ((_, horizon), expiring) in horizons.iter().zip(&mut r.expiring) {
                if *until <= horizon.as_str() {
                    expiring.certificates += 1;
                }
            }
        }
        let Some(coverage) = r
            .positions
            .iter_mut()
            .find(|c| c.position.as_str() == position)
        else {
            continue;
        };
        coverage.officials += 1;
        r.officials_required += 1;
        if until.is_some() {
            coverage.covered += 1;
            r.officials_covered += 1;
        } else {
            r.waiting.push(Waiting {
                official_id: id.clone(),
                name: name.clone(),
                position: position.clone(),
            });
        }
    }

    for (commune, state, created, submitted) in &open_requests {
        let Some(r) = by_commune.get_mut(commune.as_str()) else {
            continue;
        };
        r.pending_requests += 1;
        let age = (now - parse_time(created)?).num_days();
        r.oldest_pending_days = Some(r.oldest_pending_days.map_or(age, |a| a.max(age)));
        let with_ca = RequestState::parse(state)?.is_with_ca();
        if let (true, Some(sent)) = (with_ca, submitted) {
            if requests::is_overdue(parse_time(sent)?, settings, now) {
                r.overdue_requests += 1;
            }
        }
    }

    let mut list: Vec<CommuneReadiness> = communes
        .iter()
        .filter_map(|c| by_commune.remove(c.code.as_str()))
        .map(|mut r| {
            r.ready = r.positions.iter().all(|c| c.covered > 0);
            r
        })
        .collect();
    list.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Rollout {
        at: now_text,
        totals: totals(&list, &horizons),
        communes: list,
    })
}

fn totals(list: &[CommuneReadiness], horizons: &[(u32, String)]) -> Totals {
    let by_kind = super::communes::KINDS
        .iter()
        .map(|kind| KindTotal {
            kind: (*kind).into(),
            communes: list.iter().filter(|r| r.kind == *kind).count(),
            ready: list.iter().filter(|r| r.kind == *kind && r.ready).count(),
        })
        .collect();
    Totals {
        communes: list.len(),
        ready: list.iter().filter(|r| r.ready).count(),
        by_kind,
        pending_requests: list.iter().map(|r| r.pending_requests).sum(),
        overdue_requests: list.iter().map(|r| r.overdue_requests).sum(),
        expiring: horizons
            .iter()
            .enumerate()
            .map(|(i, (d, _))| Expiring {
                within_days: *d,
                certificates: list.iter().map(|r| r.expiring[i].certificates).sum(),
            })
            .collect(),
        signatures: list.iter().map(|r| r.signatures).sum(),
    }
}
