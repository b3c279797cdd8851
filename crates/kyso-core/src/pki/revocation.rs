//! Certificate revocation lists: loaded from folders at start (`certs/crl/`, and the dev CA's
//! in dev mode), and added while running when an administrator uploads one.

use std::path::Path;
use std::sync::{RwLock, RwLockReadGuard};

use chrono::{DateTime, Utc};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::x509::{CrlStatus, X509Crl, X509};

use crate::error::{Error, Result};

#[derive(Default)]
pub struct RevocationLists {
    crls: RwLock<Vec<X509Crl>>,
}

impl RevocationLists {
    /// Loads every `*.crl`/`*.pem` (DER or PEM) found in the folders that exist.
    pub fn load(dirs: &[&Path]) -> Result<Self> {
        let mut crls = Vec::new();
        for dir in dirs.iter().filter(|d| d.is_dir()) {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                if !matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("crl" | "pem")
                ) {
                    continue;
                }
                let bytes = std::fs::read(&path)
                    .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
                let crl = X509Crl::from_der(&bytes)
                    .or_else(|_| X509Crl::from_pem(&bytes))
                    .map_err(|_| Error::Config(format!("{} is not a CRL", path.display())))?;
                crls.push(crl);
            }
        }
        Ok(Self {
            crls: RwLock::new(crls),
        })
    }

    /// The lists, read-locked while the caller looks at them.
    pub fn all(&self) -> RwLockReadGuard<'_, Vec<X509Crl>> {
        self.crls
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps an uploaded list (its signature already checked by the caller) in `dir`, named by
    /// its digest, and uses it from now on.
    pub fn store(&self, dir: &Path, der: &[u8]) -> Result<()> {
        let crl = X509Crl::from_der(der).map_err(|e| Error::CrlMalformed(e.to_string()))?;
        let name = hex::encode(crate::pki::cms::sha256(der)?);
        crate::private_files::write(&dir.join(format!("{name}.crl")), der)
            .map_err(|e| Error::internal(format!("storing the CRL in {}: {e}", dir.display())))?;
        self.crls
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(crl);
        Ok(())
    }

    /// When `cert` was revoked, if a loaded list of its issuer says so.
    pub fn revocation_time(&self, cert: &X509) -> Option<DateTime<Utc>> {
        self.all()
            .iter()
            .find_map(|crl| match crl.get_by_cert(cert) {
                CrlStatus::Revoked(entry) => to_utc(entry.revocation_date()),
                _ => None,
            })
    }
}

pub fn to_utc(time: &Asn1TimeRef) -> Option<DateTime<Utc>> {
    let diff = Asn1Time::from_unix(0).ok()?.diff(time).ok()?;
    DateTime::from_timestamp(i64::from(diff.days) * 86_400 + i64::from(diff.secs), 0)
}
