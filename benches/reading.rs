//! Reading a PDF of many small objects at the parser boundary, for 10 000 and 40 000 objects:
//! linear reading takes about 4× as long for 4× the objects, quadratic reading 16×.
//!
//! `cargo bench --bench reading` (criterion). Under `cargo test` it reads each file once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Write;

use criterion::{black_box, Criterion};
use kyso::pdf::read::{parse, Limits};

const GROUP: &str = "reading";

/// Catalog, pages, then `count` small dictionaries, with a classic xref table.
fn objects(count: usize) -> Vec<u8> {
    let mut pdf = String::from("%PDF-1.7\n");
    let mut table = String::new();
    let bodies = [
        "<</Type/Catalog/Pages 2 0 R>>".to_owned(),
        "<</Type/Pages/Kids[]/Count 0>>".to_owned(),
    ]
    .into_iter()
    .chain((0..count).map(|i| format!("<</N {i}/A[1 2 (x)]>>")));
    for (i, body) in bodies.enumerate() {
        let _ = writeln!(table, "{:010} 00000 n ", pdf.len());
        let _ = write!(pdf, "{} 0 obj\n{body}\nendobj\n", i + 1);
    }
    let size = count + 3;
    let xref = pdf.len();
    let _ = write!(
        pdf,
        "xref\n0 {size}\n0000000000 65535 f \n{table}trailer\n<</Size {size}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n"
    );
    pdf.into_bytes()
}

fn read(pdf: &[u8]) {
    let parsed = parse(black_box(pdf), &Limits::default());
    assert!(
        parsed.is_ok_and(|p| p.warnings.is_empty()),
        "the file reads cleanly"
    );
}

fn main() {
    let (small, large) = (objects(10_000), objects(40_000));
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group(GROUP);
    group.sample_size(10);
    group.bench_function("objects_10000", |b| b.iter(|| read(&small)));
    group.bench_function("objects_40000", |b| b.iter(|| read(&large)));
    group.finish();
    c.final_summary();
    if common::benchmarking() {
        let (first, last) = (
            common::median(GROUP, "objects_10000"),
            common::median(GROUP, "objects_40000"),
        );
        println!(
            "reading: 10 000 objects {:.3} s, 40 000 objects {:.3} s, ratio {:.1} (linear 4, quadratic 16)",
            first / 1e9,
            last / 1e9,
            last / first
        );
    }
}
