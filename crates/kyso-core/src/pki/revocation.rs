//! Revocation data. Certificate revocation lists loaded from folders at start (`certs/crl/`,
//! and the dev CA's in dev mode) and added while running when an administrator uploads one;
//! OCSP answers and CRLs fetched from the certificates' own URLs, cached while they speak.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use chrono::{DateTime, Utc};
use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::hash::MessageDigest;
use openssl::x509::{CrlStatus, X509Crl};

use crate::error::{Error, Result};
use crate::pki::certificate::Certificate;
use crate::pki::fetch::{Fetch, Kind};
use crate::pki::ocsp;

#[derive(Default)]
pub struct RevocationLists {
    crls: RwLock<Vec<X509Crl>>,
}

impl RevocationLists {
    /// Loads every `*.crl`/`*.pem` (DER or PEM) found in the folders that exist, each list
    /// once (a folder may hold one list in both encodings).
    pub fn load(dirs: &[&Path]) -> Result<Self> {
        let mut crls: Vec<X509Crl> = Vec::new();
        let mut seen = std::collections::HashSet::new();
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
                let der = crl
                    .to_der()
                    .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
                if seen.insert(der) {
                    crls.push(crl);
                }
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
    pub fn revocation_time(&self, cert: &Certificate) -> Option<DateTime<Utc>> {
        self.all()
            .iter()
            .find_map(|crl| match crl.get_by_cert(cert.x509()) {
                CrlStatus::Revoked(entry) => to_utc(entry.revocation_date()),
                _ => None,
            })
    }
}

pub fn to_utc(time: &Asn1TimeRef) -> Option<DateTime<Utc>> {
    let diff = Asn1Time::from_unix(0).ok()?.diff(time).ok()?;
    DateTime::from_timestamp(i64::from(diff.days) * 86_400 + i64::from(diff.secs), 0)
}

/// What one CRL or OCSP answer says about one certificate, and for which times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub this_update: Option<DateTime<Utc>>,
    pub next_update: Option<DateTime<Utc>>,
    /// When it was revoked, if it says so.
    pub revoked: Option<DateTime<Utc>>,
}

impl Statement {
    /// What `crl` (already known to be the issuer's) says of `cert`.
    pub fn from_crl(crl: &X509Crl, cert: &Certificate) -> Statement {
        Statement {
            this_update: to_utc(crl.last_update()),
            next_update: crl.next_update().and_then(to_utc),
            revoked: match crl.get_by_cert(cert.x509()) {
                CrlStatus::Revoked(entry) => to_utc(entry.revocation_date()),
                _ => None,
            },
        }
    }
}

/// Validation data for one certificate, as DER for a DSS.
#[derive(Debug, Default)]
pub struct Evidence {
    pub ocsps: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

/// Where a certificate's revocation status and issuer come from: an OCSP answer from its
/// AIA, else the CRL of its distribution point, else the files (`pki.crl_dir`, uploads).
/// Fetched answers are kept while they speak (up to their nextUpdate). Without a transport
/// (`revocation.fetch = false`) only the files are used.
pub struct RevocationSource {
    pub files: RevocationLists,
    fetch: Option<Arc<dyn Fetch>>,
    cache: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    der: Vec<u8>,
    until: DateTime<Utc>,
}

/// The most answers kept; past it the cache starts over (answers are cheap to fetch again).
const CACHE_ENTRIES: usize = 10_000;

impl RevocationSource {
    pub fn new(files: RevocationLists, fetch: Option<Arc<dyn Fetch>>) -> Self {
        RevocationSource {
            files,
            fetch,
            cache: Mutex::default(),
        }
    }

    pub fn fetching(&self) -> bool {
        self.fetch.is_some()
    }

    fn cached(&self, key: &str, now: DateTime<Utc>) -> Option<Vec<u8>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(key)
            .filter(|c| c.until > now)
            .map(|c| c.der.clone())
    }

