//! Many files at once: `kyso verify DIR|FILE…` on a folder of good, tampered and non-PDF files,
//! and `POST /api/v1/verify/batch` with ZIPs, hostile ones included.

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use zip::write::SimpleFileOptions;

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{error_code, spawn_app, spawn_app_with, SignParams, TestApp};

async fn signed(app: &TestApp) -> Vec<u8> {
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

/// The signed bytes with one byte of the header's binary comment changed: covered by the
/// signature, harmless to the file's structure.
fn tampered(pdf: &[u8]) -> Vec<u8> {
    let mut bad = pdf.to_vec();
    let at = bad.iter().position(|b| *b == b'\n').unwrap() + 2;
    bad[at] ^= 0x01;
    bad
}

fn kyso_verify(app: &TestApp, args: &[&str], dir: &Path) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kyso"))
        .arg("verify")
        .args(args)
        .current_dir(dir)
        .env("KYSO_PKI__DEV_DIR", &app.pki.dir)
        .env(
            "KYSO_DATABASE_URL",
            format!("sqlite://{}", dir.join("cli.db").display()),
        )
        .output()
        .unwrap()
}

fn row<'a>(summary: &'a Value, file: &str) -> &'a Value {
    summary["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no row for {file}: {summary}"))
}

#[tokio::test]
async fn kyso_verify_summarises_a_folder() {
    let app = spawn_app().await;
    let good = signed(&app).await;
    let work = tempfile::tempdir().unwrap();
    let docs = work.path().join("docs");
    std::fs::create_dir_all(docs.join("2026")).unwrap();
    std::fs::write(docs.join("good.pdf"), &good).unwrap();
    std::fs::write(docs.join("2026/also-good.pdf"), &good).unwrap();
    std::fs::write(docs.join("tampered.pdf"), tampered(&good)).unwrap();
    std::fs::write(docs.join("notes.txt"), "không phải PDF").unwrap();
    std::fs::write(docs.join(".hidden.pdf"), "skipped").unwrap();

    let run = kyso_verify(&app, &["docs", "--format", "json"], work.path());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    // stderr is not a terminal here: no progress bar drawn into it.
    assert!(!stderr.contains('\r'), "{stderr}");
    let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["files"], 4, "{summary}");
    assert_eq!(
        (summary["passed"].as_u64(), summary["failed"].as_u64()),
        (Some(2), Some(2))
    );
    for file in ["docs/good.pdf", "docs/2026/also-good.pdf"] {
        let r = row(&summary, file);
        assert_eq!(r["indication"], "TOTAL_PASSED", "{r}");
        assert_eq!(r["signatures"], 1);
        assert!(r["problem"].is_null() && r["code"].is_null());
    }
    let bad = row(&summary, "tampered.pdf");
    assert_eq!(bad["indication"], "TOTAL_FAILED", "{bad}");
    assert_eq!(bad["signatures"], 1);
    assert!(!bad["problem"].as_str().unwrap().is_empty());
    let text = row(&summary, "notes.txt");
    assert_eq!(text["indication"], "NOT_VERIFIED");
    assert_eq!(text["code"], "pdf_not_pdf");
    // The CLI's JSON is rows, not full reports.
    assert!(text.get("report").is_none() && bad.get("report").is_none());

    // CSV is the default for a folder; the rows are sorted by path.
    let run = kyso_verify(&app, &["docs"], work.path());
    assert_eq!(run.status.code(), Some(1));
    let csv = String::from_utf8(run.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "file,indication,signatures,code,problem");
    assert_eq!(lines[1], "docs/2026/also-good.pdf,TOTAL_PASSED,1,,");
    assert!(lines[2].starts_with("docs/good.pdf,TOTAL_PASSED,1,,"));
    assert!(lines[3].starts_with("docs/notes.txt,NOT_VERIFIED,0,pdf_not_pdf,"));
    assert!(lines[4].starts_with("docs/tampered.pdf,TOTAL_FAILED,1,,"));
    assert_eq!(lines.len(), 5);

    // Only good files: exit 0. A path that does not exist: exit 2 before anything is read.
    let run = kyso_verify(&app, &["docs/good.pdf", "docs/2026"], work.path());
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8(run.stdout).unwrap().lines().count(), 3);
    let run = kyso_verify(&app, &["docs", "missing"], work.path());
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("missing: no such file or folder"));
    // One file alone keeps its detailed report.
    let run = kyso_verify(&app, &["docs/good.pdf", "--json"], work.path());
    assert_eq!(run.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["indication"], "TOTAL_PASSED");
}

