//! The validation report: what was checked, the ETSI EN 319 102-1 indication per signature,
//! and what it means for the reader, in Vietnamese and English.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    TotalPassed,
    Indeterminate,
    TotalFailed,
}

/// ETSI EN 319 102-1 sub-indications kyso reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    FormatFailure,
    HashFailure,
    SigCryptoFailure,
    Revoked,
    Expired,
    NotYetValid,
    NoSigningCertificateFound,
    NoCertificateChainFound,
    CertificateChainGeneralFailure,
    RevokedNoPoe,
    OutOfBoundsNoPoe,
    SigConstraintsFailure,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub document: DocumentInfo,
    pub signatures: Vec<SignatureReport>,
    /// Worst indication over all signatures; INDETERMINATE when there is none.
    pub indication: Indication,
    pub summary: Explanation,
    /// What was wrong with the file but could be read anyway (a repaired cross-reference).
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DocumentInfo {
    pub sha256: String,
    pub size: usize,
    pub revisions: usize,
    pub signatures: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub vi: String,
    pub en: String,
}

#[derive(Debug, Serialize)]
pub struct SignatureReport {
    pub field: String,
    /// `signature` or `document_timestamp`.
    pub kind: &'static str,
    pub sub_filter: Option<String>,
    pub level: Option<&'static str>,
    pub signer: Option<CertificateInfo>,
    /// `/M`: claimed by the signer, not proven.
    pub claimed_signing_time: Option<String>,
    pub timestamp: Option<TimestampInfo>,
    pub checks: Checks,
    pub coverage: Coverage,
    pub indication: Indication,
    pub sub_indication: Option<SubIndication>,
    pub explanation: Explanation,
    /// Everything that went wrong, in English, for the technical report.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub common_name: Option<String>,
    pub organization: Option<String>,
    /// `UID` attributes, e.g. `CCCD:001234567890`, `MST:0101234567`.
    pub uids: Vec<String>,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub key_usage: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TimestampInfo {
    pub time: String,
    pub authority: Option<String>,
    /// The token's signature and imprint verify and its TSA chains to a trust anchor.
    pub valid: bool,
}

/// `None`: not evaluated (an earlier step failed).
#[derive(Debug, Default, Serialize)]
pub struct Checks {
    pub byte_range: Option<bool>,
    pub digest: Option<bool>,
    pub signature: Option<bool>,
    pub chain: Option<bool>,
    pub chain_detail: Option<String>,
    /// `good`, `revoked <time>`, or `unknown` (no revocation data for this issuer).
    pub revocation: Option<String>,
    pub key_usage: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
pub struct Coverage {
    /// 1-based revision the signature closes.
    pub revision: Option<usize>,
    pub whole_file: bool,
    pub later_changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The object, as `12 0 R`; changes are judged on the final state of each object.
    pub object: String,
    /// What kind of object it is and what happened to it.
    pub what: String,
    pub allowed: bool,
    /// The rule that judged it.
    pub rule: &'static str,
}

/// The ETSI names, as in the JSON report.
macro_rules! display_as_serialized {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let value = serde_json::to_value(self).map_err(|_| std::fmt::Error)?;
                f.write_str(value.as_str().unwrap_or_default())
            }
        }
    )*};
}
display_as_serialized!(Indication, SubIndication);
