//! Scrape time of a 10,000-entry hash map (issue 14's target: at most 10 ms) and the exporter's
//! memory: its resident set before the first scrape, after it, and after every scrape (what
//! keeps growing, if anything), served as default series and as a declared counter (with an
//! integer label, encoded as read, and with a table label, whose series are added up). Needs
//! CAP_BPF; run with `cargo bench -p whistler-metrics --bench scrape`, which prints the report
//! and writes it to its section of `BENCHMARKS.md`.

use prometheus_client::registry::Registry;
use std::fmt::Write;
use std::time::{Duration, Instant};
use whistler_bpf::MapType;
use whistler_loader::{Map, MapDefinition, UpdateFlags};
use whistler_metrics::{Format, Layout, MapCollector, MetricSpec, ServedMap};
use whistler_object::metrics::{Decoder, FieldRef, LabelSpec, MetricKind, PerCpu};

const ENTRIES: u32 = 10_000;
const SCRAPES: usize = 30;
const HEADING: &str = "# Metrics: scraping a 10,000-entry hash map";

fn main() {
    let mut report = format!(
        "{HEADING}\n\nWritten by `cargo bench -p whistler-metrics --bench scrape`: {SCRAPES} scrapes \
         of one hash map of {ENTRIES} entries (u32 keys, u64 values), read in batches and \
         encoded by `prometheus-client`, in wall-clock time and in the CPU time of the scraping \
         thread (user and kernel: what the scrape costs, without the time other processes on a \
         busy machine take from it). Memory is the process's resident set (`VmRSS`, with the \
         map's kernel memory outside it).\n\n\
         | served as | median | min | max | CPU median | CPU min | body | RSS before | after 1st scrape | after {SCRAPES} |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for (what, declared) in [
        ("`whistler_map_entry` gauges", None),
        (
            "a declared counter, `:integer` label",
            Some(Decoder::Integer),
        ),
        (
            "a declared counter, `:table` label (added up)",
            Some(Decoder::Table(vec![(1, "one".into())])),
        ),
    ] {
        let Some(row) = measure(declared) else {
            eprintln!("scrape bench skipped: cannot create a map; it needs CAP_BPF");
            return;
        };
        writeln!(report, "| {what} | {row} |").unwrap();
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    writeln!(
        report,
        "\nLoad average {load} on {cpus} CPUs during the run: wall-clock times include the \
         time the scraping thread waited for a CPU."
    )
    .unwrap();
    print!("{report}");
    whistler_testkit::benchmarks::write_section(&report).unwrap();
}

/// One table row, or `None` without CAP_BPF.
fn measure(declared: Option<Decoder>) -> Option<String> {
    let counter = declared.is_some();
    let registry = registry(filled_map()?, declared);
    let before = resident_kib();
    let mut times: Vec<Duration> = Vec::with_capacity(SCRAPES);
    let mut cpu_times: Vec<Duration> = Vec::with_capacity(SCRAPES);
    let (mut bytes, mut after_first) = (0, 0);
    for i in 0..SCRAPES {
        let (start, cpu_start) = (Instant::now(), thread_cpu_time());
        let body = Format::OpenMetrics.encode(&registry).expect("encodes");
        times.push(start.elapsed());
        cpu_times.push(thread_cpu_time() - cpu_start);
        bytes = body.len();
        let series = if counter {
            "bench_counts_total{"
        } else {
            "whistler_map_entry{"
        };
        assert_eq!(body.matches(series).count(), ENTRIES as usize);
        drop(body);
        if i == 0 {
            after_first = resident_kib();
        }
    }
    let after = resident_kib();
    times.sort();
    cpu_times.sort();
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    Some(format!(
        "{} | {} | {} | {} | {} | {} KiB | {} KiB | {} KiB | {} KiB",
        ms(times[SCRAPES / 2]),
        ms(times[0]),
        ms(times[SCRAPES - 1]),
        ms(cpu_times[SCRAPES / 2]),
        ms(cpu_times[0]),
        bytes / 1024,
        before,
        after_first,
        after
    ))
}

fn filled_map() -> Option<Map> {
    let definition = MapDefinition {
        name: "bench_counts".into(),
        map_type: MapType::HASH as u32,
        key_size: 4,
        value_size: 8,
        max_entries: ENTRIES,
        ..Default::default()
    };
    let map = Map::create(&definition).ok()?;
    for key in 0..ENTRIES {
        let value = u64::from(key) * 3;
        map.update(&key.to_le_bytes(), &value.to_le_bytes(), UpdateFlags::Any)
            .expect("the map has room for every entry");
    }
    Some(map)
}

fn registry(map: Map, declared: Option<Decoder>) -> Registry {
    let served = ServedMap {
        name: "bench-counts".into(),
        map,
        key: Layout::Int { signed: false },
        value: Layout::Int { signed: false },
    };
    let Some(decoder) = declared else {
        return MapCollector::new(vec![served]).into_registry();
    };
    let whole = |size| FieldRef {
        offset: 0,
        size,
        signed: false,
    };
    let counter = MetricSpec {
        name: "bench_counts".into(),
        help: "Counts by key.".into(),
        map: "bench-counts".into(),
        kind: MetricKind::Counter,
        labels: vec![LabelSpec {
            name: "key".into(),
            field: whole(4),
            decoder,
            allow: vec![],
            pattern: None,
        }],
        value: whole(8),
        per_cpu: PerCpu::Sum,
        max_series: ENTRIES,
        unit: Default::default(),
    };
    MapCollector::with_metrics(vec![served], vec![counter])
        .expect("the map is served")
        .into_registry()
}

/// CPU time this thread has used (CLOCK_THREAD_CPUTIME_ID), in user space and in the kernel.
fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The resident set size in KiB (`VmRSS` of `/proc/self/status`).
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
