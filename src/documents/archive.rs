//! Keeping issued documents verifiable for decades (lưu trữ dài hạn): before the newest
//! timestamp's authority certificate expires, a new document timestamp is added over the
//! file and the validation data of the one before (PAdES B-LTA). Each document is refreshed
//! all or nothing: the new file is written, then the record switched to it in one
//! transaction with its audit-log line; the old file is removed only after that.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::blobs;
use crate::config::Settings;
use crate::db::models::Document;
use crate::db::schema::documents;
use crate::db::{self, DbConnection, Pool};
use crate::error::{Error, Result};
use crate::pdf::archive::newest_timestamp;
use crate::pdf::read::Limits;
use crate::pki::cms::sha256;
use crate::rollout::audit;
use crate::signing::{Level, Signing};

/// Who the audit log names for refreshes.
const ACTOR: &str = "kyso archive refresh";

/// `archive_expires_at` of a file: when its newest timestamp's authority certificate
/// expires; `None` without a timestamp.
pub fn expiry(pdf: &[u8], limits: &Limits) -> Result<Option<String>> {
    Ok(newest_timestamp(pdf, limits)?.map(|n| db::timestamp(n.tsa_expires)))
}

/// What one pass did.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// Documents whose expiry was read or due.
    pub checked: usize,
    pub refreshed: Vec<String>,
    /// Documents that could not be refreshed, with why (they are tried again next time).
    pub failed: Vec<(String, String)>,
}

/// What the audit log keeps of a document before and after a refresh.
#[derive(Serialize)]
struct Archived<'a> {
    sha256: &'a str,
    size: i64,
    archive_expires_at: Option<&'a str>,
}

/// Refreshes every stored document whose newest timestamp's authority certificate expires
/// within `settings.archive.refresh_days_before_expiry` days of `now` (and learns the expiry
/// of documents that do not record one yet).
pub fn refresh(
    pool: &Pool,
    settings: &Settings,
    signing: &Signing<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let days = i64::from(settings.archive.refresh_days_before_expiry);
    let due = db::timestamp(now + Duration::days(days));
    let mut conn = db::get(pool)?;
    let candidates: Vec<Document> = documents::table
        .filter(
            documents::archive_expires_at
                .is_null()
                .or(documents::archive_expires_at.le(&due)),
        )
        .select(Document::as_select())
        .load(&mut conn)?;
    let mut outcome = Outcome::default();
    for document in candidates {
        outcome.checked += 1;
        match refresh_one(&mut conn, settings, signing, &document, &due) {
            Ok(true) => outcome.refreshed.push(document.id.clone()),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(id = %document.id, error = %e, "archive refresh failed");
                outcome.failed.push((document.id.clone(), e.to_string()));
            }
        }
    }
    tracing::info!(
        checked = outcome.checked,
        refreshed = outcome.refreshed.len(),
        failed = outcome.failed.len(),
        "archive refresh"
    );
    Ok(outcome)
}

/// Refreshes one document if it is due; `Ok(false)` when it is not (its expiry recorded).
fn refresh_one(
    conn: &mut DbConnection,
    settings: &Settings,
    signing: &Signing<'_>,
    document: &Document,
    due: &str,
) -> Result<bool> {
    let store = blobs::from_settings(settings);
    let pdf = store.get(conn, &document.blob_key)?;
    let Some(expires) = expiry(&pdf, &settings.pdf)? else {
        return Ok(false); // no timestamp to renew
    };
    if expires.as_str() > due {
        if document.archive_expires_at.as_deref() != Some(&expires) {
            diesel::update(documents::table.find(&document.id))
                .filter(documents::blob_key.eq(&document.blob_key))
                .set(documents::archive_expires_at.eq(&expires))
                .execute(conn)?;
        }
        return Ok(false);
    }
    let renewed = signing.extend(&pdf, Level::BLta)?;
    let renewed_expires = expiry(&renewed, &settings.pdf)?;
    // A timestamp from an authority whose certificate expires no later protects nothing
    // longer: its certificate must be renewed first.
    if renewed_expires
        .as_deref()
        .is_none_or(|r| r <= expires.as_str())
    {
        return Err(Error::config(format!(
            "the time-stamping authority's certificate expires by {expires} too; renew it to refresh archives"
        )));
    }
    let key = uuid::Uuid::new_v4().to_string();
    let switched = conn.transaction(|conn| {
        store.put(conn, &key, &renewed)?;
        let sha = hex::encode(sha256(&renewed)?);
        let size = renewed.len() as i64;
        // Only the file this refresh read: a seal in between wins, and this one is retried.
        let updated = diesel::update(documents::table.find(&document.id))
            .filter(documents::blob_key.eq(&document.blob_key))
            .set((
                documents::blob_key.eq(&key),
                documents::sha256.eq(&sha),
                documents::size.eq(size),
                documents::archive_expires_at.eq(&renewed_expires),
            ))
            .execute(conn)?;
        if updated != 1 {
            return Err(Error::Conflict(
                "the document changed during the refresh".into(),
            ));
        }
        audit::record(
            conn,
            ACTOR,
            "document.archive_refresh",
            &document.id,
            Some(&Archived {
                sha256: &document.sha256,
                size: document.size,
                archive_expires_at: Some(&expires),
            }),
            Some(&Archived {
                sha256: &sha,
                size,
                archive_expires_at: renewed_expires.as_deref(),
            }),
        )
    });
    match switched {
        Ok(()) => {
            let _ = store.delete(conn, &document.blob_key);
            tracing::info!(id = %document.id, "archive timestamp renewed");
            Ok(true)
        }
        Err(e) => {
            let _ = store.delete(conn, &key);
            Err(e)
        }
    }
}
