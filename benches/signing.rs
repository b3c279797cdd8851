//! Signing a ~100 KB PDF in process (PAdES B-B, RSA-2048), as a ratio to one raw OpenSSL
//! RSA-2048 SHA-256 signature measured in the same run: the ratio is the cost of everything
//! around the signature (parsing, incremental update, hashing, CMS).
//!
//! `cargo bench --bench signing`. Under `cargo test` it signs once as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../tests/api/fixtures.rs"]
mod fixtures;

use std::time::{Duration, Instant};

use kyso::pdf::sign::sign;

/// Median time of one call, over batches run for about `budget`.
fn median(budget: Duration, mut f: impl FnMut()) -> Duration {
    for _ in 0..5 {
        f(); // warm up
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 20 {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let common::Bench { key, .. } = common::dev_key();
    let pdf = fixtures::sample_pdf_of_size(100 * 1024);
    let spec = common::invisible_b_b();
    let signed = sign(&pdf, &spec, &key, &Default::default()).unwrap();
    assert!(signed.starts_with(&pdf));
    if !benchmarking {
        return;
    }

    let budget = Duration::from_secs(3);
    let digest = [7u8; 32];
    let raw = median(budget, || {
        key.sign(&digest).unwrap();
    });
    let kyso = median(budget, || {
        sign(&pdf, &spec, &key, &Default::default()).unwrap();
    });
    // The parts no signer can skip: reading the PDF and hashing all of it.
    let parse = median(budget, || {
        kyso::pdf::read::parse(&pdf, &Default::default()).unwrap();
    });
    let hash = median(budget, || {
        kyso::pki::cms::sha256(&pdf).unwrap();
    });
    println!("input: {} bytes, RSA-2048, PAdES B-B, invisible", pdf.len());
    println!(
        "  of which lopdf parse     : {:>9.1} µs",
        parse.as_secs_f64() * 1e6
    );
    println!(
        "  of which SHA-256 of file : {:>9.1} µs",
        hash.as_secs_f64() * 1e6
    );
    println!(
        "openssl RSA-2048 signature : {:>9.1} µs (median)",
        raw.as_secs_f64() * 1e6
    );
    println!(
        "kyso sign, whole PDF       : {:>9.1} µs (median)",
        kyso.as_secs_f64() * 1e6
    );
    println!(
        "ratio kyso / raw signature : {:>9.2}×",
        kyso.as_secs_f64() / raw.as_secs_f64()
    );
}
