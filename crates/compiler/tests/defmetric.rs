//! `defmetric` resolved against its map's layout, and carried by the object: what the compiler
//! declares is what `read_metrics` finds in the written ELF.

use whistler_compiler::compile;
use whistler_object::metrics::{
    Buckets, Decoder, FieldRef, LabelSpec, MetricKind, MetricSpec, PerCpu, SourceUnit,
};
use whistler_syntax::SourceFile;

const SOURCE: &str = r#"
(defmetric syscalls :counter :map by-syscall :help "System calls by name."
  :labels ((syscall :syscall :allow ("read" "write") :match "^[a-z]") (status (:table (0 "ok") (-1 "failed")) :field result))
  :per-cpu :cpu :max-series 64)
(defstruct call (syscall u32) (result i32))
(defmap by-syscall :type :percpu-hash :key-type call :value-type u64 :max-entries 512)
(defstruct slot (comm (array u8 16)) (index u32))
(defmap lat :type :hash :key-type slot :value-type u64 :max-entries 512)
(defmetric latency-seconds :histogram :map lat :buckets (:linear 1000) :bucket index
  :unit :nanoseconds)
(defmap plain :type :array :key-size 4 :value-size 8 :max-entries 4)
(defmetric plain :gauge :map plain)
(defprog count (:type :tracepoint :section "tracepoint/raw_syscalls/sys_enter")
  (incf (getmap plain 0))
  0)
"#;

fn field(offset: u32, size: u32, signed: bool) -> FieldRef {
    FieldRef {
        offset,
        size,
        signed,
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

#[test]
fn metrics_are_resolved_against_their_maps_and_read_back_from_the_object() {
    let compiled = compile(&SourceFile::new("metrics.lisp", SOURCE)).unwrap();
    let syscalls = MetricSpec {
        name: "syscalls".into(),
        help: "System calls by name.".into(),
        map: "by-syscall".into(),
        kind: MetricKind::Counter,
        labels: vec![
            LabelSpec {
                allow: vec!["read".into(), "write".into()],
                pattern: Some("^[a-z]".into()),
                ..label("syscall", field(0, 4, false), Decoder::Syscall)
            },
            label(
                "status",
                field(4, 4, true),
                Decoder::Table(vec![(0, "ok".into()), (-1, "failed".into())]),
            ),
        ],
        value: field(0, 8, false),
        per_cpu: PerCpu::Label,
        max_series: 64,
        unit: Default::default(),
    };
    let latency = MetricSpec {
        name: "latency_seconds".into(),
        help: "latency-seconds from BPF map lat.".into(),
        map: "lat".into(),
        kind: MetricKind::Histogram {
            buckets: Buckets::Linear { step: 1000 },
            bucket: field(16, 4, false),
        },
        labels: vec![label("comm", field(0, 16, false), Decoder::Hex)],
        value: field(0, 8, false),
        per_cpu: PerCpu::Sum,
        max_series: 10_000,
        unit: SourceUnit::Nanoseconds,
    };
    let plain = MetricSpec {
        name: "plain".into(),
        help: "plain from BPF map plain.".into(),
        map: "plain".into(),
        kind: MetricKind::Gauge,
        labels: vec![label("key", field(0, 4, false), Decoder::Integer)],
        value: field(0, 8, false),
        per_cpu: PerCpu::Sum,
        max_series: 10_000,
        unit: Default::default(),
    };
    assert_eq!(compiled.spec.metrics, vec![syscalls, latency, plain]);
    assert_eq!(
        whistler_object::read_metrics(&compiled.elf).unwrap(),
        compiled.spec.metrics
    );
}

#[test]
fn a_unit_needs_a_known_name_and_a_metric_named_after_the_base_unit() {
    let source = "(defmap waits :type :array :key-type u32 :value-type u64 :max-entries 4)
(defmetric wait-time :gauge :map waits :unit :nanoseconds)
(defmetric wait-seconds :gauge :map waits :unit :nanosecs)";
    let errors = compile(&SourceFile::new("units.lisp", source)).unwrap_err();
    let messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
    assert!(
        messages.contains(&"metric `wait-time` is served in seconds".to_string()),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("expected the unit the map counts in")),
        "{messages:?}"
    );
}

#[test]
fn objects_without_metrics_have_no_metrics_section() {
    let compiled = compile(&SourceFile::new("plain.lisp", "(defprog p (:type :xdp) 2)")).unwrap();
    assert!(whistler_object::read_metrics(&compiled.elf)
        .unwrap()
        .is_empty());
    assert!(!compiled.elf.windows(17).any(|w| w == b".whistler.metrics"));
}
