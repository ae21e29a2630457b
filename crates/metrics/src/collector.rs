//! A `prometheus-client` collector that reads BPF maps at scrape time.

use crate::layout::{Layout, Sample, Value};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt;
use whistler_loader::{Map, MapError};
use whistler_session::MapEntry;

/// The family every map entry is served in.
pub const ENTRY_METRIC: &str = "whistler_map_entry";
/// The family that names maps whose read failed during a scrape (value 1).
const READ_FAILED_METRIC: &str = "whistler_map_read_failed";

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

    /// Every (key, whole value): in batches where the map type supports them (hash and array
    /// maps, per-CPU or not), else one key at a time.
    fn read_raw(&self) -> Result<Vec<MapEntry>, MapError> {
        match self.map.lookup_batch(BATCH) {
            Ok(entries) => Ok(entries),
            Err(_) => self.map.iter().collect(),
        }
    }
}

/// Serves maps as `whistler_map_entry{map, key[, field]}` gauges, read at each scrape.
#[derive(Debug)]
pub struct MapCollector {
    maps: Vec<ServedMap>,
}

impl MapCollector {
    pub fn new(maps: Vec<ServedMap>) -> MapCollector {
        MapCollector { maps }
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
        if !failed.is_empty() {
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
        }
        Ok(())
    }
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
