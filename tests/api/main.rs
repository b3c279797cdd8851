//! One integration binary: the real server, real databases, real validators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod corpus;
mod documents;
mod first_run;
mod fixtures;
mod helpers;
mod hostile;
mod interop;
mod limits;
mod ltv;
mod metrics;
mod openapi;
mod pkcs11;
mod privilege;
mod reading;
mod rollout;
mod rollout_page;
mod schemathesis;
mod signing;
mod validators;
mod verify;
mod verify_algorithms;
