//! The peers' own signed test files (pyHanko's and iText's suites, `../shared/corpus`):
//! `POST /api/v1/verify` must reach the outcome their tests assert on every row of
//! `manifest.tsv`. Trust is not part of it (the suites use their own test CAs).

use std::path::Path;

use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};

/// `intact_all` when every signature is intact (byte range, digest, signature value), covers
/// a whole revision and no change after it is disallowed; otherwise `tampered`.
fn classify(report: &Value) -> (&'static str, String) {
    let mut bad = Vec::new();
    for sig in report["signatures"].as_array().unwrap() {
        let checks = &sig["checks"];
        let intact = ["byte_range", "digest", "signature"]
            .iter()
            .all(|c| checks[*c] == true);
        let disallowed: Vec<&str> = sig["coverage"]["later_changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["allowed"] == false)
            .map(|c| c["what"].as_str().unwrap())
            .collect();
        let failed = matches!(
            sig["sub_indication"].as_str(),
            Some("FORMAT_FAILURE" | "HASH_FAILURE" | "SIG_CRYPTO_FAILURE")
        );
        if !intact || !disallowed.is_empty() || failed {
            bad.push(format!(
                "{}: {} {:?} {:?}",
                sig["field"].as_str().unwrap(),
                sig["sub_indication"].as_str().unwrap_or(""),
                sig["problems"],
                disallowed
            ));
        }
    }
    if bad.is_empty() {
        ("intact_all", String::new())
    } else {
        ("tampered", bad.join(" | "))
    }
}

async fn verdict(app: &TestApp, pdf: &[u8]) -> (&'static str, String) {
    let (status, body) = app.verify_response(pdf).await;
    if status != 200 {
        return ("unreadable", format!("{status}: {body}"));
    }
    classify(&body)
}

#[tokio::test]
async fn verdicts_agree_with_the_peers_test_suites() {
    // `../shared/corpus` beside the checkout (a git worktree sits one level deeper).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/corpus"))
        .find(|d| d.join("manifest.tsv").is_file())
        .unwrap_or_else(|| {
            panic!(
                "the peers' corpus is required at {}/../shared/corpus (manifest.tsv and the PDFs)",
                root.display()
            )
        });
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    let app = spawn_app().await;
    let mut rows = 0;
    let mut disagreements = Vec::new();
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let [file, _source, expected, basis] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("manifest row without four columns: {line}");
        };
        let pdf = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let (got, why) = verdict(&app, &pdf).await;
        rows += 1;
        if got != expected {
            let why: String = why.chars().take(300).collect();
            disagreements.push(format!(
                "{file}\n    expected {expected} ({basis})\n    kyso     {got}: {why}"
            ));
        }
    }
    assert!(rows > 0, "manifest.tsv lists no files");
    assert!(
        disagreements.is_empty(),
        "kyso disagrees with the peers on {} of {rows} files:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
