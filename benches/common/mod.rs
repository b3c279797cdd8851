//! What the in-process benchmarks share: a fresh dev PKI, a signer's unlocked key, and the
//! signing spec they measure with. Each bench uses part of it.
#![allow(dead_code)]

use chrono::Utc;
use kyso::pdf::sign::SignatureSpec;
use kyso::pki::cms::SigningKey;
use kyso::pki::dev::Manifest;
use kyso::pki::keystore::{KeyStore, Pkcs12Files};
use secrecy::SecretString;

pub struct Bench {
    pub dir: tempfile::TempDir,
    pub manifest: Manifest,
    pub key: SigningKey,
}

/// A dev PKI in a temp dir and the key of `99001-chair`.
pub fn dev_key() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let manifest = kyso::pki::dev::dev_init(dir.path(), None).unwrap();
    let chair = manifest
        .signers
        .iter()
        .find(|s| s.id == "99001-chair")
        .unwrap();
    let key = Pkcs12Files {
        base_dir: ".".into(),
    }
    .unlock(
        &Pkcs12Files::key_ref(&manifest.path(dir.path(), &chair.pkcs12)),
        &SecretString::from(chair.pin.clone()),
    )
    .unwrap();
    Bench { dir, manifest, key }
}

/// An invisible B-B signature made now.
pub fn invisible_b_b() -> SignatureSpec<'static> {
    SignatureSpec {
        time: kyso::vietnam::vietnam_time(Utc::now()),
        reason: None,
        location: None,
        appearance: None,
        timestamper: None,
    }
}

/// Criterion's median of `group/name` in this run (`cargo bench`), in nanoseconds.
pub fn median(group: &str, name: &str) -> f64 {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let path = format!("{target}/criterion/{group}/{name}/new/estimates.json");
    let estimates: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    estimates["median"]["point_estimate"].as_f64().unwrap()
}

/// Whether this is `cargo bench` (criterion measures) rather than `cargo test` (one run each).
pub fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}
