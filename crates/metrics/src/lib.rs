//! Serves a session's BPF maps to Prometheus.
//!
//! - [`ServedMap`] and [`Layout`]: a map with the name to show (the Lisp name as written) and
//!   how to read its keys and values (integers, or structs whose integer fields each give a
//!   series).
//! - [`MapCollector`]: a `prometheus-client` collector that reads the maps at scrape time. Every
//!   keyed map is one gauge family, `whistler_map_entry{map, key[, field]}`; per-CPU values are
//!   summed field by field.
//! - [`Exporter`]: `/metrics` over HTTP (`tiny_http`), in the OpenMetrics text format that
//!   `prometheus-client` writes, labelled OpenMetrics or Prometheus text by the scraper's `Accept`.
//!
//! It sits on the loader and the session core and knows nothing of the compiler: callers describe
//! the layouts (the CLI from the compiler's facts).

mod collector;
mod layout;
mod server;

pub use collector::{MapCollector, ServedMap, ENTRY_METRIC};
pub use layout::{Field, Layout, Sample, Value};
pub use server::{content_type_for, Exporter, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
