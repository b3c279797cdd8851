//! CRL import: a revocation list (DER or PEM) whose signature verifies with a known CA
//! certificate marks the registered certificates it lists (same issuer, same serial) revoked.
//! A list no known CA signed is refused: otherwise anyone holding an admin key could forge
//! revocations that stop a commune from signing, with nothing to show where they came from.

use chrono::DateTime;
use diesel::prelude::*;
use openssl::x509::X509Crl;
use serde::Serialize;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::db::models::Certificate;
use crate::db::schema::certificates;
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CrlImport {
    pub issuer: String,
    pub this_update: String,
    /// Serial numbers the list names.
    pub entries: usize,
    /// Registered certificates this import marked revoked.
    pub revoked: Vec<String>,
}

/// Verifies `bytes` against `issuers` and marks what it lists as revoked, in one transaction.
pub fn import(
    conn: &mut DbConnection,
    actor: &str,
    bytes: &[u8],
    issuers: &[crate::pki::Certificate],
) -> Result<CrlImport> {
    let bad =
        |e: &dyn std::fmt::Display| Error::from(kyso_core::Error::CrlMalformed(e.to_string()));
    let crl = X509Crl::from_der(bytes)
        .or_else(|_| X509Crl::from_pem(bytes))
        .map_err(|_| bad(&"neither DER nor PEM"))?;
    let der = crl.to_der().map_err(|e| bad(&e))?;
    let signed_by_known_ca = issuers.iter().any(|ca| {
        ca.x509()
            .public_key()
            .and_then(|key| crl.verify(&key))
            .unwrap_or(false)
    });
    let (_, parsed) = CertificateRevocationList::from_der(&der).map_err(|e| bad(&e))?;
    let issuer = parsed.issuer().to_string();
    if !signed_by_known_ca {
        return Err(Error::CrlUntrusted(format!(
            "no known CA certificate verifies the signature of the list issued by {issuer}; \
             put the issuing CA's certificate in the trust folder"
        )));
    }
    let time = |t: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0)
            .map(db::timestamp)
            .ok_or_else(|| bad(&"time out of range"))
    };
    let this_update = time(parsed.last_update())?;
    let entries = parsed
        .iter_revoked_certificates()
        .map(|entry| {
            let reason = entry
                .reason_code()
                .map_or_else(|| "unspecified".to_owned(), |(_, r)| r.to_string());
            Ok((
                entry.serial().to_str_radix(16),
                time(entry.revocation_date)?,
                reason,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    conn.transaction(|conn| {
        let mut revoked = Vec::new();
        for (serial, at, reason) in &entries {
            let listed: Vec<Certificate> = certificates::table
                .filter(certificates::serial.eq(serial))
                .filter(certificates::issuer.eq(&issuer))
                .filter(certificates::revoked_at.is_null())
                .select(Certificate::as_select())
                .load(conn)?;
            for old in listed {
                revoked.push(super::certificates::revoke(conn, actor, old, at, reason)?);
            }
        }
        Ok(CrlImport {
            issuer: issuer.clone(),
            this_update: this_update.clone(),
            entries: entries.len(),
            revoked,
        })
    })
}
