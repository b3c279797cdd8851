//! Rows as Rust values.

use diesel::prelude::*;

use serde::Serialize;

use crate::db::schema::{
    api_clients, audit_log, certificates, communes, documents, issuance_requests, numbering_books,
    officials, request_events, signers, signing_log, signing_sessions, void_numbers,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = communes)]
pub struct Commune {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub province: String,
    pub demo: bool,
    pub created_at: String,
}

/// An official or an agency that signs, with its certificate and key reference.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signers)]
pub struct Signer {
    pub id: String,
    pub kind: String,
    pub commune_code: String,
    pub name: String,
    pub title: String,
    pub certificate_pem: String,
    pub cert_serial: String,
    pub not_before: String,
    pub not_after: String,
    pub key_ref: String,
    pub dev: bool,
    /// PIN attempts claimed: those in flight and the wrong ones.
    pub pin_claims: i32,
    pub locked_until: Option<String>,
    pub created_at: String,
    pub pin_window_start: Option<String>,
    /// PINs found wrong in the current window; `max_failed_pins` of them lock the key.
    pub wrong_pins: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
pub struct ApiClient {
    pub id: String,
    pub key_hash: String,
    pub role: String,
    pub commune_code: Option<String>,
    pub label: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_log)]
pub struct SigningLogEntry {
    pub id: String,
    /// One of kyso's signers; none for a signature made through a signing session.
    pub signer_id: Option<String>,
    pub client_id: Option<String>,
    pub commune_code: String,
    pub level: String,
    pub input_sha256: String,
    pub output_sha256: String,
    pub created_at: String,
    /// The registered certificate a signing session's signature is by.
    pub certificate_id: Option<String>,
    pub session_id: Option<String>,
}

/// An official (người ký) or the commune's agency (cơ quan) tracked for certificates.
#[derive(
    Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize, utoipa::ToSchema,
)]
#[diesel(table_name = officials, treat_none_as_null = true)]
pub struct Official {
    pub id: String,
    pub commune_code: String,
    pub kind: String,
    pub name: String,
    pub personal_id: Option<String>,
    pub tax_code: Option<String>,
    pub position: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A registered certificate (chứng thư số) and what was read from it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = certificates)]
pub struct Certificate {
    pub id: String,
    pub official_id: String,
    pub serial: String,
    pub issuer: String,
    pub subject: String,
    pub uids: String,
    pub not_before: String,
    pub not_after: String,
    pub key_usage: String,
    pub fingerprint: String,
    #[serde(skip)]
    pub pem: String,
    pub revoked_at: Option<String>,
    pub revocation_reason: Option<String>,
    pub replaces_certificate_id: Option<String>,
    pub created_at: String,
    /// Chains to a trust anchor and its UID names the holder: only then it counts for readiness.
    pub trusted: bool,
}

/// A request to the CA (đề nghị cấp chứng thư số) and where it stands.
#[derive(
    Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize, utoipa::ToSchema,
)]
#[diesel(table_name = issuance_requests, treat_none_as_null = true)]
pub struct IssuanceRequest {
    pub id: String,
    pub commune_code: String,
    pub official_id: String,
    pub kind: String,
    pub form: String,
    pub state: String,
    pub note: String,
    pub certificate_id: Option<String>,
    pub submitted_at: Option<String>,
    pub received_at: Option<String>,
    pub closed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = request_events)]
pub struct RequestEvent {
    pub id: String,
    pub request_id: String,
    pub seq: i32,
    pub actor: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub created_at: String,
}

/// A numbering book (sổ): one per commune, kind and year.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = numbering_books)]
pub struct NumberingBook {
    pub id: String,
    pub commune_code: String,
    pub kind: String,
    pub year: i32,
    pub next_number: i32,
    pub created_at: String,
}

/// An issued document: an extract or a certified copy.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = documents)]
pub struct Document {
    pub id: String,
    pub kind: String,
    #[serde(rename = "commune")]
    pub commune_code: String,
    #[serde(skip)]
    pub book_id: String,
    pub year: i32,
    pub number: i32,
    pub number_label: String,
    #[serde(rename = "book")]
    pub book_label: String,
    pub lookup_code: String,
    #[serde(rename = "official")]
    pub official_id: String,
    #[serde(rename = "agency")]
    pub agency_id: Option<String>,
    pub state: String,
    pub sha256: String,
    pub size: i64,
    #[serde(skip)]
    pub blob_key: String,
    pub client_id: Option<String>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
    #[serde(skip)]
    pub request_sha256: String,
    pub created_at: String,
    pub sealed_at: Option<String>,
    /// When the newest timestamp's authority certificate expires (PAdES B-LTA archive).
    #[serde(skip)]
    pub archive_expires_at: Option<String>,
}

/// A two-step signing session (phiên ký hai bước): the prepared PDF and what was handed out.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_sessions)]
pub struct SigningSession {
    pub id: String,
    pub client_id: String,
    pub commune_code: String,
    pub certificate_id: String,
    pub level: String,
    pub state: String,
    pub prepared_pdf: Vec<u8>,
    pub original_len: i64,
    pub contents_start: i64,
    pub contents_end: i64,
    pub to_sign: Vec<u8>,
    pub created_at: String,
    pub expires_at: String,
    pub finished_at: Option<String>,
    pub document_kind: Option<String>,
    pub book_id: Option<String>,
    pub number: Option<i32>,
    pub number_label: Option<String>,
    pub book_label: Option<String>,
    pub lookup_code: Option<String>,
    pub signer_id: Option<String>,
    pub request_sha256: Option<String>,
    pub document_id: Option<String>,
}

/// A number taken for a document that was never issued, kept in its book as void.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = void_numbers)]
pub struct VoidNumber {
    #[serde(skip)]
    pub book_id: String,
    pub number: i32,
    pub number_label: String,
    pub reason: String,
    pub session_id: Option<String>,
    pub created_at: String,
}
