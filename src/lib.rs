//! kyso — "ký số": PAdES signing and verification of PDFs for Vietnamese commune governments,
//! and tracking of their certificate roll-out.
//!
//! Data flows one way: `http`/`web` → domain (`signing`, `documents`, `rollout`, `signers`,
//! `clients`) → core (`pdf`, `pki`: bytes and certificates in, values out) → storage (`db`).

pub mod app;
pub mod clients;
pub mod config;
pub mod db;
pub mod documents;
pub mod error;
pub mod fetch;
pub mod http;
pub mod input;
pub mod metrics;
pub mod pdf;
pub mod pki;
pub mod private_files;
pub mod rollout;
pub mod sessions;
pub mod signers;
pub mod signing;
pub mod signing_sessions;
pub mod telemetry;
pub mod verify_batch;
pub mod web;

pub use error::{Error, Result};
