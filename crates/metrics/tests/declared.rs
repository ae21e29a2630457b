//! Declared metrics over real maps: labels decoded and filtered, equal labels added up,
//! per-CPU values summed or labelled, the cardinality cap and its counter, histogram buckets.

use whistler_bpf::MapType;
use whistler_loader::{Map, MapDefinition, UpdateFlags};
use whistler_metrics::{Layout, MapCollector, ServedMap};
use whistler_object::metrics::{
    Buckets, Decoder, FieldRef, LabelSpec, MetricKind, MetricSpec, PerCpu, SourceUnit,
};
use whistler_testkit::kernel_available;

fn field(offset: u32, size: u32) -> FieldRef {
    FieldRef {
        offset,
        size,
        signed: false,
    }
}

fn label(name: &str, field: FieldRef, decoder: Decoder) -> LabelSpec {
    LabelSpec {
        name: name.into(),
        field,
        decoder,
        allow: vec![],
        pattern: None,
    }
}

fn metric(name: &str, map: &str, kind: MetricKind, labels: Vec<LabelSpec>) -> MetricSpec {
    MetricSpec {
        name: name.into(),
        help: format!("{name} for the test."),
        map: map.into(),
        kind,
        labels,
        value: field(0, 8),
        per_cpu: PerCpu::Sum,
        max_series: 100,
        unit: Default::default(),
    }
}

fn cpus() -> usize {
    whistler_loader::cpus::possible_cpu_count().unwrap()
}

/// A map of `map_type` with 8-byte keys and values, filled with `entries` (each CPU's value
/// the same in per-CPU maps).
fn map(name: &str, map_type: MapType, entries: &[(u64, u64)]) -> ServedMap {
    let map = Map::create(&MapDefinition {
        name: name.into(),
        map_type: map_type as u32,
        key_size: 8,
        value_size: 8,
        max_entries: 64,
        ..Default::default()
    })
    .expect("CAP_BPF lets the test create maps");
    for (key, value) in entries {
        let key = key.to_le_bytes();
        let value = value.to_le_bytes().to_vec();
        if map.is_per_cpu() {
            let values = vec![value; cpus()];
            map.update_per_cpu(&key, &values, UpdateFlags::Any).unwrap();
        } else {
            map.update(&key, &value, UpdateFlags::Any).unwrap();
        }
    }
    ServedMap {
        name: name.into(),
        map,
        key: Layout::Int { signed: false },
        value: Layout::Int { signed: false },
    }
}

fn scrape(maps: Vec<ServedMap>, metrics: Vec<MetricSpec>) -> String {
    let registry = MapCollector::with_metrics(maps, metrics)
        .unwrap()
        .into_registry();
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &registry).unwrap();
    body
}

#[test]
fn labels_are_decoded_filtered_and_equal_labels_added_up() {
    if !kernel_available("labels_are_decoded_filtered_and_equal_labels_added_up") {
        return;
    }
    let number = |call: syscalls::Sysno| call.id() as u64;
    let calls = map(
        "calls",
        MapType::HASH,
        &[
            (number(syscalls::Sysno::getpid), 5),
            (number(syscalls::Sysno::read), 7),
            (number(syscalls::Sysno::write), 11),
        ],
    );
    // The low byte is a status the table names; keys 0x100 and 0x200 both decode to `ok`, so
    // their values are added up.
    let statuses = map(
        "statuses",
        MapType::HASH,
        &[(0x100, 1), (0x200, 2), (0x301, 4), (0x402, 8)],
    );
    let status = Decoder::Table(vec![(0, "ok".into()), (1, "failed".into())]);
    let metrics = vec![
        metric(
            "syscalls",
            "calls",
            MetricKind::Counter,
            vec![LabelSpec {
                allow: vec!["getpid".into(), "read".into()],
                ..label("syscall", field(0, 8), Decoder::Syscall)
            }],
        ),
        metric(
            "by_status",
            "statuses",
            MetricKind::Gauge,
            vec![LabelSpec {
                pattern: Some("^(ok|failed)$".into()),
                ..label("status", field(0, 1), status)
            }],
        ),
    ];
    let body = scrape(vec![calls, statuses], metrics);
    assert!(
        body.contains("syscalls_total{syscall=\"getpid\"} 5\n"),
        "{body}"
    );
    assert!(
        body.contains("syscalls_total{syscall=\"read\"} 7\n"),
        "{body}"
    );
    assert!(!body.contains("\"write\""), "{body}");
    assert!(body.contains("by_status{status=\"ok\"} 3\n"), "{body}");
    assert!(body.contains("by_status{status=\"failed\"} 4\n"), "{body}");
    assert!(
        !body.contains("status=\"2\""),
        "the pattern leaves 2 out: {body}"
    );
}

