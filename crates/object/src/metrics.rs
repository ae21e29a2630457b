//! Metric declarations (`defmetric`) carried in an object's `.whistler.metrics` section, so that
//! an exporter can serve an object without its source: what each metric reads from which map,
//! how its labels decode, and its encoding in bytes.
//!
//! The section is not allocated and has no program-like name, so libbpf and our loader skip it.
//! Its encoding, little-endian throughout:
//!
//! ```text
//! section  = "WMET" version:u16 count:u32 metric*count
//! metric   = name:str help:str map:str kind value:field per_cpu:u8 max_series:u32
//!            unit:u8 labels:u32 label*labels       (unit: 0 base, 1 ns, 2 us, 3 ms)
//! kind     = 0 (counter) | 1 (gauge) | 2 (histogram) buckets bucket:field
//! buckets  = 0 (log2) | 1 (linear) step:u64
//! label    = name:str field decoder allowed:u32 str*allowed has_pattern:u8 [pattern:str]
//! decoder  = 0..=9 | 10 (table) entries:u32 (key:i64 str)*entries
//! field    = offset:u32 size:u32 signed:u8
//! str      = len:u32 utf-8 bytes
//! ```
//!
//! A reader refuses a version it does not know rather than guess. Version 1 had no `unit` (the
//! values are in the base unit); this reader reads it too.

/// The section's name.
pub const METRICS_SECTION: &str = ".whistler.metrics";
const MAGIC: &[u8; 4] = b"WMET";
/// The encoding's version; bump it when the layout changes.
pub const METRICS_VERSION: u16 = 2;
/// The first version with a unit per metric.
const UNIT_VERSION: u16 = 2;

/// One declared metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricSpec {
    /// The Prometheus family name (a counter is served as `NAME_total`).
    pub name: String,
    pub help: String,
    /// The map read at each scrape, by its Lisp name.
    pub map: String,
    pub kind: MetricKind,
    /// The labels, each decoded from a part of the key.
    pub labels: Vec<LabelSpec>,
    /// The part of the value that is the sample (or a bucket's count).
    pub value: FieldRef,
    pub per_cpu: PerCpu,
    /// At most this many series per scrape; the rest are dropped and counted.
    pub max_series: u32,
    /// What one unit of the map's values (and histogram buckets) is.
    pub unit: SourceUnit,
}

/// The unit the map counts in. Prometheus names and serves metrics in base units (seconds,
/// not nanoseconds), so the exporter scales values in a smaller unit to the base one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SourceUnit {
    /// The values are in the unit the metric serves.
    #[default]
    Base,
    Nanoseconds,
    Microseconds,
    Milliseconds,
}

impl SourceUnit {
    /// Every unit's keyword in `defmetric`'s `:unit`, in code order.
    pub const NAMES: &'static [&'static str] =
        &["base", "nanoseconds", "microseconds", "milliseconds"];
    const ALL: [SourceUnit; 4] = [
        SourceUnit::Base,
        SourceUnit::Nanoseconds,
        SourceUnit::Microseconds,
        SourceUnit::Milliseconds,
    ];

    pub fn from_name(name: &str) -> Option<SourceUnit> {
        let index = SourceUnit::NAMES.iter().position(|n| *n == name)?;
        Some(SourceUnit::ALL[index])
    }

    /// The base unit's name, which the metric's name ends in (`None` for [`SourceUnit::Base`]).
    pub fn base_unit(self) -> Option<&'static str> {
        match self {
            SourceUnit::Base => None,
            _ => Some("seconds"),
        }
    }

    /// How many of this unit make one base unit (1e9 nanoseconds in a second): values are
    /// divided by it, which rounds exactly (15 ns serve as 1.5e-8, not 1.5000000000000003e-8).
    pub fn per_base_unit(self) -> f64 {
        match self {
            SourceUnit::Base => 1.0,
            SourceUnit::Nanoseconds => 1e9,
            SourceUnit::Microseconds => 1e6,
            SourceUnit::Milliseconds => 1e3,
        }
    }

    fn code(self) -> u8 {
        SourceUnit::ALL
            .iter()
            .position(|u| *u == self)
            .expect("every unit is listed") as u8
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    /// Each key holds one bucket's count; `bucket` is the part of the key with the bucket's
    /// index.
    Histogram {
        buckets: Buckets,
        bucket: FieldRef,
    },
}

