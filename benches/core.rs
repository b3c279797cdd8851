//! The core in process, with criterion: signing (PAdES B-B, invisible), verifying (chain and CRL
//! checked) and rendering (a civil-status form), beside one raw OpenSSL RSA-2048 SHA-256
//! signature and a SHA-256 of the same file measured in the same run. After the run every
//! figure is printed as a ratio to the raw signature (and to the hash), the references this
//! machine sets.
//!
//! `cargo bench --bench core`. Under `cargo test` each function runs once as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../tests/api/fixtures.rs"]
mod fixtures;

use chrono::Utc;
use criterion::{black_box, Criterion};
use kyso::pdf::render::sheet::{self, Line, Sheet};
use kyso::pdf::render::Info;
use kyso::pdf::sign::sign;
use kyso::pdf::verify::{report::Indication, verify, Context};
use kyso::pki::revocation::{RevocationLists, RevocationSource};
use kyso::pki::trust::TrustStore;

const GROUP: &str = "core";

fn form() -> Sheet {
    let field = |label: &str, value: &str| Line::Field(label.into(), value.into());
    Sheet {
        authority: "UBND PHƯỜNG THÀNH ĐÔNG".into(),
        references: vec!["Số: 1/TLKS".into()],
        place_date: "Thành Đông, ngày 25 tháng 11 năm 2026".into(),
        title: "TRÍCH LỤC KHAI SINH".into(),
        body: vec![
            field("Họ, chữ đệm, tên", "Nguyễn Thị Ánh Tuyết"),
            field(
                "Ngày, tháng, năm sinh",
                "05/03/2026, ghi bằng chữ: ngày năm tháng ba năm hai nghìn không trăm hai mươi sáu",
            ),
            field("Nơi sinh", "Bệnh viện Phụ sản Hải Phòng"),
            Line::Heading("Thông tin người mẹ".into()),
            field("Họ, chữ đệm, tên người mẹ", "Trần Thị Hồng Nhung"),
            field("Nơi cư trú", "Số 12 ngõ 34 đường Lạch Tray, Hải Phòng"),
        ],
        signer_heading: vec![
            "NGƯỜI KÝ TRÍCH LỤC".into(),
            "Công chức tư pháp - hộ tịch".into(),
        ],
        signer_name: "Lê Văn Bình".into(),
        lookup_url: "https://kyso.example/d/ABCDEFGHJK".into(),
        lookup_lines: vec!["Mã tra cứu: ABCDEFGHJK".into()],
    }
}

fn main() {
    let common::Bench { dir, manifest, key } = common::dev_key();
    let pdf = fixtures::sample_pdf_of_size(100 * 1024);
    let spec = common::invisible_b_b();
    let signed = sign(&pdf, &spec, &key, &Default::default()).unwrap().pdf;
    let root_path = manifest.path(dir.path(), &manifest.root);
    let root = kyso::pki::Certificate::from_pem(&std::fs::read(&root_path).unwrap()).unwrap();
    let trust = TrustStore::new(vec![root]);
    let crls = RevocationLists::load(&[dir.path().join("crl").as_path()]).unwrap();
    // Files only: a bench must not fetch.
    let revocation = RevocationSource::new(crls, None);
    let ctx = Context {
        trust: &trust,
        revocation: &revocation,
        now: Utc::now(),
        limits: Default::default(),
    };
    assert_eq!(
        verify(&signed, &ctx).unwrap().indication,
        Indication::TotalPassed
    );
    let sheet = form();
    let info = Info {
        title: "Trích lục khai sinh số 1/TLKS",
        author: "UBND PHƯỜNG THÀNH ĐÔNG",
        subject: "TRÍCH LỤC KHAI SINH",
        created: spec.time,
    };

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group(GROUP);
    group.bench_function("raw_rsa2048_signature", |b| {
        b.iter(|| key.sign(black_box(&[7u8; 32])).unwrap())
    });
    group.bench_function("sha256_of_file", |b| {
        b.iter(|| kyso::pki::cms::sha256(black_box(&pdf)).unwrap())
    });
    group.bench_function("sign_b_b", |b| {
        b.iter(|| sign(black_box(&pdf), &spec, &key, &Default::default()).unwrap())
    });
    group.bench_function("verify", |b| {
        b.iter(|| verify(black_box(&signed), &ctx).unwrap())
    });
    group.bench_function("render_form", |b| {
        b.iter(|| sheet::render(black_box(&sheet), &info).unwrap())
    });
    group.finish();
    c.final_summary();

    if common::benchmarking() {
        print_ratios(pdf.len(), signed.len());
    }
}

fn median(name: &str) -> f64 {
    common::median(GROUP, name)
}

fn print_ratios(input: usize, signed: usize) {
    let raw = median("raw_rsa2048_signature");
    let hash = median("sha256_of_file");
    println!("\nmedians of this run, as ratios (input {input} B, signed {signed} B):");
    println!("  raw RSA-2048 signature : {:>9.1} µs = 1", raw / 1e3);
    println!(
        "  SHA-256 of the file    : {:>9.1} µs = {:.3} × raw",
        hash / 1e3,
        hash / raw
    );
    for (name, what) in [
        ("sign_b_b", "sign B-B, whole PDF"),
        ("verify", "verify (chain, CRL)"),
        ("render_form", "render a form"),
    ] {
        let t = median(name);
        println!(
            "  {what:<22} : {:>9.1} µs = {:.2} × raw = {:.1} × SHA-256",
            t / 1e3,
            t / raw,
            t / hash
        );
    }
}
