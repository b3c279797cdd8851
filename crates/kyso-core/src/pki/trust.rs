//! Trust anchors and chain building at a given time, with the reasons a chain fails.

use std::path::Path;

use chrono::{DateTime, Utc};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{X509Ref, X509StoreContext, X509VerifyResult};

use crate::error::{Error, Result};
use crate::pki::certificate::Certificate;

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
    anchors: Vec<Certificate>,
    /// The operator's intermediate CA certificates (`pki.intermediates_dir`): helpers for
    /// chains whose signatures carry only the signer's certificate, never trusted themselves.
    intermediates: Vec<Certificate>,
}

impl TrustStore {
    pub fn new(anchors: Vec<Certificate>) -> Self {
        Self {
            anchors,
            intermediates: Vec::new(),
        }
    }

    /// The same anchors, with `intermediates` offered to every chain built.
    pub fn with_intermediates(mut self, intermediates: Vec<Certificate>) -> Self {
        self.intermediates = intermediates;
        self
    }

    /// Every certificate in the `*.pem` files of `dir` (missing folder: none): trust anchors,
    /// or the intermediates of `with_intermediates`.
    pub fn load_dir(dir: &Path) -> Result<Vec<Certificate>> {
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
            let certs = Certificate::all_from_pem(&pem).ok_or_else(|| {
                Error::Config(format!("{} holds no PEM certificate", path.display()))
            })?;
            anchors.extend(certs);
        }
        Ok(anchors)
    }

    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// The chain from `cert` to an anchor, valid at `at`, using `intermediates` (and the
    /// configured ones) as untrusted helpers. Revocation is judged separately.
    pub fn chain(
        &self,
        cert: &Certificate,
        intermediates: &[Certificate],
        at: DateTime<Utc>,
    ) -> std::result::Result<Vec<Certificate>, ChainError> {
        let invalid = |e: openssl::error::ErrorStack| ChainError::Invalid(e.to_string());
        let mut builder = X509StoreBuilder::new().map_err(invalid)?;
        for anchor in &self.anchors {
            builder.add_cert(anchor.x509().clone()).map_err(invalid)?;
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
            untrusted.push(c.x509().clone()).map_err(invalid)?;
        }
        // OpenSSL's chain holds the very objects given to it: each is found again among
        // them, so no certificate is encoded or decoded twice.
        let known = |x509: &X509Ref| {
            std::iter::once(cert)
                .chain(intermediates)
                .chain(&self.intermediates)
                .chain(&self.anchors)
                .find(|c| c.is(x509))
                .cloned()
                .map_or_else(|| Certificate::from_x509(x509.to_owned()), Ok)
        };
        let mut ctx = X509StoreContext::new().map_err(invalid)?;
        let (ok, error, chain) = ctx
            .init(&store, cert.x509(), &untrusted, |ctx| {
                let ok = ctx.verify_cert()?;
                let chain = ctx
                    .chain()
                    .map(|s| s.iter().map(known).collect::<Result<Vec<_>>>())
                    .transpose();
                Ok((ok, ctx.error(), chain))
            })
            .map_err(invalid)?;
        match (ok, chain) {
            (false, _) => Err(classify(error)),
            (true, Ok(chain)) => Ok(chain.unwrap_or_default()),
            (true, Err(e)) => Err(ChainError::Invalid(e.to_string())),
        }
    }
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
