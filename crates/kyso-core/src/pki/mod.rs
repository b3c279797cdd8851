//! Certificates and keys: the dev CA generator, key stores, CMS structures and the TSA.

pub mod algorithms;
pub mod certificate;
pub mod cms;
pub mod dev;
pub mod fetch;
pub mod keystore;
pub mod ocsp;
pub mod pkcs11;
pub mod revocation;
pub mod trust;
pub mod tsa;

pub use certificate::Certificate;
