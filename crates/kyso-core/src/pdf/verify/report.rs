//! The validation report: what was checked, the ETSI EN 319 102-1 indication per signature,
//! and what it means for the reader, in Vietnamese and English.

use serde::Serialize;

pub use super::changes::Rule;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    TotalPassed,
    Indeterminate,
    TotalFailed,
}

/// ETSI EN 319 102-1 sub-indications kyso reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub document: DocumentInfo,
    pub signatures: Vec<SignatureReport>,
    /// Worst indication over all signatures; INDETERMINATE when there is none.
    pub indication: Indication,
    /// The time validation was asked for (RFC 3339; now unless `at` says otherwise).
    pub validation_time: String,
    pub summary: Explanation,
    /// What was wrong with the file but could be read anyway (a repaired cross-reference).
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentInfo {
    pub sha256: String,
    pub size: usize,
    pub revisions: usize,
    /// Signatures, document timestamps not counted.
    pub signatures: usize,
    /// Document timestamps (`/DocTimeStamp`, PAdES B-LTA archive timestamps).
    pub document_timestamps: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Explanation {
    pub vi: String,
    pub en: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
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
    /// When the signer's (or the authority's) certificate was checked, and why then.
    pub validated_at: Option<ValidatedAt>,
    pub checks: Checks,
    pub coverage: Coverage,
    pub indication: Indication,
    pub sub_indication: Option<SubIndication>,
    pub explanation: Explanation,
    /// Everything that went wrong, in English, for the technical report.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimestampInfo {
    pub time: String,
    pub authority: Option<String>,
    /// The token's signature and imprint verify and its TSA chains to a trust anchor.
    pub valid: bool,
}

/// The time a certificate was judged at (ETSI EN 319 102-1 §5.6.2, past signature validation).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ValidatedAt {
    /// RFC 3339.
    pub time: String,
    /// `validation_time`: the certificate is valid at the time asked for; or
    /// `proof_of_existence`: it is not (expired, revoked since), so it was judged at the time
    /// a timestamp proves the signature existed.
    pub basis: &'static str,
    /// The earliest proof that the signature existed, if a valid timestamp gives one.
    pub proof: Option<Proof>,
}

/// A proof of existence: a valid timestamp over the signature.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Proof {
    pub time: String,
    /// `signature_timestamp` or `document_timestamp`.
    pub source: &'static str,
    /// The document timestamp's field.
    pub field: Option<String>,
}

/// `None`: not evaluated (an earlier step failed).
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// 1-based revision the signature closes.
    pub revision: Option<usize>,
    pub whole_file: bool,
    /// The highest level of the changes made after signing, as pyHanko reports it.
    pub modification_level: ModificationLevel,
    pub later_changes: Vec<Change>,
}

/// How far the changes after a signature go (pyHanko's `ModificationLevel`): each level
/// includes the ones before it; `other` is what no rule explains.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ModificationLevel {
    /// Nothing changed.
    #[default]
    #[serde(rename = "none")]
    Unchanged,
    /// Validation data, document timestamps, invisible signature fields, metadata.
    LtaUpdates,
    /// Form filling and signing (visible signature fields).
    FormFilling,
    /// Annotations added, changed or removed.
    Annotations,
    /// Anything else.
    Other,
}

impl ModificationLevel {
    /// For people: Vietnamese, English.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Self::Unchanged => ("không có thay đổi", "no changes"),
            Self::LtaUpdates => (
                "chỉ bổ sung dữ liệu kiểm tra hiệu lực, dấu thời gian",
                "validation data and timestamps only",
            ),
            Self::FormFilling => ("điền biểu mẫu và ký thêm", "form filling and signing"),
            Self::Annotations => (
                "thêm, sửa hoặc xóa chú thích",
                "annotations added, changed or removed",
            ),
            Self::Other => ("thay đổi không được phép", "changes no rule allows"),
        }
    }
}

/// What happened to an object after signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Added,
    Changed,
    Removed,
    /// A finding about the document as a whole (a removed field, a changed catalog).
    Finding,
}

impl Action {
    pub fn vi(self) -> &'static str {
        match self {
            Action::Added => "thêm",
            Action::Changed => "sửa",
            Action::Removed => "xóa",
            Action::Finding => "phát hiện",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Action::Added => "added",
            Action::Changed => "changed",
            Action::Removed => "removed",
            Action::Finding => "finding",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// The object, as `12 0 R` (`—` for a finding about the document as a whole).
    pub object: String,
    /// What kind of object it is and what happened to it (`Page changed`).
    pub what: String,
    /// The object's kind alone (`Page`, `XObject /Form`).
    pub kind: String,
    pub action: Action,
    /// 1-based revision that made the change.
    pub revision: usize,
    pub level: ModificationLevel,
    pub allowed: bool,
    /// The rule that judged it, in Vietnamese and English.
    pub rule: Rule,
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
