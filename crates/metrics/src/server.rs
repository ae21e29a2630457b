//! `/metrics` over HTTP with `tiny_http`, until a stop flag is set.
//!
//! Content negotiation: a scraper whose `Accept` names `application/openmetrics-text`
//! (Prometheus does by default) gets the OpenMetrics text; any other gets the Prometheus text
//! format 0.0.4. `prometheus-client` writes both from the same registry; they differ in more
//! than the final `# EOF`: an OpenMetrics counter family `x` has samples `x_total`, while the
//! older format names the family `x_total` in its `# HELP` and `# TYPE` lines too, which its
//! readers (`promtool check metrics`) require.

use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tiny_http::{Header, Request, Response, Server};
use whistler_session::StopFlag;

pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The longest wait for a request, so that a stop request is noticed quickly.
const WAIT_SLICE: Duration = Duration::from_millis(100);

/// The exposition formats served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 text.
    OpenMetrics,
    /// The Prometheus text format 0.0.4.
    PrometheusText,
}

impl Format {
    /// The format to answer a request with the given `Accept` header.
    pub fn for_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(accept) if accept.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::PrometheusText,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Format::PrometheusText => TEXT_CONTENT_TYPE,
        }
    }

    /// Encodes `registry` in this format (reading every map it serves).
    pub fn encode(self, registry: &Registry) -> Result<String, std::fmt::Error> {
        let mut body = String::new();
        match self {
            Format::OpenMetrics => text::encode(&mut body, registry)?,
            Format::PrometheusText => prometheus_text::encode(&mut body, registry)?,
        }
        Ok(body)
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
        let format = Format::for_accept(accept);
        let Ok(body) = format.encode(&self.registry) else {
            return request
                .respond(Response::from_string("encoding failed\n").with_status_code(500));
        };
        let header = Header::from_bytes("Content-Type", format.content_type())
            .map_err(|()| io::Error::other("invalid Content-Type header"))?;
        request.respond(Response::from_string(body).with_header(header))
    }
}
