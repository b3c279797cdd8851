//! `GET /metrics`: Prometheus text format, read back with an independent parser, counting
//! the requests this test makes and nothing it does not.

use std::collections::HashMap;

use prometheus_parse::{Scrape, Value};

use crate::fixtures::{sample_pdf, XrefStyle};
use crate::helpers::{error_code, spawn_app, SignParams, TestApp};

impl TestApp {
    pub(crate) async fn scrape(&self) -> Scrape {
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
pub(crate) fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
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

#[tokio::test]
async fn issued_documents_their_signatures_and_lockouts_are_counted() {
    let app = spawn_app().await;
    let (document, _) = app.sealed_copy(&sample_pdf(XrefStyle::Classic)).await;
    assert_eq!(document["kind"], "certified_copy");
    let scrape = app.scrape().await;
    assert_eq!(
        value(
            &scrape,
            "kyso_documents_issued_total",
            &[("commune", "99001"), ("kind", "certified_copy")]
        ),
        1.0
    );
    // Both signatures of the document, at the levels they are made at: the official's at
    // B-T, then the agency's seal, which brings the file to the best level the instance has
    // (B-LTA: the dev TSA and the dev CA's list). Nothing went through `/sign`.
    for (signer_kind, level) in [("official", "B-T"), ("agency", "B-LTA")] {
        assert_eq!(
            value(
                &scrape,
                "kyso_signatures_total",
                &[("level", level), ("signer_kind", signer_kind)]
            ),
            1.0,
            "{signer_kind}"
        );
    }
    let sign_requests = [("route", "/api/v1/sign")];
    assert_eq!(
        value(&scrape, "kyso_http_requests_total", &sign_requests),
        0.0
    );

    // Five wrong PINs lock the key once; the sixth try is refused as locked.
    let pdf = sample_pdf(XrefStyle::Classic);
    let wrong = || {
        app.sign(
            &pdf,
            SignParams {
                signer: "99002-chair",
                pin: Some("000000-not-the-pin".into()),
                ..Default::default()
            },
        )
    };
    for _ in 0..5 {
        assert_eq!(error_code(wrong().await, 403).await, "pin_wrong");
    }
    assert_eq!(error_code(wrong().await, 423).await, "key_locked");
    let scrape = app.scrape().await;
    assert_eq!(value(&scrape, "kyso_pin_lockouts_total", &[]), 1.0);
    assert_eq!(
        value(
            &scrape,
            "kyso_pin_refusals_total",
            &[("reason", "pin_wrong")]
        ),
        5.0
    );
    assert_eq!(
        value(
            &scrape,
            "kyso_pin_refusals_total",
            &[("reason", "key_locked")]
        ),
        1.0
    );
    // The pool: what is open now, and its size.
    let open = value(&scrape, "kyso_db_pool_connections", &[("state", "idle")])
        + value(&scrape, "kyso_db_pool_connections", &[("state", "in_use")]);
    assert!(open >= 1.0, "{open}");
    assert!(value(&scrape, "kyso_db_pool_max_connections", &[]) >= open);
}
