//! One X.509 certificate as the core hands it around: its DER, held once, and each view of it
//! the core reads, decoded once. OpenSSL's handle (chain building, public keys, CRL look-ups)
//! is decoded when the certificate is made; the RustCrypto structure (CMS, OCSP) the first
//! time it is asked for, unless the certificate came out of one; x509-parser's view (names,
//! extensions) borrows the DER and costs no copy.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use der::{Decode, Encode};
use openssl::x509::{X509Ref, X509};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Certificate(Arc<Views>);

struct Views {
    der: Box<[u8]>,
    openssl: X509,
    structure: OnceLock<std::result::Result<x509_cert::Certificate, der::Error>>,
}

/// Enough for every certificate of a province's officials and CAs; cleared when full.
const CACHE_CAPACITY: usize = 4096;

fn malformed(e: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("not an X.509 certificate: {e}"))
}

impl Certificate {
    /// The certificate `der` encodes. Decoded certificates are remembered by their DER:
    /// OpenSSL 3's `d2i_X509` (it hashes the certificate and caches its extensions) costs
    /// more than the rest of a signature check, and the same few CA and official
    /// certificates come back in document after document.
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        static CACHE: OnceLock<Mutex<HashSet<Certificate>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Mutex::default);
        if let Some(cert) = cache.lock().ok().and_then(|c| c.get(der).cloned()) {
            return Ok(cert);
        }
        let cert = Certificate::new(der.into(), X509::from_der(der).map_err(malformed)?);
        if let Ok(mut c) = cache.lock() {
            if c.len() >= CACHE_CAPACITY {
                c.clear();
            }
            c.insert(cert.clone());
        }
        Ok(cert)
    }

    /// An OpenSSL certificate (a key store's, a token's), encoded once.
    pub fn from_x509(x509: X509) -> Result<Certificate> {
        let der = x509.to_der().map_err(malformed)?;
        Ok(Certificate::new(der.into(), x509))
    }

    /// A certificate already decoded by RustCrypto (a CMS's certificate set), which stays
    /// its structure view.
    pub fn from_structure(structure: x509_cert::Certificate) -> Result<Certificate> {
        let cert = Certificate::from_der(&structure.to_der().map_err(malformed)?)?;
        let _ = cert.0.structure.set(Ok(structure));
        Ok(cert)
    }

    /// The first certificate of a PEM text.
    pub fn from_pem(pem: &[u8]) -> Option<Certificate> {
        Certificate::all_from_pem(pem)?.into_iter().next()
    }

    /// The certificates of a PEM text, in order (`None` when it holds none or a damaged one);
    /// blocks of other kinds are skipped.
    pub fn all_from_pem(pem: &[u8]) -> Option<Vec<Certificate>> {
        let certs = x509_parser::pem::Pem::iter_from_buffer(pem)
            .filter(|block| !matches!(block, Ok(p) if p.label != "CERTIFICATE"))
            .map(|block| Certificate::from_der(&block.ok()?.contents).ok())
            .collect::<Option<Vec<_>>>()?;
        (!certs.is_empty()).then_some(certs)
    }

    fn new(der: Box<[u8]>, openssl: X509) -> Certificate {
        Certificate(Arc::new(Views {
            der,
            openssl,
            structure: OnceLock::new(),
        }))
    }

    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// OpenSSL's handle: chain building, the public key, CRL look-ups.
    pub fn x509(&self) -> &X509 {
        &self.0.openssl
    }

    /// RustCrypto's structure (x509-cert): CMS and OCSP are built and read with it.
    pub fn structure(&self) -> Result<&x509_cert::Certificate> {
        self.0
            .structure
            .get_or_init(|| x509_cert::Certificate::from_der(&self.0.der))
            .as_ref()
            .map_err(malformed)
    }

    /// x509-parser's view, for names and extensions as text. `None` only for DER that
    /// OpenSSL accepted and x509-parser does not.
    pub fn parsed(&self) -> Option<X509Certificate<'_>> {
        X509Certificate::from_der(&self.0.der)
            .ok()
            .map(|(_, cert)| cert)
    }

    /// Whether `x509` is this very certificate (the same OpenSSL object, as handed back in
    /// a chain OpenSSL built from it).
    pub fn is(&self, x509: &X509Ref) -> bool {
        // A foreign-types reference is the address of the C object itself.
        std::ptr::eq::<X509Ref>(&*self.0.openssl, x509)
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der() == other.der()
    }
}

impl Eq for Certificate {}

impl Hash for Certificate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.der().hash(state);
    }
}

/// Looks certificates up by their DER (the cache above); equality and hash are the DER's.
impl Borrow<[u8]> for Certificate {
    fn borrow(&self) -> &[u8] {
        self.der()
    }
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let subject = self.parsed().map(|c| c.subject().to_string());
        f.debug_struct("Certificate")
            .field("subject", &subject)
            .finish_non_exhaustive()
    }
}
