//! Files other validators read, kyso reads too: encrypted with an empty user password (RC4,
//! AES-128, AES-256), or with damaged cross-reference data (repaired with a warning).

use serde_json::Value;

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{dev_pki, spawn_app};
use crate::hostile::RawPdf;
use crate::validators::{artifact_dir, pyhanko_sign, qpdf_encrypt};

/// `pdf` signed by pyHanko as the chair (Sig1), then as the agency (Sig2).
fn signed_twice(pdf: &[u8]) -> Vec<u8> {
    let pki = dev_pki();
    let sign = |pdf: &[u8], field: &str, signer: &str| {
        pyhanko_sign(pdf, field, &pki.pkcs12(signer), &pki.pin(signer), None)
    };
    sign(&sign(pdf, "Sig1", "99001-chair"), "Sig2", "99001-agency")
}

fn assert_both_pass(report: &Value) {
    let got: Vec<(&str, &str)> = report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["field"].as_str().unwrap(),
                s["indication"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("Sig1", "TOTAL_PASSED"), ("Sig2", "TOTAL_PASSED")],
        "{report:#}"
    );
}

#[tokio::test]
async fn encrypted_files_with_an_empty_password_verify_intact() {
    let app = spawn_app().await;
    for args in [
        &["40"][..],
        &["128", "--use-aes=n"],
        &["128", "--use-aes=y"],
        &["256"],
    ] {
        let twice = signed_twice(&qpdf_encrypt(&sample_pdf(XrefStyle::Classic), args));
        let name = format!("encrypted-{}.pdf", args.join(""));
        std::fs::write(artifact_dir("reading").join(name), &twice).unwrap();
        let report = app.verify(&twice).await;
        assert_both_pass(&report);
        assert_eq!(report["warnings"], serde_json::json!([]), "{args:?}");
    }
}

#[tokio::test]
async fn kyso_refuses_to_sign_an_encrypted_file() {
    let app = spawn_app().await;
    let encrypted = qpdf_encrypt(&sample_pdf(XrefStyle::Classic), &["256"]);
    assert_eq!(app.sign_refused(&encrypted, 400).await, "pdf_encrypted");
}

#[tokio::test]
async fn the_encrypted_spoofing_attack_is_read_and_judged() {
    let path = "/work/shared/pdf-attacks/dss-test-resources/pdf-spoofing-attack.pdf";
    let pdf = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let app = spawn_app().await;
    let report = app.verify(&pdf).await;
    assert_eq!(report["indication"], "TOTAL_FAILED", "{report:#}");
}

/// A file whose xref points one object (unused, so the signer reads past it) at the wrong
/// offset, as a careless writer leaves it; pyHanko signs it, twice.
fn damaged_original() -> Vec<u8> {
    let mut pdf = RawPdf::new("");
    pdf.object(4, b"(unused)");
    let at = pdf.offset(4);
    let mut bytes = pdf.finish_with_table(|_| String::new());
    let right = format!("{at:010} 00000 n");
    let wrong = format!("{:010} 00000 n", at + 7);
    let pos = bytes
        .windows(right.len())
        .rposition(|w| w == right.as_bytes())
        .unwrap();
    bytes[pos..pos + wrong.len()].copy_from_slice(wrong.as_bytes());
    bytes
}

#[tokio::test]
async fn a_signed_file_with_a_damaged_original_xref_verifies_with_a_warning() {
    let app = spawn_app().await;
    let damaged = damaged_original();
    let report = app.verify(&signed_twice(&damaged)).await;
    assert_both_pass(&report);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings.len() == 1 && warnings[0].as_str().unwrap().contains("damaged"),
        "{report:#}"
    );
    // The page shows it too.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(signed_twice(&damaged)).file_name("damaged.pdf"),
    );
    let page = app
        .http
        .post(format!("{}/verify", app.address))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"warnings\"") && page.contains("cross-reference data is damaged"),
        "{page}"
    );
    // kyso does not append to a damaged file.
    assert_eq!(app.sign_refused(&damaged, 400).await, "pdf_malformed");
}