/// How a histogram map's bucket index maps to values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buckets {
    /// `(log2 x)`: index 0 counts 0 and 1, index `k` counts `[2^k, 2^(k+1))`.
    Log2,
    /// `(/ x step)`: index `k` counts `[k*step, (k+1)*step)`.
    Linear { step: u64 },
}

/// How per-CPU values become series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PerCpu {
    /// One series, the CPUs' values added.
    Sum,
    /// One series per CPU, with a `cpu` label.
    Label,
}

/// A part of a key or value: its byte offset, size, and whether it is a signed integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldRef {
    pub offset: u32,
    pub size: u32,
    pub signed: bool,
}

/// A label: its name, the part of the key it shows, how, and which values are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSpec {
    pub name: String,
    pub field: FieldRef,
    pub decoder: Decoder,
    /// When not empty, only series whose decoded label is one of these are served.
    pub allow: Vec<String>,
    /// When set, only series whose decoded label matches this regular expression are served.
    pub pattern: Option<String>,
}

/// How key bytes become a label value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoder {
    /// Decimal.
    Integer,
    /// `0x` and lowercase hex digits of the integer (bytes in order for other sizes).
    Hex,
    /// Four bytes in network order as a dotted quad.
    Ipv4,
    /// Sixteen bytes in network order, as RFC 5952 text.
    Ipv6,
    /// A kernel address as the name of the symbol containing it (`/proc/kallsyms`).
    KernelSymbol,
    /// A system call number of the running architecture as its name.
    Syscall,
    /// An errno (negative or positive) as its name (`ENOENT`).
    Errno,
    /// An interface index as the interface's name.
    Interface,
    /// A cgroup id as the cgroup's path under the cgroup v2 root.
    CgroupPath,
    /// Bytes up to the first NUL as text (`get-current-comm`).
    Comm,
    /// Integers named by a table; other values in decimal.
    Table(Vec<(i64, String)>),
}

impl Decoder {
    /// Every decoder's keyword in `defmetric` (`:table` takes its entries after it).
    pub const NAMES: &'static [&'static str] = &[
        "integer", "hex", "ipv4", "ipv6", "ksym", "syscall", "errno", "ifname", "cgroup", "comm",
        "table",
    ];

    /// The decoder a keyword names, except `:table`, which needs its entries.
    pub fn from_name(name: &str) -> Option<Decoder> {
        let all = [
            Decoder::Integer,
            Decoder::Hex,
            Decoder::Ipv4,
            Decoder::Ipv6,
            Decoder::KernelSymbol,
            Decoder::Syscall,
            Decoder::Errno,
            Decoder::Interface,
            Decoder::CgroupPath,
            Decoder::Comm,
        ];
        let index = Decoder::NAMES.iter().position(|n| *n == name)?;
        all.into_iter().nth(index)
    }

    fn code(&self) -> u8 {
        match self {
            Decoder::Integer => 0,
            Decoder::Hex => 1,
            Decoder::Ipv4 => 2,
            Decoder::Ipv6 => 3,
            Decoder::KernelSymbol => 4,
            Decoder::Syscall => 5,
            Decoder::Errno => 6,
            Decoder::Interface => 7,
            Decoder::CgroupPath => 8,
            Decoder::Comm => 9,
            Decoder::Table(_) => 10,
        }
    }

    /// The byte sizes of a key part this decoder reads (`None`: any size).
    pub fn sizes(&self) -> Option<&'static [u32]> {
        match self {
            Decoder::Ipv4 => Some(&[4]),
            Decoder::Ipv6 => Some(&[16]),
            Decoder::KernelSymbol | Decoder::CgroupPath => Some(&[8]),
            Decoder::Hex | Decoder::Comm => None,
            _ => Some(&[1, 2, 4, 8]),
        }
    }
}

/// Why a `.whistler.metrics` section could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    #[error("`.whistler.metrics` does not start with its magic bytes")]
    BadMagic,
    #[error("`.whistler.metrics` version {0} is not known to this reader (it reads version {METRICS_VERSION})")]
    UnknownVersion(u16),
    #[error("`.whistler.metrics` ends early")]
    Truncated,
    #[error("`.whistler.metrics` has an invalid {0}")]
    Invalid(&'static str),
}

