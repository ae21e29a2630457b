//! Serves a session's BPF maps to Prometheus.
//!
//! - [`ServedMap`] and [`Layout`]: a map with the name to show (the Lisp name as written) and
//!   how to read its keys and values (integers, text, or structs whose fields show in keys and
//!   whose integer fields each give a series).
//! - [`MapCollector`]: a `prometheus-client` collector that reads the maps at scrape time.
//!   Metrics declared with `defmetric` (an object's `.whistler.metrics`,
//!   [`whistler_object::read_metrics`]) are served as declared: counters, gauges and histograms
//!   with decoded, filtered labels ([`decode`]), per-CPU values summed or labelled by `cpu`, at
//!   most `:max-series` series each (`whistler_metric_series_dropped_total` counts the rest).
//!   Every other keyed map is one gauge family, `whistler_map_entry{map, key[, field]}`; per-CPU
//!   values are summed field by field.
//! - [`Exporter`]: `/metrics` over HTTP (`tiny_http`), in the [`Format`] the scraper's `Accept`
//!   asks for: OpenMetrics text, else the Prometheus text format 0.0.4, both written by
//!   `prometheus-client`.
//! - [`object_layouts`]: key and value layouts from the BTF an object carries for its maps, for
//!   objects served without their source.
//!
//! It sits on the loader and the session core and knows nothing of the compiler: callers describe
//! the layouts (the CLI from the compiler's facts, or from the object's BTF).

mod btf_layout;
mod collector;
mod declared;
pub mod decode;
mod layout;
mod server;

pub use btf_layout::{key_layout, object_layouts, value_layout};
pub use collector::{MapCollector, ServedMap, DROPPED_METRIC, ENTRY_METRIC};
pub use declared::DeclarationError;
pub use layout::{Enumerators, Field, FieldKind, Layout, Value};
pub use server::{Exporter, Format, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
pub use whistler_object::metrics::MetricSpec;
