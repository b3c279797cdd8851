//! Parsed certificates, remembered by their DER bytes.
//!
//! OpenSSL 3 spends about 100 µs in `d2i_X509` per certificate (it hashes and caches
//! extensions under global locks), more than the rest of a signature check; and the same few
//! CA and official certificates come back in document after document.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use openssl::x509::X509;

/// Enough for every certificate of a province's officials and CAs; cleared when full.
const CAPACITY: usize = 4096;

pub fn parse(der: &[u8]) -> Result<X509, openssl::error::ErrorStack> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, X509>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(cert) = cache.lock().ok().and_then(|c| c.get(der).cloned()) {
        return Ok(cert);
    }
    let cert = X509::from_der(der)?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CAPACITY {
            c.clear();
        }
        c.insert(der.to_vec(), cert.clone());
    }
    Ok(cert)
}