#[test]
fn per_cpu_values_are_summed_or_labelled_and_the_cap_counts_what_it_drops() {
    if !kernel_available("per_cpu_values_are_summed_or_labelled_and_the_cap_counts_what_it_drops") {
        return;
    }
    let entries: Vec<(u64, u64)> = (0..10).map(|k| (k, 3)).collect();
    let summed = map("summed", MapType::PERCPU_HASH, &entries);
    let labelled = map("labelled", MapType::PERCPU_HASH, &entries[..1]);
    let key = || vec![label("key", field(0, 8), Decoder::Integer)];
    let mut capped = metric("capped", "summed", MetricKind::Gauge, key());
    capped.max_series = 4;
    let mut by_cpu = metric("by_cpu", "labelled", MetricKind::Gauge, key());
    by_cpu.per_cpu = PerCpu::Label;
    // Integer labels covering the whole key are encoded as read; a table's names could be
    // shared by several keys, so its series are added up first: the cap holds for both.
    let by_name = vec![label("key", field(0, 8), Decoder::Table(vec![]))];
    let mut capped_by_name = metric("capped_by_name", "summed", MetricKind::Gauge, by_name);
    capped_by_name.max_series = 4;
    let body = scrape(vec![summed, labelled], vec![capped, by_cpu, capped_by_name]);
    for name in ["capped", "capped_by_name"] {
        let prefix = format!("{name}{{");
        let served: Vec<&str> = body.lines().filter(|l| l.starts_with(&prefix)).collect();
        assert_eq!(served.len(), 4, "{body}");
        let sum = format!("}} {}", 3 * cpus());
        assert!(served.iter().all(|l| l.ends_with(&sum)), "{body}");
        let dropped = format!("whistler_metric_series_dropped_total{{metric=\"{name}\"}} 6\n");
        assert!(body.contains(&dropped), "{body}");
    }
    for cpu in 0..cpus() {
        let line = format!("by_cpu{{key=\"0\",cpu=\"{cpu}\"}} 3\n");
        assert!(body.contains(&line), "{line} in\n{body}");
    }
}

#[test]
fn histogram_buckets_are_cumulative_with_log2_bounds() {
    if !kernel_available("histogram_buckets_are_cumulative_with_log2_bounds") {
        return;
    }
    // Slot 1 counts [2, 4), slot 3 counts [8, 16).
    let slots = map("slots", MapType::HASH, &[(1, 2), (3, 5)]);
    let latency = metric(
        "latency",
        "slots",
        MetricKind::Histogram {
            buckets: Buckets::Log2,
            bucket: field(0, 8),
        },
        vec![],
    );
    let body = scrape(vec![slots], vec![latency]);
    for line in [
        "latency_sum 44.0",
        "latency_count 7",
        "latency_bucket{le=\"1.0\"} 0",
        "latency_bucket{le=\"3.0\"} 2",
        "latency_bucket{le=\"7.0\"} 2",
        "latency_bucket{le=\"15.0\"} 7",
        "latency_bucket{le=\"+Inf\"} 7",
    ] {
        assert!(body.contains(&format!("{line}\n")), "{line} in\n{body}");
    }
    assert!(!body.contains("le=\"31.0\""), "{body}");
}

#[test]
fn a_map_counting_nanoseconds_serves_seconds() {
    if !kernel_available("a_map_counting_nanoseconds_serves_seconds") {
        return;
    }
    let slots = map("ns_slots", MapType::HASH, &[(1, 2), (3, 5)]);
    let waits = map("ns_waits", MapType::HASH, &[(0, 1_500_000_000)]);
    let mut latency = metric(
        "latency_seconds",
        "ns_slots",
        MetricKind::Histogram {
            buckets: Buckets::Log2,
            bucket: field(0, 8),
        },
        vec![],
    );
    latency.unit = SourceUnit::Nanoseconds;
    let mut waited = metric("waited_seconds", "ns_waits", MetricKind::Counter, vec![]);
    waited.unit = SourceUnit::Nanoseconds;
    let body = scrape(vec![slots, waits], vec![latency, waited]);
    let value = |prefix: &str| -> f64 {
        let line = body.lines().find_map(|l| l.strip_prefix(prefix));
        line.unwrap_or_else(|| panic!("no {prefix} in\n{body}"))
            .trim()
            .parse()
            .unwrap()
    };
    // Slot 3 counts [8, 16) ns: its bound is 15 ns; the sum is 2*2 + 5*8 ns.
    let bounds: Vec<(f64, u64)> = body
        .lines()
        .filter_map(|l| l.strip_prefix("latency_seconds_bucket{le=\""))
        .filter_map(|l| {
            let (le, count) = l.split_once("\"} ")?;
            Some((le.parse().ok()?, count.parse().ok()?))
        })
        .collect();
    assert!(bounds.contains(&(15e-9, 7)), "{body}");
    assert!(
        (value("latency_seconds_sum ") - 44e-9).abs() < 1e-15,
        "{body}"
    );
    assert_eq!(value("waited_seconds_total"), 1.5, "{body}");
}

#[test]
fn a_metric_of_a_map_the_session_lacks_is_an_error() {
    let missing = metric("lost", "nowhere", MetricKind::Gauge, vec![]);
    let error = MapCollector::with_metrics(Vec::new(), vec![missing]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "metric `lost` reads map `nowhere`, which this session does not serve"
    );
}