    fn keep(&self, key: String, der: &[u8], until: Option<DateTime<Utc>>) {
        let Some(until) = until else { return };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(
            key,
            Cached {
                der: der.to_vec(),
                until,
            },
        );
    }

    /// A checked OCSP answer for `cert` from its AIA responders (cached, else fetched).
    pub fn ocsp(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: DateTime<Utc>,
    ) -> Option<(Vec<u8>, Statement)> {
        let fetch = self.fetch.as_ref()?;
        let key = format!(
            "ocsp:{}",
            hex::encode(cert.x509().digest(MessageDigest::sha256()).ok()?)
        );
        if let Some(der) = self.cached(&key, now) {
            let statement = ocsp::check(&der, cert, issuer, None).ok()?;
            return Some((der, statement));
        }
        for url in urls(cert).ocsp {
            let Ok(query) = ocsp::query(cert, issuer) else {
                continue;
            };
            let answer = fetch
                .post(Kind::Ocsp, &url, ocsp::CONTENT_TYPE_REQUEST, &query.der)
                .map_err(|e| e.to_string())
                .and_then(|der| {
                    let statement = ocsp::check(&der, cert, issuer, Some(&query.nonce))
                        .map_err(|e| e.to_string())?;
                    Ok((der, statement))
                });
            match answer {
                Ok((der, statement)) => {
                    self.keep(key, &der, statement.next_update);
                    return Some((der, statement));
                }
                Err(e) => tracing::warn!(url, error = %e, "OCSP answer unusable"),
            }
        }
        None
    }

    /// The CRLs `issuer` signed at `cert`'s distribution points (cached, else fetched).
    pub fn fetched_crls(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: DateTime<Utc>,
    ) -> Vec<X509Crl> {
        let Some(fetch) = &self.fetch else {
            return Vec::new();
        };
        let Ok(key) = issuer.x509().public_key() else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for url in urls(cert).crls {
            let cache_key = format!("crl:{url}");
            let der = match self.cached(&cache_key, now) {
                Some(der) => Ok(der),
                None => fetch
                    .get(Kind::Crl, &url, "application/pkix-crl")
                    .map_err(|e| e.to_string()),
            };
            let crl = der.and_then(|der| {
                let crl = X509Crl::from_der(&der)
                    .or_else(|_| X509Crl::from_pem(&der))
                    .map_err(|_| "not a CRL".to_owned())?;
                if !crl.verify(&key).unwrap_or(false) {
                    return Err("not signed by the issuer".to_owned());
                }
                self.keep(
                    cache_key.clone(),
                    &crl.to_der().map_err(|e| e.to_string())?,
                    crl.next_update().and_then(to_utc),
                );
                Ok(crl)
            });
            match crl {
                Ok(crl) => found.push(crl),
                Err(e) => tracing::warn!(url, error = %e, "CRL unusable"),
            }
        }
        found
    }

    /// The certificates at `cert`'s AIA caIssuers URLs (DER, PEM or a PKCS#7 bundle), fetched.
    pub fn ca_issuers(&self, cert: &Certificate) -> Vec<Certificate> {
        let Some(fetch) = &self.fetch else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for url in urls(cert).ca_issuers {
            let Ok(body) = fetch.get(Kind::CaIssuers, &url, "application/pkix-cert") else {
                continue;
            };
            if let Ok(c) = Certificate::from_der(&body) {
                found.push(c);
            } else if let Some(certs) = Certificate::all_from_pem(&body) {
                found.extend(certs);
            } else if let Some(certs) = openssl::pkcs7::Pkcs7::from_der(&body).ok().and_then(|p| {
                p.signed().and_then(|s| s.certificates()).map(|s| {
                    s.iter()
                        .filter_map(|c| Certificate::from_x509(c.to_owned()).ok())
                        .collect::<Vec<_>>()
                })
            }) {
                found.extend(certs);
            }
        }
        found
    }

