//! The service's transport for [`crate::pki::fetch::Fetch`]: HTTP(S) through ureq with the
//! configured timeout and a cap on what one answer may weigh, each call timed and each
//! failure counted in the Prometheus metrics by kind (tsa, ocsp, crl, ca_issuers).

use std::io::Read as _;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::metrics::FetchMetrics;
use crate::pki::fetch::{Fetch, FetchError, Fetched, Kind};

pub struct HttpFetch {
    agent: ureq::Agent,
    max_bytes: u64,
    metrics: FetchMetrics,
}

impl HttpFetch {
    pub fn new(timeout: Duration, max_bytes: u64, metrics: FetchMetrics) -> Self {
        HttpFetch {
            agent: ureq::AgentBuilder::new()
                .timeout(timeout)
                .tls_connector(std::sync::Arc::new(LazyTls(OnceLock::new())))
                .build(),
            max_bytes,
            metrics,
        }
    }

    /// Sends the request `build` makes (with `body`, a POST), reads at most `max_bytes` of
    /// the answer, and records the call.
    fn call(
        &self,
        kind: Kind,
        url: &str,
        build: impl FnOnce(&ureq::Agent) -> ureq::Request,
        body: Option<&[u8]>,
    ) -> Fetched {
        let started = Instant::now();
        let failed = |reason: String| FetchError {
            url: url.to_owned(),
            reason,
        };
        let request = build(&self.agent);
        let sent = match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        }
        .map_err(|e| failed(e.to_string()));
        let result = sent.and_then(|response| {
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
        let build = |agent: &ureq::Agent| agent.get(url).set("Accept", accept);
        self.call(kind, url, build, None)
    }

    fn post(&self, kind: Kind, url: &str, content_type: &str, body: &[u8]) -> Fetched {
        let build = |agent: &ureq::Agent| agent.post(url).set("Content-Type", content_type);
        self.call(kind, url, build, Some(body))
    }
}

/// The TLS connector, built on the first https connection: it parses every certificate of the
/// system's CA bundle (about 150, most of a small file's `kyso verify` when done up front),
/// while revocation data and CA certificates are mostly served over plain http, and a
/// verification that fetches nothing should not pay for it either.
struct LazyTls(OnceLock<Result<native_tls::TlsConnector, String>>);

impl ureq::TlsConnector for LazyTls {
    fn connect(
        &self,
        dns_name: &str,
        io: Box<dyn ureq::ReadWrite>,
    ) -> Result<Box<dyn ureq::ReadWrite>, ureq::Error> {
        let tls = self
            .0
            .get_or_init(|| native_tls::TlsConnector::new().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| std::io::Error::other(format!("TLS: {e}")))?;
        ureq::TlsConnector::connect(tls, dns_name, io)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// A server that answers whatever comes with a plain HTTP response, on one connection.
    fn plain_server() -> (String, std::thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut first = vec![0; 3];
            stream.read_exact(&mut first).unwrap();
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            first
        });
        (format!("127.0.0.1:{port}"), served)
    }

    fn fetch() -> HttpFetch {
        let metrics = crate::metrics::Metrics::new().unwrap();
        HttpFetch::new(Duration::from_secs(5), 1 << 10, metrics.fetches())
    }

    #[test]
    fn plain_http_is_fetched_and_https_speaks_tls() {
        let (host, served) = plain_server();
        let answer = fetch().get(Kind::Crl, &format!("http://{host}/a.crl"), "*/*");
        assert_eq!(answer.unwrap(), b"ok");
        assert_eq!(served.join().unwrap(), b"GET");

        // The TLS connector is built on the first https connection: the server sees a TLS
        // ClientHello (a handshake record, 0x16, of TLS 1.x), and the plain answer fails it.
        let (host, served) = plain_server();
        let failed = fetch()
            .get(Kind::Crl, &format!("https://{host}/a.crl"), "*/*")
            .unwrap_err();
        assert_eq!(served.join().unwrap()[..2], [0x16, 0x03]);
        assert!(failed.reason.contains("tls"), "{}", failed.reason);
    }
}
