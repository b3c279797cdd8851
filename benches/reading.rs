//! Reading a PDF of many small objects at the parser boundary, for 10 000 and 40 000 objects:
//! linear reading takes about 4× as long for 4× the objects, quadratic reading 16×.
//!
//! `cargo bench --bench reading`. Under `cargo test` it reads the small file once.

use std::fmt::Write;
use std::time::Instant;

use kyso::pdf::read::{parse, Limits};

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

fn seconds(pdf: &[u8]) -> f64 {
    let start = Instant::now();
    let parsed = parse(pdf, &Limits::default());
    assert!(
        parsed.is_ok_and(|p| p.warnings.is_empty()),
        "the file reads cleanly"
    );
    start.elapsed().as_secs_f64()
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let small = objects(10_000);
    let first = seconds(&small);
    if !benchmarking {
        return;
    }
    let large = seconds(&objects(40_000));
    println!(
        "reading: 10 000 objects {first:.3} s, 40 000 objects {large:.3} s, ratio {:.1} (linear 4, quadratic 16)",
        large / first
    );
}
