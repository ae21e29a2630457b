//! `/metrics` over HTTP with `tiny_http`, until a stop flag is set.
//!
//! Content negotiation: `prometheus-client` writes one format, the OpenMetrics text. A scraper
//! whose `Accept` names `application/openmetrics-text` (Prometheus does by default) gets it
//! labelled as such. Any other scraper gets the same body labelled as the Prometheus text format
//! 0.0.4: for gauge families (the default series) and histograms the two formats differ only in
//! the final `# EOF` line, which the older format reads as a comment; for declared counters the
//! older format would put `_total` in the `# HELP` and `# TYPE` lines too, which its parsers
//! ignore but linters such as `promtool check metrics` report.

use prometheus_client::registry::Registry;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tiny_http::{Header, Request, Response, Server};
use whistler_session::StopFlag;

pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The longest wait for a request, so that a stop request is noticed quickly.
const WAIT_SLICE: Duration = Duration::from_millis(100);

/// The content type to answer a request with the given `Accept` header.
pub fn content_type_for(accept: Option<&str>) -> &'static str {
    match accept {
        Some(accept) if accept.contains("application/openmetrics-text") => OPENMETRICS_CONTENT_TYPE,
        _ => TEXT_CONTENT_TYPE,
    }
}

/// An HTTP endpoint serving a registry at `/metrics`.
pub struct Exporter {
    server: Server,
    registry: Registry,
}

impl Exporter {
    /// Listens on `address` (port 0 picks a free port; see [`Exporter::local_addr`]).
    pub fn bind(address: SocketAddr, registry: Registry) -> io::Result<Exporter> {
        let server = Server::http(address).map_err(io::Error::other)?;
        Ok(Exporter { server, registry })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.server_addr().to_ip()
    }

    /// Answers requests until `stop` is set. A failed answer (a scraper that hung up) does not
    /// end serving.
    pub fn serve_until(&self, stop: &StopFlag) -> io::Result<()> {
        while !stop.is_set() {
            if let Some(request) = self.server.recv_timeout(WAIT_SLICE)? {
                let _ = self.answer(request);
            }
        }
        Ok(())
    }

    fn answer(&self, request: Request) -> io::Result<()> {
        let path = request.url().split('?').next().unwrap_or_default();
        if path != "/metrics" {
            let body = "whistler exporter: metrics are at /metrics\n";
            return request.respond(Response::from_string(body).with_status_code(404));
        }
        let accept = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Accept"))
            .map(|h| h.value.as_str());
        let content_type = content_type_for(accept);
        let mut body = String::new();
        if prometheus_client::encoding::text::encode(&mut body, &self.registry).is_err() {
            return request
                .respond(Response::from_string("encoding failed\n").with_status_code(500));
        }
        let header = Header::from_bytes("Content-Type", content_type)
            .map_err(|()| io::Error::other("invalid Content-Type header"))?;
        request.respond(Response::from_string(body).with_header(header))
    }
}
