//! Trust anchors and chain building at a given time, with the reasons a chain fails.

use std::path::Path;

use chrono::{DateTime, Utc};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{X509StoreContext, X509VerifyResult, X509};

use crate::error::{Error, Result};

/// Why no valid chain exists at the time asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    /// No path to a trust anchor.
    Untrusted(String),
    /// A certificate of the chain is expired at that time.
    Expired,
    /// A certificate of the chain is not yet valid at that time.
    NotYetValid,
    /// Anything else (bad signature on a certificate, constraints …).
    Invalid(String),
}

#[derive(Default, Clone)]
pub struct TrustStore {
    anchors: Vec<X509>,
    /// The operator's intermediate CA certificates (`pki.intermediates_dir`): helpers for
    /// chains whose signatures carry only the signer's certificate, never trusted themselves.
    intermediates: Vec<X509>,
}

impl TrustStore {
    pub fn new(anchors: Vec<X509>) -> Self {
        Self {
            anchors,
            intermediates: Vec::new(),
        }
    }

    /// The same anchors, with `intermediates` offered to every chain built.
    pub fn with_intermediates(mut self, intermediates: Vec<X509>) -> Self {
        self.intermediates = intermediates;
        self
    }

    /// Every certificate in the `*.pem` files of `dir` (missing folder: none): trust anchors,
    /// or the intermediates of `with_intermediates`.
    pub fn load_dir(dir: &Path) -> Result<Vec<X509>> {
        let mut anchors = Vec::new();
        if !dir.is_dir() {
            return Ok(anchors);
        }
        let entries =
            std::fs::read_dir(dir).map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.extension().and_then(|e| e.to_str()) != Some("pem") {
                continue;
            }
            let pem = std::fs::read(&path)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
            let certs = from_pem(&pem).ok_or_else(|| {
                Error::Config(format!("{} holds no PEM certificate", path.display()))
            })?;
            anchors.extend(certs);
        }
        Ok(anchors)
    }

    pub fn anchors(&self) -> &[X509] {
        &self.anchors
    }

    /// The chain from `cert` to an anchor, valid at `at`, using `intermediates` (and the
    /// configured ones) as untrusted helpers. Revocation is judged separately.
    pub fn chain(
        &self,
        cert: &X509,
        intermediates: &[X509],
        at: DateTime<Utc>,
    ) -> std::result::Result<Vec<X509>, ChainError> {
        let invalid = |e: openssl::error::ErrorStack| ChainError::Invalid(e.to_string());
        let mut builder = X509StoreBuilder::new().map_err(invalid)?;
        for anchor in &self.anchors {
            builder.add_cert(anchor.clone()).map_err(invalid)?;
        }
        let mut param = X509VerifyParam::new().map_err(invalid)?;
        param.set_time(at.timestamp());
        // An anchor may be an intermediate CA an administrator chose to trust.
        param
            .set_flags(X509VerifyFlags::PARTIAL_CHAIN)
            .map_err(invalid)?;
        builder.set_param(&param).map_err(invalid)?;
        let store = builder.build();
        let mut untrusted = Stack::new().map_err(invalid)?;
        for c in intermediates.iter().chain(&self.intermediates) {
            untrusted.push(c.clone()).map_err(invalid)?;
        }
        let mut ctx = X509StoreContext::new().map_err(invalid)?;
        ctx.init(&store, cert, &untrusted, |ctx| {
            let ok = ctx.verify_cert()?;
            let chain = ctx
                .chain()
                .map(|s| s.iter().map(|c| c.to_owned()).collect::<Vec<_>>())
                .unwrap_or_default();
            Ok((ok, ctx.error(), chain))
        })
        .map_err(invalid)
        .and_then(|(ok, error, chain)| if ok { Ok(chain) } else { Err(classify(error)) })
    }
}

/// The certificates of a PEM file (`None` when it holds none or a damaged one), parsed
/// through `cert_cache`: a signature that carries a CA certificate also trusted here (most
/// do) then finds it parsed already, and OpenSSL 3's `d2i_X509` is the dearest step of a
/// small file's verification.
pub fn from_pem(pem: &[u8]) -> Option<Vec<X509>> {
    let certs = x509_parser::pem::Pem::iter_from_buffer(pem)
        .filter(|block| !matches!(block, Ok(p) if p.label != "CERTIFICATE"))
        .map(|block| crate::pki::cert_cache::parse(&block.ok()?.contents).ok())
        .collect::<Option<Vec<X509>>>()?;
    (!certs.is_empty()).then_some(certs)
}

fn classify(error: X509VerifyResult) -> ChainError {
    // Codes from openssl/x509_vfy.h.
    match error.as_raw() {
        9 => ChainError::NotYetValid,
        10 => ChainError::Expired,
        2 | 3 | 18 | 19 | 20 | 21 => ChainError::Untrusted(error.error_string().to_owned()),
        _ => ChainError::Invalid(error.error_string().to_owned()),
    }
}
