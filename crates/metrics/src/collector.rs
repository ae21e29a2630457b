//! A `prometheus-client` collector that reads BPF maps at scrape time: declared metrics
//! (`defmetric`, see `declared.rs`) and, for every other map, the default series.

use crate::declared::{DeclarationError, DeclaredMetric};
use crate::decode::SystemTables;
use crate::layout::{Layout, Value};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabel, EncodeLabelSet, EncodeLabelValue, EncodeMetric,
    LabelSetEncoder, LabelValueEncoder,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt;
use std::sync::{Arc, Mutex};
use whistler_loader::{BatchBuffers, Map, MapError};
use whistler_object::metrics::MetricSpec;
use whistler_object::symbol_name;

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

/// The most memory one BPF_MAP_LOOKUP_BATCH call reads into: a map of up to this many bytes of
/// keys and values is read in one call.
const BATCH_BYTES: usize = 4 << 20;

/// Hands `visit` every (key, whole value) of `map`: in batches into `buffers` where the map
/// type supports them (hash and array maps, per-CPU or not), else one key at a time.
pub(crate) fn for_each_entry(
    map: &Map,
    buffers: &mut BatchBuffers,
    mut visit: impl FnMut(&[u8], &[u8]),
) -> Result<(), MapError> {
    let entry_bytes = map.info().key_size as usize + map.syscall_value_size()?;
    let batch = (BATCH_BYTES / entry_bytes.max(1)).clamp(1, map.info().max_entries.max(1) as usize);
    let mut visited = false;
    let batched = map.for_each_batched(batch as u32, buffers, |key, value| {
        visited = true;
        visit(key, value)
    });
    match batched {
        Err(_) if !visited => {
            for entry in map.iter() {
                let (key, value) = entry?;
                visit(&key, &value);
            }
            Ok(())
        }
        other => other,
    }
}

/// Hands `visit` the samples of `value`, a whole value of `map`, as `layout` reads them:
/// per-CPU values summed field by field.
fn for_each_sample(
    map: &Map,
    layout: &Layout,
    value: &[u8],
    visit: &mut dyn FnMut(Option<&str>, Value),
) {
    if map.is_per_cpu() {
        layout.for_each_sample(map.per_cpu_values(value), visit)
    } else {
        layout.for_each_sample(std::iter::once(value), visit)
    }
}

/// The labels of one default series: `map`, `key` and, for a struct value, `field`.
struct EntryLabels<'a> {
    map: &'a str,
    key: KeyLabel<'a>,
    field: Option<&'a str>,
}

/// A key written as its layout says, straight into the exposition.
#[derive(Clone, Copy)]
struct KeyLabel<'a> {
    layout: &'a Layout,
    bytes: &'a [u8],
}

impl EncodeLabelValue for KeyLabel<'_> {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        self.layout.write_key(self.bytes, encoder)
    }
}

impl EncodeLabelSet for EntryLabels<'_> {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        EncodeLabel::encode(&("map", self.map), encoder.encode_label())?;
        EncodeLabel::encode(&("key", self.key), encoder.encode_label())?;
        match self.field {
            Some(field) => EncodeLabel::encode(&("field", field), encoder.encode_label()),
            None => Ok(()),
        }
    }
}

/// Serves declared metrics, and every other map as `whistler_map_entry{map, key[, field]}`
/// gauges, read at each scrape.
#[derive(Debug)]
pub struct MapCollector {
    maps: Vec<ServedMap>,
    declared: Vec<DeclaredMetric>,
    /// What scrapes keep for the next one: the tables the label decoders read (kernel
    /// symbols, interfaces, cgroups) and the memory maps are read into.
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
pub(crate) struct Kept {
    pub tables: SystemTables,
    pub buffers: BatchBuffers,
}

impl MapCollector {
    /// Serves every map as default series.
    pub fn new(maps: Vec<ServedMap>) -> MapCollector {
        MapCollector {
            maps,
            declared: Vec::new(),
            kept: Mutex::default(),
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
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        for metric in &self.declared {
            if metric.encode(&mut encoder, &mut kept)?.is_err() {
                failed.push(metric.map_name());
            }
        }
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
            let mut written = Ok(());
            let read = for_each_entry(&served.map, &mut kept.buffers, |key, value| {
                let key = KeyLabel {
                    layout: &served.key,
                    bytes: key,
                };
                for_each_sample(&served.map, &served.value, value, &mut |field, value| {
                    if written.is_err() {
                        return;
                    }
                    let labels = EntryLabels {
                        map: &served.name,
                        key,
                        field,
                    };
                    written = entries
                        .encode_family(&labels)
                        .and_then(|encoder| encode_value(encoder, value));
                })
            });
            written?;
            if read.is_err() {
                failed.push(served.name.as_str());
            }
        }
        drop(kept);
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
