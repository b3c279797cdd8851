//! Prometheus metrics of one running instance, served at `GET /metrics`. Each instance has
//! its own registry (tests run several in one process); labels are bounded sets (route
//! patterns, never raw paths or lookup codes).

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::db::Pool;
use crate::error::{Error, ErrorCode, Result};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    signatures: IntCounterVec,
    verifications: IntCounterVec,
    documents: IntCounterVec,
    pin_refusals: IntCounterVec,
    pin_lockouts: IntCounter,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    fetches: FetchMetrics,
}

/// Fetches of validation data and timestamps (`src/fetch.rs`), by kind: latency of every
/// call, and the calls that failed.
#[derive(Clone)]
pub struct FetchMetrics {
    latency: HistogramVec,
    failures: IntCounterVec,
}

impl FetchMetrics {
    pub fn observe(&self, kind: &str, seconds: f64, ok: bool) {
        self.latency.with_label_values(&[kind]).observe(seconds);
        if !ok {
            self.failures.with_label_values(&[kind]).inc();
        }
    }
}

fn histogram(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> Result<HistogramVec> {
    let histogram = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ]),
        labels,
    )
    .map_err(Error::internal)?;
    registry
        .register(Box::new(histogram.clone()))
        .map_err(Error::internal)?;
    Ok(histogram)
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec> {
    let counter = IntCounterVec::new(Opts::new(name, help), labels).map_err(Error::internal)?;
    registry
        .register(Box::new(counter.clone()))
        .map_err(Error::internal)?;
    Ok(counter)
}

impl Metrics {
    pub fn new() -> Result<Metrics> {
        let registry = Registry::new();
        let latency = histogram(
            &registry,
            "kyso_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern",
            &["method", "route"],
        )?;
        let fetches = FetchMetrics {
            latency: histogram(
                &registry,
                "kyso_fetch_duration_seconds",
                "Time to fetch a timestamp or validation data (OCSP, CRL, CA certificate), by kind",
                &["kind"],
            )?,
            failures: counter(
                &registry,
                "kyso_fetch_failures_total",
                "Fetches of timestamps or validation data that failed, by kind",
                &["kind"],
            )?,
        };
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "kyso_db_pool_connections",
                "Database connections open in the pool, by state",
            ),
            &["state"],
        )
        .map_err(Error::internal)?;
        registry
            .register(Box::new(pool_connections.clone()))
            .map_err(Error::internal)?;
        let pool_max = IntGauge::new(
            "kyso_db_pool_max_connections",
            "The most connections the pool may open",
        )
        .map_err(Error::internal)?;
        registry
            .register(Box::new(pool_max.clone()))
            .map_err(Error::internal)?;
        let pin_lockouts = IntCounter::new(
            "kyso_pin_lockouts_total",
            "Keys locked after repeated wrong PINs",
        )
        .map_err(Error::internal)?;
        registry
            .register(Box::new(pin_lockouts.clone()))
            .map_err(Error::internal)?;
        Ok(Metrics {
            requests: counter(
                &registry,
                "kyso_http_requests_total",
                "HTTP requests answered, by route pattern and status",
                &["method", "route", "status"],
            )?,
            signatures: counter(
                &registry,
                "kyso_signatures_total",
                "Signatures made (API, documents issued or sealed, CLI), by PAdES level and signer kind",
                &["level", "signer_kind"],
            )?,
            verifications: counter(
                &registry,
                "kyso_verifications_total",
                "PDFs verified, by overall ETSI indication",
                &["indication"],
            )?,
            documents: counter(
                &registry,
                "kyso_documents_issued_total",
                "Documents issued, by commune and kind",
                &["commune", "kind"],
            )?,
            pin_refusals: counter(
                &registry,
                "kyso_pin_refusals_total",
                "Signing refused for a wrong PIN or a key locked after repeated wrong PINs",
                &["reason"],
            )?,
            pin_lockouts,
            latency,
            fetches,
            pool_connections,
            pool_max,
            registry,
        })
    }

    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    pub fn signature(&self, level: &str, signer_kind: &str) {
        self.signatures
            .with_label_values(&[level, signer_kind])
            .inc();
    }

    pub fn verification(&self, indication: &str) {
        self.verifications.with_label_values(&[indication]).inc();
    }

    pub fn document(&self, commune: &str, kind: &str) {
        self.documents.with_label_values(&[commune, kind]).inc();
    }

    /// The fetch metrics, for the transports that record into them.
    pub fn fetches(&self) -> FetchMetrics {
        self.fetches.clone()
    }

    pub fn pin_lockout(&self) {
        self.pin_lockouts.inc();
    }

    /// Counts the refusals a request's error stands for (`pin_wrong`, `key_locked`).
    pub fn error(&self, error: &Error) {
        if let ErrorCode::PinWrong | ErrorCode::KeyLocked = error.error_code() {
            self.pin_refusals.with_label_values(&[error.code()]).inc();
        }
    }

    /// The text exposition format (version 0.0.4), with the pool's use as of now.
    pub fn render(&self, pool: &Pool) -> Result<String> {
        let state = pool.state();
        let idle = i64::from(state.idle_connections);
        self.pool_connections.with_label_values(&["idle"]).set(idle);
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(state.connections) - idle);
        self.pool_max.set(i64::from(pool.max_size()));
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .map_err(Error::internal)?;
        String::from_utf8(out).map_err(Error::internal)
    }
}
