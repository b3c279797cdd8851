//! How the core asks the outside world for validation data (OCSP answers, CRLs, issuer
//! certificates) and timestamps, without knowing HTTP: the service implements [`Fetch`]
//! (`src/fetch.rs`), measuring every call; the core only names what it fetches and why.

/// What a fetch is for: the label of its latency and failure metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tsa,
    Ocsp,
    Crl,
    CaIssuers,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tsa => "tsa",
            Kind::Ocsp => "ocsp",
            Kind::Crl => "crl",
            Kind::CaIssuers => "ca_issuers",
        }
    }
}

/// Why nothing usable came back.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct FetchError {
    pub url: String,
    pub reason: String,
}

pub type Fetched = std::result::Result<Vec<u8>, FetchError>;

/// A transport for validation data: `GET` (CRLs, certificates, RFC 6960 A.1 OCSP) and `POST`
/// (OCSP, RFC 3161). Bodies come back whole or not at all.
pub trait Fetch: Send + Sync {
    fn get(&self, kind: Kind, url: &str, accept: &str) -> Fetched;
    fn post(&self, kind: Kind, url: &str, content_type: &str, body: &[u8]) -> Fetched;
}
