//! Metrics declared with `defmetric`: a map's entries read at scrape time, each key's labels
//! decoded and filtered, entries with equal labels added up, then encoded as a counter, gauge
//! or histogram family through `prometheus-client`, at most `max_series` series per metric.
//!
//! Histograms: each entry counts one bucket (its index is a part of the key). A log2 bucket
//! `k` counts `[2^k, 2^(k+1))` (0 and 1 for `k = 0`), a linear one `[k*step, (k+1)*step)`;
//! integers that fit bucket `k` are at most its upper bound minus one, which is the `le`
//! served. Every bucket from 0 to the highest one that counted anything is served, then
//! `+Inf`. The map holds
//! no sum, so `_sum` is the sum of each bucket's lower bound times its count: a lower bound
//! of the real sum. A metric whose map counts in a smaller unit than the one it serves
//! (`:unit :nanoseconds`) has its values, bounds and sum scaled to seconds.

use crate::collector::{for_each_entry, Kept};
use crate::decode::{integer, SystemTables};
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabel, EncodeLabelSet, EncodeMetric, LabelSetEncoder, MetricEncoder,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use regex::Regex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use whistler_loader::{Map, MapError};
use whistler_object::metrics::{Buckets, Decoder, MetricKind, MetricSpec, PerCpu, SourceUnit};

/// Why a declaration cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum DeclarationError {
    #[error("metric `{metric}` reads map `{map}`, which this session does not serve")]
    UnknownMap { metric: String, map: String },
    #[error("metric `{metric}`, label `{label}`: invalid regular expression: {source}")]
    BadPattern {
        metric: String,
        label: String,
        source: regex::Error,
    },
}

/// A declared metric with the map it reads.
pub struct DeclaredMetric {
    spec: MetricSpec,
    map: Arc<Map>,
    /// Each label's `:match` pattern, compiled.
    patterns: Vec<Option<Regex>>,
    /// Series left out by the cardinality cap, over every scrape.
    dropped: AtomicU64,
    /// Series of the last scrape: room made for them up front in the next.
    last_series: AtomicUsize,
    /// Whether distinct entries always give distinct series (see [`labels_identify_keys`]):
    /// then entries are encoded as they are read, with nothing to add up.
    streams: bool,
}

impl fmt::Debug for DeclaredMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeclaredMetric")
            .field("spec", &self.spec)
            .finish()
    }
}

/// The series of one scrape, in the order the map gave their first entries: each series' label
/// values (the declared labels, then `cpu` when per-CPU values are labelled), each followed by
/// [`SEPARATOR`], and its aggregate.
struct Series {
    index: HashMap<Rc<str>, usize>,
    series: Vec<(Rc<str>, Aggregate)>,
}

/// Ends each label value in a series' label text (decoded values have theirs replaced).
const SEPARATOR: char = '\0';

#[derive(Debug, Default)]
struct Aggregate {
    value: i128,
    buckets: BTreeMap<u64, u64>,
}

/// A series' labels, written straight from its label text.
struct SeriesLabels<'a> {
    names: &'a [&'a str],
    values: &'a str,
}

impl EncodeLabelSet for SeriesLabels<'_> {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        let values = self.values.split_terminator(SEPARATOR);
        for label in self.names.iter().copied().zip(values) {
            EncodeLabel::encode(&label, encoder.encode_label())?;
        }
        Ok(())
    }
}

