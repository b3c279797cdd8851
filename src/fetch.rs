//! The service's transport for [`crate::pki::fetch::Fetch`]: HTTP(S) through ureq with the
//! configured timeout and a cap on what one answer may weigh, each call timed and each
//! failure counted in the Prometheus metrics by kind (tsa, ocsp, crl, ca_issuers).

use std::io::Read as _;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::metrics::FetchMetrics;
use crate::pki::fetch::{Fetch, FetchError, Fetched, Kind};

pub struct HttpFetch {
    agent: ureq::Agent,
    max_bytes: u64,
    metrics: FetchMetrics,
}

impl HttpFetch {
    pub fn new(timeout: Duration, max_bytes: u64, metrics: FetchMetrics) -> Result<Self> {
        let tls = native_tls::TlsConnector::new().map_err(Error::internal)?;
        Ok(HttpFetch {
            agent: ureq::AgentBuilder::new()
                .timeout(timeout)
                .tls_connector(std::sync::Arc::new(tls))
                .build(),
            max_bytes,
            metrics,
        })
    }

    /// Sends `request` (with `body`, a POST), reads at most `max_bytes` of the answer, and
    /// records the call.
    fn call(&self, kind: Kind, request: ureq::Request, body: Option<&[u8]>) -> Fetched {
        let started = Instant::now();
        let url = request.url().to_owned();
        let failed = |reason: String| FetchError {
            url: url.clone(),
            reason,
        };
        let sent = match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        };
        let result = sent
            .map_err(|e| failed(e.to_string()))
            .and_then(|response| {
                let mut body = Vec::new();
                response
                    .into_reader()
                    // One byte over the cap tells a capped answer from one that fits exactly.
                    .take(self.max_bytes + 1)
                    .read_to_end(&mut body)
                    .map_err(|e| failed(e.to_string()))?;
                if body.len() as u64 > self.max_bytes {
                    return Err(failed(format!("answer over {} bytes", self.max_bytes)));
                }
                Ok(body)
            });
        self.metrics.observe(
            kind.as_str(),
            started.elapsed().as_secs_f64(),
            result.is_ok(),
        );
        if let Err(e) = &result {
            tracing::warn!(kind = kind.as_str(), error = %e, "fetch failed");
        }
        result
    }
}

impl Fetch for HttpFetch {
    fn get(&self, kind: Kind, url: &str, accept: &str) -> Fetched {
        self.call(kind, self.agent.get(url).set("Accept", accept), None)
    }

    fn post(&self, kind: Kind, url: &str, content_type: &str, body: &[u8]) -> Fetched {
        let request = self.agent.post(url).set("Content-Type", content_type);
        self.call(kind, request, Some(body))
    }
}
