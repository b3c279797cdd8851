//! Headless Chromium driven over WebDriver (fantoccini + chromedriver), for tests of the web
//! pages: each `Browser` starts its own chromedriver on a free port with a fresh profile, and
//! stops it when dropped.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (installed by .ci/setup)");
        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"goog:chromeOptions": {"binary": CHROMIUM, "args": args}});
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver needs a moment before it listens.
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::native()
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => panic!("chromedriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// Puts `file` in the page's upload form, submits it and waits for `shown` on the answer.
    pub async fn upload(&self, file: &Path, shown: &str) {
        self.submit("input[type=file]", &file.display().to_string(), shown)
            .await;
    }

    /// Types `value` into the form field `input`, submits the form and waits for `shown`.
    pub async fn submit(&self, input: &str, value: &str, shown: &str) {
        self.client
            .find(Locator::Css(input))
            .await
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .send_keys(value)
            .await
            .expect("typing into the form");
        self.click_and_wait(Locator::Css("form.upload button"), shown)
            .await;
    }

    /// Follows the link reading `text` and waits for `shown` on the next page.
    pub async fn follow(&self, text: &str, shown: &str) {
        self.click_and_wait(Locator::LinkText(text), shown).await;
    }

    async fn click_and_wait(&self, target: Locator<'_>, shown: &str) {
        self.client
            .find(target)
            .await
            .unwrap_or_else(|e| panic!("{target:?}: {e}"))
            .click()
            .await
            .expect("click");
        self.client
            .wait()
            .for_element(Locator::Css(shown))
            .await
            .unwrap_or_else(|e| panic!("waiting for {shown}: {e}"));
    }

    /// Runs axe-core (tests/a11y, pinned, installed by .ci/setup) in the page shown now and
    /// fails on any serious or critical violation, naming rule, help and elements. WebDriver
    /// scripts run outside the page's Content-Security-Policy, so the pages stay script-free.
    pub async fn assert_accessible(&self, page: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/a11y/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run .ci/setup)", path.display()));
        let script = format!(
            "{axe}\n
            return axe.run(document, {{resultTypes: ['violations']}}).then(r => ({{
                rules: r.passes.length + r.violations.length + r.incomplete.length,
                serious: r.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => ({{rule: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.map(n => n.target.join(' '))}}))
            }}));"
        );
        let found = self
            .client
            .execute(&script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{page}: axe-core did not run: {e}"));
        // A run that checked nothing would pass vacuously.
        assert!(
            found["rules"].as_u64().unwrap_or(0) > 10,
            "{page}: axe-core checked nothing: {found}"
        );
        let serious = found["serious"].as_array().expect("violations");
        assert!(
            serious.is_empty(),
            "{page}: serious accessibility violations:\n{}",
            serde_json::to_string_pretty(serious).unwrap_or_default()
        );
    }

    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(path, png).expect("writing the screenshot");
    }

    /// Ends the session, then the driver.
    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After a failed assertion `quit` never ran: do not leave the driver behind.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