impl DeclaredMetric {
    pub fn new(spec: MetricSpec, map: Arc<Map>) -> Result<DeclaredMetric, DeclarationError> {
        let patterns = spec.labels.iter().map(|label| {
            let Some(pattern) = &label.pattern else {
                return Ok(None);
            };
            Regex::new(pattern)
                .map(Some)
                .map_err(|source| DeclarationError::BadPattern {
                    metric: spec.name.clone(),
                    label: label.name.clone(),
                    source,
                })
        });
        Ok(DeclaredMetric {
            patterns: patterns.collect::<Result<_, _>>()?,
            streams: labels_identify_keys(&spec, map.info().key_size),
            spec,
            map,
            dropped: AtomicU64::new(0),
            last_series: AtomicUsize::new(0),
        })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn map_name(&self) -> &str {
        &self.spec.map
    }

    /// Reads the map and encodes the family.
    pub fn encode(
        &self,
        encoder: &mut DescriptorEncoder,
        kept: &mut Kept,
    ) -> Result<Result<(), MapError>, fmt::Error> {
        let mut names: Vec<&str> = self.spec.labels.iter().map(|l| l.name.as_str()).collect();
        if self.labels_cpu() {
            names.push("cpu");
        }
        let metric_type = match self.spec.kind {
            MetricKind::Counter => MetricType::Counter,
            MetricKind::Gauge => MetricType::Gauge,
            MetricKind::Histogram { .. } => MetricType::Histogram,
        };
        if self.streams {
            let mut family =
                encoder.encode_descriptor(&self.spec.name, &self.spec.help, None, metric_type)?;
            return self.stream(&mut family, &names, kept);
        }
        let series = match self.series(kept) {
            Ok(series) => series,
            Err(e) => return Ok(Err(e)),
        };
        let mut family =
            encoder.encode_descriptor(&self.spec.name, &self.spec.help, None, metric_type)?;
        for (values, aggregate) in &series.series {
            let labels = SeriesLabels {
                names: &names,
                values,
            };
            self.encode_one(family.encode_family(&labels)?, aggregate)?;
        }
        Ok(Ok(()))
    }

    /// Encodes each entry's series as it is read: for metrics whose entries never share a
    /// series, so that nothing is added up or kept.
    fn stream(
        &self,
        family: &mut MetricEncoder<'_>,
        names: &[&str],
        kept: &mut Kept,
    ) -> Result<Result<(), MapError>, fmt::Error> {
        let (mut served, mut dropped) = (0, 0);
        let mut written = Ok(());
        let mut text = String::new();
        let Kept { tables, buffers } = kept;
        let max_series = self.spec.max_series as usize;
        let read = for_each_entry(&self.map, buffers, |key, value| {
            text.clear();
            if written.is_err() || !self.write_labels(key, tables, &mut text) {
                return;
            }
            let labelled = text.len();
            self.for_each_sample(value, |cpu, sample| {
                if written.is_err() {
                    return;
                }
                if served >= max_series {
                    dropped += 1;
                    return;
                }
                if let Some(cpu) = cpu {
                    text.truncate(labelled);
                    text.push_str(itoa::Buffer::new().format(cpu));
                    text.push(SEPARATOR);
                }
                let labels = SeriesLabels {
                    names,
                    values: &text,
                };
                let aggregate = Aggregate {
                    value: sample,
                    buckets: BTreeMap::new(),
                };
                written = family
                    .encode_family(&labels)
                    .and_then(|encoder| self.encode_one(encoder, &aggregate));
                served += 1;
            });
        });
        written?;
        self.dropped.fetch_add(dropped, Ordering::Relaxed);
        Ok(read)
    }

    /// Series dropped by the cap so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn labels_cpu(&self) -> bool {
        self.spec.per_cpu == PerCpu::Label && self.map.is_per_cpu()
    }

    fn series(&self, kept: &mut Kept) -> Result<Series, MapError> {
        let expected = self.last_series.load(Ordering::Relaxed);
        let mut series = Series {
            index: HashMap::with_capacity(expected),
            series: Vec::with_capacity(expected),
        };
        let mut dropped = HashSet::new();
        let mut text = String::new();
        let Kept { tables, buffers } = kept;
        let max_series = self.spec.max_series as usize;
        for_each_entry(&self.map, buffers, |key, value| {
            text.clear();
            if !self.write_labels(key, tables, &mut text) {
                return;
            }
            let bucket = match &self.spec.kind {
                MetricKind::Histogram { bucket, .. } => match integer(key, bucket) {
                    Some(index) => Some(index.clamp(0, i128::from(u64::MAX)) as u64),
                    None => return,
                },
                _ => None,
            };
            let labelled = text.len();
            self.for_each_sample(value, |cpu, sample| {
                if let Some(cpu) = cpu {
                    text.truncate(labelled);
                    text.push_str(itoa::Buffer::new().format(cpu));
                    text.push(SEPARATOR);
                }
                let at = match series.index.get(text.as_str()) {
                    Some(at) => *at,
                    None if series.series.len() >= max_series => {
                        if !dropped.contains(text.as_str()) {
                            dropped.insert(text.clone());
                        }
                        return;
                    }
                    None => {
                        let labels: Rc<str> = Rc::from(text.as_str());
                        series.index.insert(labels.clone(), series.series.len());
                        series.series.push((labels, Aggregate::default()));
                        series.series.len() - 1
                    }
                };
                let aggregate = &mut series.series[at].1;
                match bucket {
                    Some(index) => {
                        let count = u64::try_from(sample).unwrap_or(0);
                        *aggregate.buckets.entry(index).or_default() += count;
                    }
                    None => aggregate.value += sample,
                }
            });
        })?;
        self.dropped
            .fetch_add(dropped.len() as u64, Ordering::Relaxed);
        self.last_series
            .store(series.series.len(), Ordering::Relaxed);
        Ok(series)
    }

    /// Appends the decoded labels of `key` to `text`, each followed by [`SEPARATOR`]; false
    /// when a filter leaves the entry out.
    fn write_labels(&self, key: &[u8], tables: &mut SystemTables, text: &mut String) -> bool {
        for (label, pattern) in self.spec.labels.iter().zip(&self.patterns) {
            let start = text.len();
            tables.decode_into(&label.decoder, key, &label.field, text);
            if text[start..].contains(SEPARATOR) {
                let value = text[start..].replace(SEPARATOR, "\u{fffd}");
                text.truncate(start);
                text.push_str(&value);
            }
            let value = &text[start..];
            let allowed = label.allow.is_empty() || label.allow.iter().any(|a| a == value);
            if !allowed || pattern.as_ref().is_some_and(|p| !p.is_match(value)) {
                return false;
            }
            text.push(SEPARATOR);
        }
        true
    }

