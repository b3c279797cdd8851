//! Any bytes uploaded to be signed, sealed or certified: read at the parser boundary, then
//! signed invisibly and turned into a certified copy. Each must end in a signed file or an
//! error, never panic or hang. `RUSTC_BOOTSTRAP=1 cargo fuzz run upload` (see fuzz/README.md).
#![no_main]

use std::sync::OnceLock;

use kyso_core::pdf::certify::{certify, Placement};
use kyso_core::pdf::read;
use kyso_core::pdf::render::statement::Statement;
use kyso_core::pdf::sign::{sign, SignatureSpec};
use kyso_core::pki::cms::SigningKey;
use kyso_core::pki::Certificate;
use libfuzzer_sys::fuzz_target;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::{X509Builder, X509NameBuilder};

/// A self-signed P-256 key: which key signs does not matter to the reading and writing.
fn key() -> SigningKey {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "fuzz").unwrap();
    let name = name.build();
    let mut cert = X509Builder::new().unwrap();
    cert.set_version(2).unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    let now = openssl::asn1::Asn1Time::days_from_now(0).unwrap();
    let later = openssl::asn1::Asn1Time::days_from_now(30).unwrap();
    cert.set_not_before(&now).unwrap();
    cert.set_not_after(&later).unwrap();
    cert.sign(&key, openssl::hash::MessageDigest::sha256())
        .unwrap();
    SigningKey {
        key: Box::new(key),
        certificate: Certificate::from_x509(cert.build()).unwrap(),
        chain: Vec::new(),
    }
}

fn statement() -> Statement {
    let text = |s: &str| s.to_owned();
    Statement {
        authority: text("UBND PHƯỜNG THÀNH ĐÔNG"),
        text: text("Chứng thực bản sao đúng với bản chính"),
        number: text("Số chứng thực: 1/ĐT"),
        book: text("Quyển số: 2026-SCTĐT/BS"),
        date: text("Ngày 1 tháng 1 năm 2026"),
        certifier_heading: text("Người thực hiện chứng thực"),
        certifier_title: text("Phó Chủ tịch"),
        certifier_name: text("Nguyễn Văn A"),
        lookup_url: text("https://example.invalid/d/X"),
        lookup_lines: vec![text("Tra cứu")],
    }
}

fuzz_target!(|data: &[u8]| {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    let key = KEY.get_or_init(key);
    let limits = read::Limits::default();
    if read::parse(data, &limits).is_err() {
        return;
    }
    let spec = SignatureSpec {
        time: chrono::Utc::now().fixed_offset(),
        reason: Some("fuzz"),
        location: None,
        appearance: None,
        timestamper: None,
    };
    let _ = sign(data, &spec, key, &limits);
    let placement = if data.len() % 2 == 0 {
        Placement::Page
    } else {
        Placement::Stamp
    };
    let _ = certify(data, &statement(), placement, &limits);
});
