//! Verifying a signed PDF in process, as a ratio to pyHanko validating the same file in the
//! same run (a Python loop of 100 validations; interpreter start excluded).
//!
//! `cargo bench --bench verify`. Under `cargo test` it verifies once as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../tests/api/fixtures.rs"]
mod fixtures;

use std::process::Command;
use std::time::{Duration, Instant};

use kyso::pdf::sign::sign;
use kyso::pdf::verify::{report::Indication, verify, Context};
use kyso::pki::revocation::{RevocationLists, RevocationSource};
use kyso::pki::trust::TrustStore;

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let common::Bench { dir, manifest, key } = common::dev_key();
    let spec = common::invisible_b_b();
    let signed = sign(
        &fixtures::sample_pdf_of_size(100 * 1024),
        &spec,
        &key,
        &Default::default(),
    )
    .unwrap();
    let root_path = manifest.path(dir.path(), &manifest.root);
    let root = openssl::x509::X509::from_pem(&std::fs::read(&root_path).unwrap()).unwrap();
    let trust = TrustStore::new(vec![root]);
    let crls = RevocationLists::load(&[dir.path().join("crl").as_path()]).unwrap();
    let revocation = RevocationSource::new(crls, None);
    let ctx = Context {
        trust: &trust,
        revocation: &revocation,
        now: chrono::Utc::now(),
        limits: Default::default(),
    };
    assert_eq!(
        verify(&signed, &ctx).unwrap().indication,
        Indication::TotalPassed
    );
    if !benchmarking {
        return;
    }

    let file = dir.path().join("signed.pdf");
    std::fs::write(&file, &signed).unwrap();
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv-validators/bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/pyhanko_validate.py");
    let output = Command::new(python)
        .arg(script)
        .arg(&file)
        .arg(&root_path)
        .arg("100")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pyhanko: f64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap();

    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) || samples.len() < 100 {
        let t = Instant::now();
        verify(&signed, &ctx).unwrap();
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    let kyso = samples[samples.len() / 2];
    println!(
        "input: {} bytes, one PAdES B-B signature (RSA-2048), chain + CRL checked",
        signed.len()
    );
    println!("pyHanko validate (mean of 100) : {:>9.1} µs", pyhanko * 1e6);
    println!("kyso verify (median)           : {:>9.1} µs", kyso * 1e6);
    println!("speed-up kyso vs pyHanko       : {:>9.1}×", pyhanko / kyso);
}
