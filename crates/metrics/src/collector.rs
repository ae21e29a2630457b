//! A `prometheus-client` collector that reads BPF maps at scrape time: declared metrics
//! (`defmetric`, see `declared.rs`) and, for every other map, the default series.

use crate::declared::{DeclarationError, DeclaredMetric};
use crate::decode::SystemTables;
use crate::layout::{Layout, Sample, Value};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt;
use std::sync::{Arc, Mutex};
use whistler_loader::{Map, MapError};
use whistler_object::metrics::MetricSpec;
use whistler_object::symbol_name;
use whistler_session::MapEntry;

/// The family every map entry is served in.
pub const ENTRY_METRIC: &str = "whistler_map_entry";
/// The family that names maps whose read failed during a scrape (value 1).
const READ_FAILED_METRIC: &str = "whistler_map_read_failed";
/// The family counting, per declared metric, the series its cardinality cap left out.
pub const DROPPED_METRIC: &str = "whistler_metric_series_dropped";

/// A map to serve, with the name to show and how its keys and values read.
pub struct ServedMap {
    /// The `map` label: the map's name as written in the source.
    pub name: String,
    pub map: Map,
    pub key: Layout,
    pub value: Layout,
}

impl fmt::Debug for ServedMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServedMap")
            .field("name", &self.name)
            .finish()
    }
}

/// Entries per BPF_MAP_LOOKUP_BATCH call.
const BATCH: u32 = 4096;

impl ServedMap {
    /// Every entry as `(key label, samples)`, per-CPU values summed field by field.
    fn read(&self) -> Result<Vec<(String, Vec<Sample>)>, MapError> {
        let entries = self.read_raw()?.into_iter().map(|(key, value)| {
            let samples = if self.map.is_per_cpu() {
                self.value.summed_samples(&self.map.split_per_cpu(&value))
            } else {
                self.value.samples(&value)
            };
            (self.key.key_label(&key), samples)
        });
        Ok(entries.collect())
    }

    fn read_raw(&self) -> Result<Vec<MapEntry>, MapError> {
        read_entries(&self.map)
    }
}

/// Every (key, whole value) of `map`: in batches where the map type supports them (hash and
/// array maps, per-CPU or not), else one key at a time.
pub(crate) fn read_entries(map: &Map) -> Result<Vec<MapEntry>, MapError> {
    match map.lookup_batch(BATCH) {
        Ok(entries) => Ok(entries),
        Err(_) => map.iter().collect(),
    }
}

/// Serves declared metrics, and every other map as `whistler_map_entry{map, key[, field]}`
/// gauges, read at each scrape.
#[derive(Debug)]
pub struct MapCollector {
    maps: Vec<ServedMap>,
    declared: Vec<DeclaredMetric>,
    /// Tables the label decoders read (kernel symbols, interfaces, cgroups), kept between
    /// scrapes.
    tables: Mutex<SystemTables>,
}

impl MapCollector {
    /// Serves every map as default series.
    pub fn new(maps: Vec<ServedMap>) -> MapCollector {
        MapCollector {
            maps,
            declared: Vec::new(),
            tables: Mutex::default(),
        }
    }

    /// Serves `metrics` (declarations read from an object, [`whistler_object::read_metrics`]),
    /// each from the map of `maps` it names (by Lisp or object name), and the maps no metric
    /// reads as default series.
    pub fn with_metrics(
        mut maps: Vec<ServedMap>,
        metrics: Vec<MetricSpec>,
    ) -> Result<MapCollector, DeclarationError> {
        let mut read: Vec<(String, Arc<Map>)> = Vec::new();
        let mut declared = Vec::new();
        for spec in metrics {
            let symbol = symbol_name(&spec.map);
            let shared = match read.iter().find(|(s, _)| *s == symbol) {
                Some((_, map)) => map.clone(),
                None => {
                    let Some(i) = maps.iter().position(|m| symbol_name(&m.name) == symbol) else {
                        return Err(DeclarationError::UnknownMap {
                            metric: spec.name,
                            map: spec.map,
                        });
                    };
                    let map = Arc::new(maps.remove(i).map);
                    read.push((symbol, map.clone()));
                    map
                }
            };
            declared.push(DeclaredMetric::new(spec, shared)?);
        }
        Ok(MapCollector {
            declared,
            ..MapCollector::new(maps)
        })
    }

    /// A registry holding only this collector, for [`crate::Exporter::bind`].
    pub fn into_registry(self) -> Registry {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self));
        registry
    }
}

impl Collector for MapCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let mut failed = Vec::new();
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        for metric in &self.declared {
            if metric.encode(&mut encoder, &mut tables)?.is_err() {
                failed.push(metric.map_name());
            }
        }
        drop(tables);
        if !self.declared.is_empty() {
            let mut dropped = encoder.encode_descriptor(
                DROPPED_METRIC,
                "Series a declared metric left out because of its :max-series cap.",
                None,
                MetricType::Counter,
            )?;
            for metric in &self.declared {
                ConstCounter::new(metric.dropped())
                    .encode(dropped.encode_family(&[("metric", metric.name())])?)?;
            }
        }
        if self.maps.is_empty() {
            return encode_failures(&mut encoder, failed);
        }
        let mut entries = encoder.encode_descriptor(
            ENTRY_METRIC,
            "One entry of a BPF map: its key, and its value or one field of it.",
            None,
            MetricType::Gauge,
        )?;
        for served in &self.maps {
            let Ok(read) = served.read() else {
                failed.push(served.name.as_str());
                continue;
            };
            for (key, samples) in read {
                for sample in samples {
                    let mut labels = vec![("map", served.name.as_str()), ("key", key.as_str())];
                    labels.extend(sample.field.as_deref().map(|field| ("field", field)));
                    encode_value(entries.encode_family(&labels)?, sample.value)?;
                }
            }
        }
        encode_failures(&mut encoder, failed)
    }
}

/// `whistler_map_read_failed{map} 1` for each map whose read failed.
fn encode_failures(encoder: &mut DescriptorEncoder, mut failed: Vec<&str>) -> fmt::Result {
    failed.dedup();
    if failed.is_empty() {
        return Ok(());
    }
    let mut failures = encoder.encode_descriptor(
        READ_FAILED_METRIC,
        "A BPF map that could not be read during this scrape.",
        None,
        MetricType::Gauge,
    )?;
    for name in failed {
        encode_value(
            failures.encode_family(&[("map", name)])?,
            Value::Unsigned(1),
        )?;
    }
    Ok(())
}

fn encode_value(
    encoder: prometheus_client::encoding::MetricEncoder<'_>,
    value: Value,
) -> Result<(), fmt::Error> {
    match value {
        Value::Unsigned(v) => ConstGauge::new(v).encode(encoder),
        Value::Signed(v) => ConstGauge::new(v).encode(encoder),
    }
}
