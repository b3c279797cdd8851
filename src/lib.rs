//! kyso — "ký số": PAdES signing and verification of PDFs for Vietnamese commune governments,
//! and tracking of their certificate roll-out.
//!
//! Data flows one way, and modules import only those below them (README, "Layout"): `server`
//! → `web` → `http` → `app` → domain (`documents`, `signing_sessions`, `signing`, `signers`,
//! `rollout`, `clients`…) → core (`pdf`, `pki`, `vietnam`: the `kyso-core` crate, bytes and
//! certificates in, values out), `config`, `vocabulary` → storage (`db`, `blobs`).

pub mod app;
pub mod blobs;
pub mod clients;
pub mod config;
pub mod db;
pub mod documents;
pub mod error;
pub mod fetch;
pub mod http;
pub mod metrics;
pub mod rate;
pub mod rollout;
pub mod server;
pub mod sessions;
pub mod signers;
pub mod signing;
pub mod signing_log;
pub mod signing_sessions;
pub mod telemetry;
pub mod verify_batch;
pub mod vocabulary;
pub mod web;

pub use error::{Error, Result};
// The core's modules under their old paths (`crate::pdf::…`), as the service uses them.
pub use kyso_core::{input, pdf, pki, private_files, vietnam};
