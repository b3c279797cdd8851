//! Certificate roll-out tracking (theo dõi cấp chứng thư số): communes, their officials and
//! agency, the certificates they hold, the requests filed with the CA, and how ready each
//! commune is to sign. Every change goes through here and into the audit log.

pub mod audit;
pub mod certificates;
pub mod communes;
pub mod crl;
pub mod demo;
pub mod officials;
pub mod readiness;
pub mod requests;

use chrono::{DateTime, Utc};

use crate::clients::{Client, Role};
use crate::error::{Error, Result};
// The registry's vocabularies live below the settings, which name positions.
pub use crate::vocabulary::{Form, OfficialKind, Position, RequestKind, RequestState};

/// May `client` read `commune`'s officials, certificates and requests (personal data)? Admins
/// all, a portal its own commune; a viewer only the roll-out statistics.
pub fn may_read(client: &Client, commune: &str) -> bool {
    match client.role {
        Role::Admin => true,
        Role::Portal => client.commune.as_deref() == Some(commune),
        Role::Viewer => false,
    }
}

/// Refuses a viewer key: what follows is personal data.
pub fn ensure_not_viewer(client: &Client) -> Result<()> {
    if client.role == Role::Viewer {
        Err(Error::Forbidden(
            "a viewer key reads roll-out statistics only".into(),
        ))
    } else {
        Ok(())
    }
}

/// A record of `commune` for `client`: another commune's is answered exactly like an unknown
/// one (`what` names only what the client asked for), so ids and holders do not leak.
pub fn ensure_visible(client: &Client, commune: &str, what: impl FnOnce() -> String) -> Result<()> {
    ensure_not_viewer(client)?;
    if may_read(client, commune) {
        Ok(())
    } else {
        Err(Error::NotFound(what()))
    }
}

pub fn ensure_may_write(client: &Client, commune: &str) -> Result<()> {
    if client.may_act_for(commune) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "this key may not change commune `{commune}`"
        )))
    }
}

pub fn ensure_may_read(client: &Client, commune: &str) -> Result<()> {
    ensure_not_viewer(client)?;
    if may_read(client, commune) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "this key may not read commune `{commune}`"
        )))
    }
}

/// Only the CA's side (an admin) moves a request into `received`, `issued` or `rejected`.
pub fn ensure_may_move(client: &Client, to: RequestState) -> Result<()> {
    match to {
        RequestState::Received | RequestState::Issued | RequestState::Rejected => {
            ensure_admin(client)
        }
        RequestState::Drafted | RequestState::Submitted | RequestState::Cancelled => Ok(()),
    }
}

pub fn ensure_admin(client: &Client) -> Result<()> {
    if client.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden("only an admin key may do this".into()))
    }
}

/// A stored RFC 3339 time.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::internal(format!("stored time `{text}`: {e}")))
}

/// A unique constraint hit by a concurrent writer is a conflict to retry, not a server fault.
fn unique_or(what: &str) -> impl FnOnce(diesel::result::Error) -> Error + '_ {
    move |e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => Error::Conflict(format!("{what} was registered meanwhile")),
        other => other.into(),
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
