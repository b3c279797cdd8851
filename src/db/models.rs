//! Rows as Rust values.

use diesel::prelude::*;

use crate::db::schema::{api_clients, communes, signers, signing_log};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
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
    pub failed_pins: i32,
    pub locked_until: Option<String>,
    pub created_at: String,
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
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_log)]
pub struct SigningLogEntry {
    pub id: String,
    pub signer_id: String,
    pub client_id: Option<String>,
    pub commune_code: String,
    pub level: String,
    pub input_sha256: String,
    pub output_sha256: String,
    pub created_at: String,
}