    /// The loaded files' lists (DER) that `issuer` signed for `cert`'s issuer name.
    pub fn file_crls(&self, cert: &Certificate, issuer: &Certificate) -> Vec<Vec<u8>> {
        let Ok(key) = issuer.x509().public_key() else {
            return Vec::new();
        };
        let name = cert.x509().issuer_name().to_der().ok();
        self.files
            .all()
            .iter()
            .filter(|crl| crl.issuer_name().to_der().ok() == name)
            .filter(|crl| crl.verify(&key).unwrap_or(false))
            .filter_map(|crl| crl.to_der().ok())
            .collect()
    }

    /// Validation data for `cert` to embed: an OCSP answer, else the distribution points'
    /// CRLs, else the files'.
    pub fn evidence(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: DateTime<Utc>,
    ) -> Evidence {
        let mut evidence = Evidence::default();
        if let Some((der, _)) = self.ocsp(cert, issuer, now) {
            evidence.ocsps.push(der);
            return evidence;
        }
        evidence.crls = self
            .fetched_crls(cert, issuer, now)
            .iter()
            .filter_map(|c| c.to_der().ok())
            .collect();
        if evidence.crls.is_empty() {
            evidence.crls = self.file_crls(cert, issuer);
        }
        evidence
    }
}

/// The most URLs of one kind taken from a certificate: a certificate from anywhere (an
/// uploaded PDF's) must not make kyso fetch without end.
const MAX_URLS: usize = 2;

/// A certificate's OCSP responders, caIssuers and CRL distribution points (HTTP URLs only:
/// LDAP is not fetched), at most [`MAX_URLS`] of each.
#[derive(Debug, Default)]
pub struct Urls {
    pub ocsp: Vec<String>,
    pub ca_issuers: Vec<String>,
    pub crls: Vec<String>,
}

pub fn urls(cert: &Certificate) -> Urls {
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    let mut urls = Urls::default();
    let Some(parsed) = cert.parsed() else {
        return urls;
    };
    let http = |name: &GeneralName| match name {
        GeneralName::URI(uri) if uri.starts_with("http://") || uri.starts_with("https://") => {
            Some((*uri).to_owned())
        }
        _ => None,
    };
    for ext in parsed.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for desc in &aia.accessdescs {
                    let Some(url) = http(&desc.access_location) else {
                        continue;
                    };
                    if desc.access_method
                        == x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_OCSP
                    {
                        urls.ocsp.push(url);
                    } else if desc.access_method
                        == x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS
                    {
                        urls.ca_issuers.push(url);
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point
                    {
                        urls.crls.extend(names.iter().filter_map(http));
                    }
                }
            }
            _ => {}
        }
    }
    for list in [&mut urls.ocsp, &mut urls.ca_issuers, &mut urls.crls] {
        list.truncate(MAX_URLS);
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::dev::{self, KeyAlgorithm};
    use chrono::Duration;

    /// The dev PKI writes its issuing CA's list as DER and as PEM: one list, loaded once, so
    /// a signature's revocation check verifies it once.
    #[test]
    fn a_list_in_both_encodings_is_loaded_once() {
        let now = Utc::now();
        let ca = dev::new_root("revocation test CA", KeyAlgorithm::EcdsaP256).unwrap();
        let other = dev::new_root("another CA", KeyAlgorithm::EcdsaP256).unwrap();
        let der = dev::build_crl(&ca, &[], now, now + Duration::days(7)).unwrap();
        let pem = X509Crl::from_der(&der).unwrap().to_pem().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crl"), &der).unwrap();
        std::fs::write(dir.path().join("ca.crl.pem"), pem).unwrap();
        let other_der = dev::build_crl(&other, &[], now, now + Duration::days(7)).unwrap();
        std::fs::write(dir.path().join("other.crl"), other_der).unwrap();
        let lists = RevocationLists::load(&[dir.path()]).unwrap();
        assert_eq!(lists.all().len(), 2);
    }
}
