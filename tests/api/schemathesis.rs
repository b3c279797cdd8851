//! Schemathesis (pinned in `.ci/setup`) against the real server with an admin key: every
//! check, a bounded number of examples per operation, a fixed seed. It fails on a server error,
//! an answer `/openapi.json` does not describe, schema-violating input accepted, a key
//! declared but not enforced, a wrong answer to an undeclared method.
//! Settings: `tests/api/schemathesis/` (why some 4xx answer valid-looking input there).

use std::path::Path;
use std::process::Command;

use crate::helpers::spawn_app;
use crate::openapi::api_tool;

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing() {
    let app = spawn_app().await;
    let doc: serde_json::Value = reqwest::get(format!("{}/openapi.json", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    let settings = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/schemathesis");
    let reports = tempfile::tempdir().unwrap();
    let mut command = Command::new(api_tool("schemathesis"));
    command
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", &settings)
        .arg("--config-file")
        .arg(settings.join("schemathesis.toml"))
        .arg("--no-color")
        .arg("run")
        .arg(format!("{}/openapi.json", app.address))
        .args(["--checks", "all"])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", app.admin_key),
        ])
        .args(["--max-examples", "15", "--seed", "1", "--workers", "2"])
        .args(["--request-timeout", "60"])
        .arg("--report-dir")
        .arg(reports.path());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // It really tested: every operation of the document.
    assert!(
        stdout.contains(&format!("Tested: {operations}")),
        "{operations} operations: {stdout}"
    );
}
