//! `GET /metrics`: Prometheus text format, read back with an independent parser, counting
//! the requests this test makes and nothing it does not.

use std::collections::HashMap;

use prometheus_parse::{Scrape, Value};

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{error_code, spawn_app, SignParams, TestApp};

impl TestApp {
    async fn scrape(&self) -> Scrape {
        let response = self
            .http
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().await.unwrap();
        Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text format")
    }
}

/// The value of the sample `name` whose labels include all of `labels` (0 when absent).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?}: {found:?}");
    found.first().copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_signatures_verifications_and_pin_refusals() {
    let app = spawn_app().await;
    let before = app.scrape().await;
    let verify_200 = [
        ("method", "POST"),
        ("route", "/api/v1/verify"),
        ("status", "200"),
    ];
    assert_eq!(value(&before, "kyso_http_requests_total", &verify_200), 0.0);

    let signed = app
        .signed(
            &sample_pdf(XrefStyle::Classic),
            SignParams {
                signer: "99001-chair",
                level: Some("B-B"),
                ..Default::default()
            },
        )
        .await;
    app.verify(&signed).await;
    let wrong = app
        .sign(
            &sample_pdf(XrefStyle::Classic),
            SignParams {
                signer: "99001-chair",
                pin: Some("000000-not-the-pin".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(error_code(wrong, 403).await, "pin_wrong");

    let after = app.scrape().await;
    assert_eq!(value(&after, "kyso_http_requests_total", &verify_200), 1.0);
    // The latency histogram saw the same request: its +Inf bucket counts it.
    let latency: HashMap<_, _> = [("method", "POST"), ("route", "/api/v1/verify")].into();
    let histogram = after
        .samples
        .iter()
        .find(|s| {
            s.metric == "kyso_http_request_duration_seconds"
                && latency.iter().all(|(k, v)| s.labels.get(k) == Some(v))
        })
        .expect("latency histogram");
    let Value::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {:?}", histogram.value)
    };
    assert_eq!(buckets.last().unwrap().count, 1.0);
    assert_eq!(
        value(
            &after,
            "kyso_verifications_total",
            &[("indication", "TOTAL_PASSED")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "kyso_signatures_total",
            &[("level", "B-B"), ("signer_kind", "official")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "kyso_pin_refusals_total",
            &[("reason", "pin_wrong")]
        ),
        1.0
    );
    assert!(value(&after, "kyso_db_pool_max_connections", &[]) >= 1.0);
    // The scrape itself is a request of its own route; raw paths never become labels.
    assert_eq!(
        value(
            &after,
            "kyso_http_requests_total",
            &[("route", "/metrics"), ("status", "200")]
        ),
        1.0
    );
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/d/NO-SUCH-CODE", app.address))
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32, "{id}");
    let scrape = app.scrape().await;
    assert!(
        scrape
            .samples
            .iter()
            .all(|s| s.labels.get("route") != Some("/d/NO-SUCH-CODE")),
        "a raw path became a label"
    );
}
