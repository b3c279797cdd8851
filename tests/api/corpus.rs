//! The peers' own signed test files (pyHanko's and iText's suites, `../shared/corpus`):
//! `POST /api/v1/verify` must reach the outcome their tests assert on every row of
//! `manifest.tsv`. Trust is not part of it (the suites use their own test CAs).

use reqwest::multipart::{Form, Part};

use serde_json::Value;

use crate::helpers::{shared_data, spawn_app, TestApp};

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
    let dir = shared_data("corpus");
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

/// The change table on `/verify` speaks Vietnamese first, English second: an honest
/// appearance update is allowed, pyHanko's "sneaky" one (the stream is also used elsewhere)
/// is not.
/// The `/verify` page for a corpus file.
async fn verify_page(app: &TestApp, name: &str) -> String {
    let pdf = std::fs::read(shared_data("corpus").join("pyhanko").join(name)).unwrap();
    let form = Form::new().part("file", Part::bytes(pdf).file_name(name.to_owned()));
    let response = app
        .http
        .post(format!("{}/verify", app.address))
        .multipart(form)
        .send()
        .await
        .unwrap();
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_verify_page_explains_each_change_in_vietnamese_then_english() {
    let app = spawn_app().await;
    let honest = verify_page(&app, "form-update-override-appearance-stream.pdf").await;
    let vi = "Hình hiển thị của trường vừa điền hoặc vừa ký được cập nhật";
    let en = "appearance of a field just filled or signed updated";
    assert!(honest.contains(vi) && honest.contains(en), "{honest}");
    assert!(honest.find(vi) < honest.find(en));
    assert!(honest.contains("Mức thay đổi sau khi ký"), "{honest}");
    let sneaky = verify_page(&app, "form-update-override-appearance-stream-sneaky.pdf").await;
    let vi = "<strong>không được phép</strong>: Đối tượng bị ghi đè còn được dùng ở chỗ khác trong bản đã ký";
    assert!(sneaky.contains(vi), "{sneaky}");
    assert!(sneaky.contains("an overwritten object is also used elsewhere"));
}
