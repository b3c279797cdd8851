//! The audit log (nhật ký thay đổi): who changed what, when, and the record before and after.
//! Written in the same transaction as the change itself.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::AuditEntry;
use crate::db::schema::audit_log;
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// Records `action` (`entity.verb`, e.g. `official.update`) on `entity_id` by `actor`.
pub fn record<T: Serialize>(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    entity_id: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<()> {
    let json = |v: Option<&T>| {
        v.map(serde_json::to_string)
            .transpose()
            .map_err(Error::internal)
    };
    let entry = AuditEntry {
        id: super::new_id(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        entity: action.split('.').next().unwrap_or(action).to_owned(),
        entity_id: entity_id.to_owned(),
        before_json: json(before)?,
        after_json: json(after)?,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    };
    diesel::insert_into(audit_log::table)
        .values(&entry)
        .execute(conn)?;
    Ok(())
}

/// The newest entries first, optionally for one entity (`official`, `certificate`, …) or record.
pub fn list(
    conn: &mut DbConnection,
    entity: Option<&str>,
    entity_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEntry>> {
    let mut query = audit_log::table
        .select(AuditEntry::as_select())
        .into_boxed();
    if let Some(entity) = entity {
        query = query.filter(audit_log::entity.eq(entity.to_owned()));
    }
    if let Some(id) = entity_id {
        query = query.filter(audit_log::entity_id.eq(id.to_owned()));
    }
    Ok(query
        .order((audit_log::created_at.desc(), audit_log::id.desc()))
        .limit(limit)
        .load(conn)?)
}
