//! `POST /api/v1/verify` on the algorithms and CMS shapes other signers use: the peers' own
//! test files (`../shared/corpus`, from pyHanko's and iText's suites) and files made here with
//! OpenSSL and pyHanko. Trust is not the point (the corpus uses test CAs): byte range, digest
//! and signature value are.

use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkcs12::Pkcs12;
use openssl::stack::Stack;
use serde_json::Value;

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{dev_pki, shared_data, spawn_app, SignParams, TestApp};
use crate::validators::pyhanko_document_timestamp;

fn corpus_file(name: &str) -> Vec<u8> {
    std::fs::read(shared_data("corpus").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn signatures(report: &Value) -> &Vec<Value> {
    report["signatures"].as_array().unwrap()
}

/// Byte range, digest and signature value hold, and no failure of those is reported.
fn assert_intact(name: &str, sig: &Value) {
    for check in ["byte_range", "digest", "signature"] {
        assert_eq!(sig["checks"][check], true, "{name}: {check}: {sig:#}");
    }
    let sub = sig["sub_indication"].as_str().unwrap_or("");
    assert!(
        !matches!(sub, "HASH_FAILURE" | "SIG_CRYPTO_FAILURE"),
        "{name}: {sig:#}"
    );
}

/// Each file holds one signature (or document timestamp) over the whole file, made with the
/// algorithm or CMS shape named: intact, and only trust in the test CA is missing.
const WHOLE_FILE: &[(&str, &str)] = &[
    (
        "itext/iso32002/sample-ed25519-sha512.pdf",
        "Ed25519, SHA-512",
    ),
    (
        "pyhanko/ed448-shake256-nolen.pdf",
        "Ed448, id-shake256 without length",
    ),
    (
        "itext/iso32002/sample-nistp256-sha3_256.pdf",
        "ECDSA with SHA3-256",
    ),
    (
        "itext/iso32002/sample-brainpoolP384r1-sha3_384.pdf",
        "ECDSA brainpoolP384r1 with SHA3-384",
    ),
    (
        "itext/iso32002/sample-rsa-sha3_256.pdf",
        "RSA PKCS#1 v1.5 with SHA3-256",
    ),
    (
        "itext/iso32002/sample-pss-sha3_256.pdf",
        "RSASSA-PSS with SHA3-256",
    ),
    (
        "itext/iso32002/sample-nistp256-sha256.pdf",
        "ECDSA with SHA-256",
    ),
    (
        "pyhanko/sig-with-ski-sid.pdf",
        "SignerIdentifier by subjectKeyIdentifier",
    ),
    ("pyhanko/sig-no-signed-attrs.pdf", "no signed attributes"),
    (
        "pyhanko/pades-with-old-style-signing-cert-attr.pdf",
        "ESS signingCertificate v1",
    ),
    (
        "pyhanko/pades-with-old-style-signing-cert-attr-issser.pdf",
        "ESS signingCertificate v1 with issuerSerial",
    ),
    (
        "itext/timeStampSignatureBerEncoded.pdf",
        "BER document timestamp, SHA-1 TSA",
    ),
];

/// Later signatures or document timestamps in these files use the same kinds (Ed25519 second
/// signatures, PAdES-LTA document timestamps): each must be intact.
const LATER_SIGNATURES: &[&str] = &[
    "pyhanko/extensions-direct.pdf",
    "pyhanko/extensions-indirect.pdf",
    "pyhanko/extensions-update-indirect.pdf",
    "pyhanko/pades-lta-dss-indirect-arrs-test.pdf",
    "pyhanko/pades-lta-dss-indirect-arrs-test-2.pdf",
];

#[tokio::test]
async fn peers_algorithms_and_cms_shapes_are_intact() {
    let app = spawn_app().await;
    for (name, what) in WHOLE_FILE {
        let report = app.verify(&corpus_file(name)).await;
        let sigs = signatures(&report);
        assert_eq!(sigs.len(), 1, "{name} ({what}): {report:#}");
        assert_intact(name, &sigs[0]);
        assert_eq!(
            sigs[0]["indication"], "INDETERMINATE",
            "{name} ({what}): {report:#}"
        );
        assert_eq!(
            sigs[0]["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND",
            "{name}"
        );
    }
    for name in LATER_SIGNATURES {
        let report = app.verify(&corpus_file(name)).await;
        assert!(signatures(&report).len() >= 2, "{name}: {report:#}");
        for sig in signatures(&report) {
            assert_intact(name, sig);
        }
    }
    // The BER token's TSA signs with SHA-1: intact, and said to be weak.
    let report = app
        .verify(&corpus_file("itext/timeStampSignatureBerEncoded.pdf"))
        .await;
    let problems = signatures(&report)[0]["problems"].to_string();
    assert!(problems.contains("SHA-1, which is weak"), "{problems}");
}

/// The dev signer's key, certificate and chain without the root (as kyso embeds it).
fn dev_signer(
    id: &str,
) -> (
    openssl::pkey::PKey<openssl::pkey::Private>,
    openssl::x509::X509,
    Stack<openssl::x509::X509>,
) {
    let pki = dev_pki();
    let der = std::fs::read(pki.pkcs12(id)).unwrap();
    let parsed = Pkcs12::from_der(&der)
        .unwrap()
        .parse2(&pki.pin(id))
        .unwrap();
    let mut chain = Stack::new().unwrap();
    for ca in parsed.ca.into_iter().flatten() {
        let self_signed = ca.issuer_name().to_der().unwrap() == ca.subject_name().to_der().unwrap();
        if !self_signed {
            chain.push(ca).unwrap();
        }
    }
    (parsed.pkey.unwrap(), parsed.cert.unwrap(), chain)
}

/// Replaces the signature of a kyso-signed file by a CMS that encapsulates
/// `econtent(signed bytes)`, as a PKCS#7 signer that does not detach writes it, after
/// rewriting the SubFilter to `sub_filter` (padded, so every offset stays).
fn resign_attached(pdf: &[u8], sub_filter: &str, econtent: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let find = |what: &str| {
        pdf.windows(what.len())
            .position(|w| w == what.as_bytes())
            .unwrap_or_else(|| panic!("{what} not in kyso's output"))
    };
    let from = "/SubFilter /ETSI.CAdES.detached";
    let at = find(from);
    let mut out = pdf.to_vec();
    out[at..at + from.len()].copy_from_slice(
        format!(
            "{:<width$}",
            format!("/SubFilter /{sub_filter}"),
            width = from.len()
        )
        .as_bytes(),
    );
    let start = find("/ByteRange [") + "/ByteRange [".len();
    let end = start + pdf[start..].iter().position(|&b| b == b']').unwrap();
    let range: Vec<usize> = String::from_utf8_lossy(&pdf[start..end])
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let (gap_start, gap_end) = (range[1], range[2]);
    let signed = [&out[..gap_start], &out[gap_end..gap_end + range[3]]].concat();
    let (key, cert, chain) = dev_signer("99001-chair");
    let cms = CmsContentInfo::sign(
        Some(&cert),
        Some(&key),
        Some(&chain),
        Some(&econtent(&signed)),
        CMSOptions::BINARY | CMSOptions::NOSMIMECAP,
    )
    .unwrap()
    .to_der()
    .unwrap();
    let hex = hex::encode_upper(cms);
    let room = gap_end - gap_start - 2;
    assert!(
        hex.len() <= room,
        "CMS of {} hex digits, room for {room}",
        hex.len()
    );
    out[gap_start + 1..gap_end - 1].copy_from_slice(format!("{hex:0<room$}").as_bytes());
    out
}

async fn kyso_signed(app: &TestApp) -> Vec<u8> {
    app.signed(
        &sample_pdf(XrefStyle::Classic),
        SignParams {
            signer: "99001-chair",
            level: Some("B-B"),
            ..Default::default()
        },
    )
    .await
}

fn sha1(data: &[u8]) -> Vec<u8> {
    openssl::hash::hash(openssl::hash::MessageDigest::sha1(), data)
        .unwrap()
        .to_vec()
}

/// ISO 32000-1 §12.8.3.3.1: with adbe.pkcs7.sha1 the SHA-1 digest of the byte ranges is the
/// signed content. Such a signature is intact (and weak); one byte changed is a hash failure.
#[tokio::test]
async fn adbe_pkcs7_sha1_signs_the_digest_as_content() {
    let app = spawn_app().await;
    let signed = resign_attached(&kyso_signed(&app).await, "adbe.pkcs7.sha1", sha1);
    let report = app.verify(&signed).await;
    let sig = &signatures(&report)[0];
    assert_eq!(sig["sub_filter"], "adbe.pkcs7.sha1");
    assert_intact("adbe.pkcs7.sha1", sig);
    assert_eq!(sig["indication"], "TOTAL_PASSED", "{report:#}");
    assert!(
        sig["problems"].to_string().contains("SHA-1, which is weak"),
        "{sig:#}"
    );

    // A digest of other bytes than the byte ranges.
    let other = resign_attached(&kyso_signed(&app).await, "adbe.pkcs7.sha1", |d| {
        sha1(&d[1..])
    });
    let report = app.verify(&other).await;
    let sig = &signatures(&report)[0];
    assert_eq!(sig["sub_indication"], "HASH_FAILURE", "{sig:#}");
    assert_eq!(sig["checks"]["digest"], false);
}

/// ISO 32000-2 §12.8.3.3: the detached SubFilters sign the byte ranges; a CMS that also
/// carries content signs something else, even when that content is the document itself.
#[tokio::test]
async fn a_detached_signature_that_carries_content_fails() {
    let app = spawn_app().await;
    let report = app
        .verify(&corpus_file("pyhanko/pdf-sig-with-econtent.pdf"))
        .await;
    let sig = &signatures(&report)[0];
    assert_eq!(sig["sub_indication"], "FORMAT_FAILURE", "{report:#}");
    assert!(sig["problems"].to_string().contains("encapsulates content"));

    let sha256 = |d: &[u8]| openssl::sha::sha256(d).to_vec();
    for sub_filter in ["ETSI.CAdES.detached", "adbe.pkcs7.detached"] {
        let attached = resign_attached(&kyso_signed(&app).await, sub_filter, sha256);
        let report = app.verify(&attached).await;
        let sig = &signatures(&report)[0];
        assert_eq!(
            sig["indication"], "TOTAL_FAILED",
            "{sub_filter}: {report:#}"
        );
        assert_eq!(sig["sub_indication"], "FORMAT_FAILURE", "{sub_filter}");
    }
}

/// RFC 3161 §2.4.2: the imprint names its own hash; pyHanko's document timestamps with
/// SHA-512 and SHA3-256 (and genTime with fractional seconds) verify, over kyso's signature.
#[tokio::test]
async fn document_timestamps_use_their_imprint_hash() {
    let app = spawn_app().await;
    let pki = dev_pki();
    let tsa = &pki.manifest.tsa;
    let signed = kyso_signed(&app).await;
    for md in ["sha512", "sha3_256", "sha384"] {
        let stamped = pyhanko_document_timestamp(
            &signed,
            &pki.manifest.path(&pki.dir, &tsa.pkcs12),
            &tsa.pin,
            md,
        );
        let report = app.verify(&stamped).await;
        let sigs = signatures(&report);
        assert_eq!(sigs.len(), 2, "{md}: {report:#}");
        assert_eq!(sigs[1]["kind"], "document_timestamp");
        for sig in sigs {
            assert_intact(md, sig);
            assert_eq!(sig["indication"], "TOTAL_PASSED", "{md}: {report:#}");
        }
        // One byte covered by the timestamp changed, in the binary comment on line 2 (ISO
        // 32000-1 §7.5.2), which no parser reads: the imprint no longer matches.
        let mut changed = stamped.clone();
        let at = stamped.iter().position(|&b| b == b'\n').unwrap() + 2;
        assert!(changed[at] >= 0x80, "line 2 is not the binary comment");
        changed[at] ^= 0x01;
        let report = app.verify(&changed).await;
        let sig = &signatures(&report)[1];
        assert_eq!(sig["sub_indication"], "HASH_FAILURE", "{md}: {sig:#}");
    }
}