    /// Hands `visit` the value's samples: one, or one per CPU (with its number) when CPUs are
    /// labelled.
    fn for_each_sample(&self, value: &[u8], mut visit: impl FnMut(Option<usize>, i128)) {
        let field = &self.spec.value;
        if !self.map.is_per_cpu() {
            return visit(None, integer(value, field).unwrap_or(0));
        }
        let values = self
            .map
            .per_cpu_values(value)
            .map(|v| integer(v, field).unwrap_or(0));
        if self.labels_cpu() {
            values.enumerate().for_each(|(cpu, v)| visit(Some(cpu), v));
        } else {
            visit(None, values.sum())
        }
    }

    fn encode_one(&self, encoder: MetricEncoder<'_>, aggregate: &Aggregate) -> fmt::Result {
        let value = aggregate.value;
        let unit = self.spec.unit;
        match &self.spec.kind {
            MetricKind::Counter if unit == SourceUnit::Base => {
                ConstCounter::new(u64::try_from(value).unwrap_or(0)).encode(encoder)
            }
            MetricKind::Counter => {
                ConstCounter::new(value.max(0) as f64 / unit.per_base_unit()).encode(encoder)
            }
            MetricKind::Gauge => match i64::try_from(value) {
                Ok(v) if unit == SourceUnit::Base => ConstGauge::new(v).encode(encoder),
                _ => ConstGauge::new(value as f64 / unit.per_base_unit()).encode(encoder),
            },
            MetricKind::Histogram { buckets, .. } => {
                encode_histogram(encoder, *buckets, unit, &aggregate.buckets)
            }
        }
    }
}

/// Whether distinct entries of the map always give distinct series: counters and gauges whose
/// labels decode their key parts one to one (integers, hex, addresses) and together cover every
/// byte of the key (padding included, which the kernel compares too).
fn labels_identify_keys(spec: &MetricSpec, key_size: u32) -> bool {
    let one_to_one = |decoder: &Decoder| {
        matches!(
            decoder,
            Decoder::Integer | Decoder::Hex | Decoder::Ipv4 | Decoder::Ipv6
        )
    };
    let mut covered = vec![false; key_size as usize];
    for label in &spec.labels {
        if !one_to_one(&label.decoder) {
            return false;
        }
        let start = label.field.offset as usize;
        let end = start.saturating_add(label.field.size as usize);
        if let Some(bytes) = covered.get_mut(start..end) {
            bytes.fill(true);
        }
    }
    !matches!(spec.kind, MetricKind::Histogram { .. }) && covered.iter().all(|c| *c)
}

/// The histogram of `counts` (bucket index to count), bounds and sum scaled from `unit`.
fn encode_histogram(
    mut encoder: MetricEncoder<'_>,
    kind: Buckets,
    unit: SourceUnit,
    counts: &BTreeMap<u64, u64>,
) -> fmt::Result {
    let highest = counts
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(index, _)| *index)
        .max()
        .unwrap_or(0);
    let mut buckets: Vec<(f64, u64)> = (0..=highest)
        .map(|index| {
            let count = counts.get(&index).copied().unwrap_or(0);
            (
                (bucket_end(kind, index) as f64 - 1.0) / unit.per_base_unit(),
                count,
            )
        })
        .collect();
    buckets.push((f64::INFINITY, 0));
    let count = counts.values().sum();
    let sum: f64 = counts
        .iter()
        .map(|(index, count)| bucket_start(kind, *index) as f64 * *count as f64)
        .sum();
    encoder.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
        sum / unit.per_base_unit(),
        count,
        &buckets,
        None,
    )
}

/// The smallest value bucket `index` counts.
fn bucket_start(kind: Buckets, index: u64) -> u128 {
    match kind {
        Buckets::Log2 if index == 0 => 0,
        Buckets::Log2 => 1u128.checked_shl(index as u32).unwrap_or(u128::MAX),
        Buckets::Linear { step } => u128::from(index) * u128::from(step),
    }
}

/// The smallest value above bucket `index`.
fn bucket_end(kind: Buckets, index: u64) -> u128 {
    match kind {
        Buckets::Log2 => 1u128.checked_shl(index as u32 + 1).unwrap_or(u128::MAX),
        Buckets::Linear { step } => (u128::from(index) + 1) * u128::from(step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_bounds_follow_log2_and_linear_slots() {
        let starts: Vec<u128> = (0..4).map(|k| bucket_start(Buckets::Log2, k)).collect();
        let ends: Vec<u128> = (0..4).map(|k| bucket_end(Buckets::Log2, k)).collect();
        assert_eq!(starts, [0, 2, 4, 8]);
        assert_eq!(ends, [2, 4, 8, 16]);
        let linear = Buckets::Linear { step: 10 };
        assert_eq!((bucket_start(linear, 3), bucket_end(linear, 3)), (30, 40));
    }
}