/// A ZIP of `(name, bytes)` entries, deflated; a name ending in `/` is a folder.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = zip::ZipWriter::new(Cursor::new(&mut out));
    for (name, bytes) in entries {
        if name.ends_with('/') {
            writer
                .add_directory(*name, SimpleFileOptions::default())
                .unwrap();
        } else {
            writer
                .start_file(*name, SimpleFileOptions::default())
                .unwrap();
            writer.write_all(bytes).unwrap();
        }
    }
    writer.finish().unwrap();
    out
}

/// The archive with every `from` (an entry's name, in its local and central headers) replaced
/// by `to` of the same length: how a hostile name gets past a writer that cleans names.
fn renamed(zip: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = zip.to_vec();
    for at in memchr::memmem::find_iter(zip, from) {
        out[at..at + to.len()].copy_from_slice(to);
    }
    out
}

/// Marks entry `name` as compressed with a method kyso does not read (bzip2) in its local
/// header (the name follows at byte 30) and its central one (at byte 46).
fn unreadable_method(mut zip: Vec<u8>, name: &str) -> Vec<u8> {
    let at: Vec<usize> = memchr::memmem::find_iter(&zip, name.as_bytes()).collect();
    let mut patched = 0;
    for at in at {
        for (signature, name_at, method_at) in [(b"PK\x03\x04", 30, 8), (b"PK\x01\x02", 46, 10)] {
            if at >= name_at && &zip[at - name_at..at - name_at + 4] == signature {
                let method = at - name_at + method_at;
                zip[method..method + 2].copy_from_slice(&12u16.to_le_bytes());
                patched += 1;
            }
        }
    }
    assert_eq!(patched, 2);
    zip
}