/// The section's bytes for `metrics`.
pub fn encode(metrics: &[MetricSpec]) -> Vec<u8> {
    let mut out = Writer(MAGIC.to_vec());
    out.0.extend(METRICS_VERSION.to_le_bytes());
    out.u32(metrics.len() as u32);
    for metric in metrics {
        out.metric(metric);
    }
    out.0
}

/// The metrics a section's bytes declare.
pub fn decode(bytes: &[u8]) -> Result<Vec<MetricSpec>, MetricsError> {
    let mut input = Reader(bytes);
    if input.take(4)? != MAGIC {
        return Err(MetricsError::BadMagic);
    }
    let version = u16::from_le_bytes(input.array()?);
    if !(1..=METRICS_VERSION).contains(&version) {
        return Err(MetricsError::UnknownVersion(version));
    }
    let count = input.u32()?;
    let metrics = (0..count)
        .map(|_| input.metric(version))
        .collect::<Result<_, _>>()?;
    if !input.0.is_empty() {
        return Err(MetricsError::Invalid("trailing bytes"));
    }
    Ok(metrics)
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend(v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend(s.as_bytes());
    }
    fn field(&mut self, f: &FieldRef) {
        self.u32(f.offset);
        self.u32(f.size);
        self.u8(u8::from(f.signed));
    }
    fn metric(&mut self, m: &MetricSpec) {
        self.str(&m.name);
        self.str(&m.help);
        self.str(&m.map);
        match &m.kind {
            MetricKind::Counter => self.u8(0),
            MetricKind::Gauge => self.u8(1),
            MetricKind::Histogram { buckets, bucket } => {
                self.u8(2);
                match buckets {
                    Buckets::Log2 => self.u8(0),
                    Buckets::Linear { step } => {
                        self.u8(1);
                        self.0.extend(step.to_le_bytes());
                    }
                }
                self.field(bucket);
            }
        }
        self.field(&m.value);
        self.u8(match m.per_cpu {
            PerCpu::Sum => 0,
            PerCpu::Label => 1,
        });
        self.u32(m.max_series);
        self.u8(m.unit.code());
        self.u32(m.labels.len() as u32);
        for label in &m.labels {
            self.label(label);
        }
    }
    fn label(&mut self, l: &LabelSpec) {
        self.str(&l.name);
        self.field(&l.field);
        self.u8(l.decoder.code());
        if let Decoder::Table(entries) = &l.decoder {
            self.u32(entries.len() as u32);
            for (key, name) in entries {
                self.0.extend(key.to_le_bytes());
                self.str(name);
            }
        }
        self.u32(l.allow.len() as u32);
        for allowed in &l.allow {
            self.str(allowed);
        }
        self.u8(u8::from(l.pattern.is_some()));
        if let Some(pattern) = &l.pattern {
            self.str(pattern);
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], MetricsError> {
        if self.0.len() < n {
            return Err(MetricsError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], MetricsError> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }
    fn u8(&mut self) -> Result<u8, MetricsError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, MetricsError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn bool(&mut self) -> Result<bool, MetricsError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(MetricsError::Invalid("flag")),
        }
    }
    /// A count of items that each take at least one byte (so a damaged count cannot make the
    /// reader allocate more than the section holds).
    fn count(&mut self) -> Result<usize, MetricsError> {
        let n = self.u32()? as usize;
        if n > self.0.len() {
            return Err(MetricsError::Truncated);
        }
        Ok(n)
    }
    fn str(&mut self) -> Result<String, MetricsError> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| MetricsError::Invalid("string"))
    }
    fn field(&mut self) -> Result<FieldRef, MetricsError> {
        Ok(FieldRef {
            offset: self.u32()?,
            size: self.u32()?,
            signed: self.bool()?,
        })
    }
    fn metric(&mut self, version: u16) -> Result<MetricSpec, MetricsError> {
        let (name, help, map) = (self.str()?, self.str()?, self.str()?);
        let kind = match self.u8()? {
            0 => MetricKind::Counter,
            1 => MetricKind::Gauge,
            2 => {
                let buckets = match self.u8()? {
                    0 => Buckets::Log2,
                    1 => Buckets::Linear {
                        step: u64::from_le_bytes(self.array()?),
                    },
                    _ => return Err(MetricsError::Invalid("bucket kind")),
                };
                MetricKind::Histogram {
                    buckets,
                    bucket: self.field()?,
                }
            }
            _ => return Err(MetricsError::Invalid("metric kind")),
        };
        let value = self.field()?;
        let per_cpu = if self.bool()? {
            PerCpu::Label
        } else {
            PerCpu::Sum
        };
        let max_series = self.u32()?;
        let unit = match version {
            UNIT_VERSION.. => *SourceUnit::ALL
                .get(usize::from(self.u8()?))
                .ok_or(MetricsError::Invalid("unit"))?,
            _ => SourceUnit::Base,
        };
        let labels = (0..self.count()?)
            .map(|_| self.label())
            .collect::<Result<_, _>>()?;
        Ok(MetricSpec {
            name,
            help,
            map,
            kind,
            labels,
            value,
            per_cpu,
            max_series,
            unit,
        })
    }
    fn label(&mut self) -> Result<LabelSpec, MetricsError> {
        let name = self.str()?;
        let field = self.field()?;
        let code = self.u8()?;
        let decoder = match code {
            10 => {
                let entries = (0..self.count()?)
                    .map(|_| Ok((i64::from_le_bytes(self.array()?), self.str()?)))
                    .collect::<Result<_, MetricsError>>()?;
                Decoder::Table(entries)
            }
            _ => Decoder::NAMES
                .get(usize::from(code))
                .and_then(|n| Decoder::from_name(n))
                .ok_or(MetricsError::Invalid("decoder"))?,
        };
        let allow = (0..self.count()?)
            .map(|_| self.str())
            .collect::<Result<_, _>>()?;
        let pattern = if self.bool()? {
            Some(self.str()?)
        } else {
            None
        };
        Ok(LabelSpec {
            name,
            field,
            decoder,
            allow,
            pattern,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(offset: u32, size: u32) -> FieldRef {
        FieldRef {
            offset,
            size,
            signed: false,
        }
    }

    fn sample() -> Vec<MetricSpec> {
        let syscall = LabelSpec {
            name: "syscall".into(),
            field: field(0, 4),
            decoder: Decoder::Syscall,
            allow: vec!["read".into(), "write".into()],
            pattern: Some("^(read|write)$".into()),
        };
        let status = LabelSpec {
            name: "status".into(),
            field: field(4, 4),
            decoder: Decoder::Table(vec![(-1, "failed".into()), (0, "ok".into())]),
            allow: Vec::new(),
            pattern: None,
        };
        vec![
            MetricSpec {
                name: "syscalls".into(),
                help: "System calls by name.".into(),
                map: "syscall-counts".into(),
                kind: MetricKind::Counter,
                labels: vec![syscall, status],
                value: field(0, 8),
                per_cpu: PerCpu::Label,
                max_series: 500,
                unit: SourceUnit::Base,
            },
            MetricSpec {
                name: "latency_ns".into(),
                help: String::new(),
                map: "lat-hist".into(),
                kind: MetricKind::Histogram {
                    buckets: Buckets::Linear { step: 1000 },
                    bucket: field(0, 4),
                },
                labels: Vec::new(),
                value: FieldRef {
                    offset: 8,
                    size: 8,
                    signed: true,
                },
                per_cpu: PerCpu::Sum,
                max_series: 10_000,
                unit: SourceUnit::Nanoseconds,
            },
        ]
    }

    #[test]
    fn metrics_read_back_as_written() {
        let metrics = sample();
        assert_eq!(decode(&encode(&metrics)).unwrap(), metrics);
        assert_eq!(decode(&encode(&[])).unwrap(), Vec::new());
    }

    #[test]
    fn version_1_sections_read_with_values_in_the_base_unit() {
        let mut metric = sample().remove(0);
        metric.labels.clear();
        let mut bytes = encode(std::slice::from_ref(&metric));
        // Version 1 had no unit byte: it is the one before the label count, which ends it.
        let unit_at = bytes.len() - 5;
        assert_eq!(bytes.remove(unit_at), 0);
        bytes[4] = 1;
        assert_eq!(decode(&bytes).unwrap(), vec![metric]);
    }

    #[test]
    fn damaged_sections_are_refused_not_guessed() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut newer = bytes.clone();
        newer[4] = 3;
        assert_eq!(decode(&newer), Err(MetricsError::UnknownVersion(3)));
        let mut other = bytes;
        other[0] = b'X';
        assert_eq!(decode(&other), Err(MetricsError::BadMagic));
    }
}
