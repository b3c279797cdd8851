//! kyso's core: the PDF (`pdf`: read, sign, certify, render, verify) and the PKI (`pki`:
//! certificates, key stores, CMS, trust, revocation, time-stamps), and Vietnam's clock and date
//! formats (`vietnam`). Bytes and certificates in,
//! values out: it knows nothing of HTTP or databases; the service (`kyso`) drives it.

pub mod error;
pub mod input;
pub mod pdf;
pub mod pki;
pub mod private_files;
pub mod vietnam;

pub use error::{Error, Result};