async fn batch(app: &TestApp, zip: Vec<u8>, accept: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/verify/batch", app.address))
        .bearer_auth(&app.admin_key)
        .header("Content-Type", "application/zip")
        .header("Accept", accept)
        .body(zip)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_zip_of_pdfs_is_verified_file_by_file() {
    let app = spawn_app().await;
    let good = signed(&app).await;
    let bad = tampered(&good);
    let inner = zip_of(&[("x.pdf", &good)]);
    let zip = zip_of(&[
        ("hồ sơ/", b""),
        ("hồ sơ/khai sinh.pdf", &good),
        ("hồ sơ/sửa.pdf", &bad),
        ("ghi chú.txt", b"not a PDF"),
        ("inner.zip", &inner),
        ("disguised.pdf", &inner),
        ("XX/XX/etc/evil.pdf", &good),
        ("Xabs.pdf", &good),
        ("method.pdf", &good),
    ]);
    let zip = renamed(&zip, b"XX/XX/etc", b"../../etc");
    let zip = renamed(&zip, b"Xabs.pdf", b"/abs.pdf");
    let zip = unreadable_method(zip, "method.pdf");

    let response = batch(&app, zip.clone(), "application/json").await;
    assert_eq!(response.status(), 200);
    let summary: Value = response.json().await.unwrap();
    assert_eq!(summary["files"], 8, "{summary}");
    assert_eq!(summary["passed"], 1, "{summary:#}");
    let ok = row(&summary, "hồ sơ/khai sinh.pdf");
    assert_eq!(ok["indication"], "TOTAL_PASSED");
    // The API keeps every file's full report.
    assert_eq!(ok["report"]["indication"], "TOTAL_PASSED");
    assert_eq!(ok["report"]["signatures"][0]["indication"], "TOTAL_PASSED");
    assert_eq!(row(&summary, "sửa.pdf")["indication"], "TOTAL_FAILED");
    for (file, code) in [
        ("ghi chú.txt", "pdf_not_pdf"),
        ("inner.zip", "zip_nested"),
        ("disguised.pdf", "zip_nested"),
        ("../../etc/evil.pdf", "zip_entry_unsafe_name"),
        ("/abs.pdf", "zip_entry_unsafe_name"),
        ("method.pdf", "zip_entry_unreadable"),
    ] {
        let r = row(&summary, file);
        assert_eq!(
            (r["indication"].as_str(), r["code"].as_str()),
            (Some("NOT_VERIFIED"), Some(code)),
            "{r}"
        );
        assert!(r.get("report").is_none());
    }

    // The same as CSV rows.
    let response = batch(&app, zip, "text/csv").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    assert_eq!(csv.lines().count(), 9, "{csv}");
    assert!(
        csv.contains("hồ sơ/khai sinh.pdf,TOTAL_PASSED,1,,\n"),
        "{csv}"
    );
    assert!(csv.contains("inner.zip,NOT_VERIFIED,0,zip_nested,"));

    // A batch needs a key; something else than a ZIP is refused as such.
    let anonymous = app
        .http
        .post(format!("{}/api/v1/verify/batch", app.address))
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(anonymous, 401).await, "unauthorized");
    assert_eq!(
        error_code(batch(&app, good, "application/json").await, 400).await,
        "zip_invalid"
    );
}

#[tokio::test]
async fn hostile_zips_are_answered_cleanly() {
    let app = spawn_app_with(|s| {
        s.max_upload_bytes = 1 << 20;
        s.batch.max_entries = 20;
        s.batch.max_uncompressed_bytes = 3 << 20;
    })
    .await;
    let zeros = vec![0u8; 2 << 20];
    // One bomb: that entry alone is over the single-upload limit, the rest is verified.
    let response = batch(&app, zip_of(&[("bomb.pdf", &zeros), ("a.txt", b"x")]), "").await;
    assert_eq!(response.status(), 200);
    let summary: Value = response.json().await.unwrap();
    assert_eq!(row(&summary, "bomb.pdf")["code"], "payload_too_large");
    assert_eq!(row(&summary, "a.txt")["code"], "pdf_not_pdf");
    // Four of them are more than the whole batch may decompress.
    let bombs: Vec<(String, &[u8])> = (0..4).map(|n| (format!("{n}.pdf"), &zeros[..])).collect();
    let entries: Vec<(&str, &[u8])> = bombs.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let too_much = zip_of(&entries);
    assert!(too_much.len() < 100_000, "{}", too_much.len());
    let response = batch(&app, too_much, "").await;
    assert_eq!(error_code(response, 413).await, "zip_too_large");
    // Too many entries, refused before the archive is parsed.
    let names: Vec<String> = (0..25).map(|n| format!("{n}.pdf")).collect();
    let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let response = batch(&app, zip_of(&many), "").await;
    assert_eq!(error_code(response, 413).await, "zip_too_large");
    // A truncated archive, an empty body.
    let cut = zip_of(&[("a.pdf", b"%PDF-1.7")]);
    let response = batch(&app, cut[..cut.len() - 10].to_vec(), "").await;
    assert_eq!(error_code(response, 400).await, "zip_invalid");
    let response = batch(&app, Vec::new(), "").await;
    assert_eq!(error_code(response, 400).await, "zip_invalid");
    // An upload over the limit is refused while it streams.
    let response = batch(&app, vec![b'P'; (1 << 20) + 1], "").await;
    assert_eq!(error_code(response, 413).await, "payload_too_large");

    let health = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
