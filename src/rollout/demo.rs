//! Dev mode's demo data: `minimal` makes the dev PKI's demo signers officials with registered
//! certificates and applies the dev CRL, so signing and its checks have real data; `haiphong`
//! loads Hải Phòng's 114 real units in a roll-out under way, for the dashboard.

pub mod haiphong;

use std::path::Path;

use diesel::prelude::*;

use super::officials::{self, NewOfficial};
use super::{certificates, crl, OfficialKind, Position};
use crate::db::schema::officials as officials_table;
use crate::db::DbConnection;
use crate::error::{Error, Result};
use crate::pki::dev::{Manifest, SignerKind};
use crate::pki::trust::TrustStore;

const ACTOR: &str = "kyso dev-pki";

/// Registers every demo signer as an official (id = signer id) with its certificate.
pub fn register(
    conn: &mut DbConnection,
    dir: &Path,
    manifest: &Manifest,
    trust: &TrustStore,
) -> Result<()> {
    for s in &manifest.signers {
        let pem = std::fs::read(manifest.path(dir, &s.certificate))
            .map_err(|e| Error::config(format!("dev certificate: {e}")))?;
        let parsed = certificates::parse(&pem)?;
        if certificates::by_fingerprint(conn, &parsed.fingerprint)?.is_some() {
            continue;
        }
        let exists = officials_table::table
            .find(&s.id)
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if !exists {
            let (personal_id, tax_code) = parsed.identifiers();
            let role = s.id.strip_prefix(&format!("{}-", s.commune)).unwrap_or("");
            officials::create_as(
                conn,
                ACTOR,
                NewOfficial {
                    commune_code: s.commune.clone(),
                    kind: match s.kind {
                        SignerKind::Official => OfficialKind::Person,
                        SignerKind::Agency => OfficialKind::Agency,
                    },
                    name: s.name.clone(),
                    personal_id: personal_id.map(Into::into),
                    tax_code: tax_code.map(Into::into),
                    position: match role {
                        "chair" => Position::Chair,
                        "vice-chair" => Position::ViceChair,
                        "civil-status" => Position::CivilStatus,
                        "agency" => Position::Agency,
                        _ => Position::Other,
                    },
                    id: Some(s.id.clone()),
                },
            )?;
        }
        let holder = officials::get(conn, &s.id)?;
        let trusted = certificates::is_trusted(&parsed, &holder, trust);
        certificates::register(conn, ACTOR, parsed, holder, trusted, true)?;
    }
    let issuing_ca = std::fs::read(manifest.path(dir, &manifest.issuing_ca))
        .map_err(|e| Error::config(format!("dev issuing CA: {e}")))?;
    let issuing_ca = crate::pki::Certificate::from_pem(&issuing_ca)
        .ok_or_else(|| Error::config("dev issuing CA: no certificate"))?;
    let list = std::fs::read(manifest.path(dir, &manifest.crl))
        .map_err(|e| Error::config(format!("dev CRL: {e}")))?;
    crl::import(conn, ACTOR, &list, &[issuing_ca])?;
    Ok(())
}
