//! Sessions written the way a user writes them, loaded into the running kernel: a tracepoint
//! with a ring buffer of defstruct records, per-CPU values, the scoped form, the raw-string and
//! file forms, builder options, and a verifier rejection pointing at the Lisp line.

mod common;

use std::time::Duration;
use whistler::loader::TestRun;
use whistler_testkit::kernel_available;

whistler::session! {
    pub struct GetpidTrace;
    (defstruct getpid-event
      (tgid u32)
      (tid u32)
      (ts u64))
    (defmap target-tgid :type :array :key-size 4 :value-size 4 :max-entries 1)
    (defmap records :type :ringbuf :max-entries 8192)
    (defmap getpid-calls :type :percpu-array :key-size 4 :value-size 8 :max-entries 1)
    (defprog on-getpid (:type :tracepoint :section "tracepoint/syscalls/sys_enter_getpid" :license "GPL")
      (let ((id (get-current-pid-tgid)))
        // Only this test process: its tgid is written into target-tgid before attaching.
        (when (= (cast u32 (ash id -32)) (getmap target-tgid 0))
          (incf (getmap getpid-calls 0))
          (with-ringbuf (ev records (sizeof getpid-event))
            (setf (getpid-event-tgid ev) (cast u32 (ash id -32))
                  (getpid-event-tid ev) (cast u32 id)
                  (getpid-event-ts ev) (ktime-get-ns)))))
      0)
}

#[test]
fn tracepoint_ring_buffer_of_defstruct_records() {
    if !kernel_available("tracepoint_ring_buffer_of_defstruct_records") {
        return;
    }
    common::tracefs();
    const CALLS: usize = 50;
    let me = std::process::id();
    let mut s = GetpidTrace::load().unwrap();
    s.target_tgid.set(&0, &me).unwrap();
    s.on_getpid.attach_auto().unwrap();
    for _ in 0..CALLS {
        // std::process::id() is getpid(2) every time (glibc does not cache it).
        assert_eq!(std::process::id(), me);
    }
    let mut seen: Vec<GetpidEvent> = Vec::new();
    {
        let mut consumer = s
            .records
            .consumer(|ev: &GetpidEvent| seen.push(*ev))
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut handled = 0;
        while handled < CALLS && std::time::Instant::now() < deadline {
            handled += consumer.poll(Duration::from_millis(100)).unwrap();
        }
        assert_eq!(consumer.short_records(), 0);
    }
    assert!(seen.len() >= CALLS, "{} records", seen.len());
    assert!(seen.iter().all(|ev| ev.tgid == me), "{seen:?}");
    assert!(seen.iter().any(|ev| ev.tid != 0 && ev.ts != 0));
    assert!(
        seen.windows(2).all(|w| w[0].ts <= w[1].ts),
        "records out of order"
    );
    // One counter per CPU; their sum counts at least our calls.
    let per_cpu = s.getpid_calls.get(&0).unwrap().expect("array slots exist");
    let cpus = whistler::loader::cpus::possible_cpu_count().unwrap();
    assert_eq!(per_cpu.len(), cpus);
    let total: u64 = per_cpu.iter().sum();
    assert!(total >= CALLS as u64, "per-CPU counts {per_cpu:?}");
    assert!(total >= seen.len() as u64);
}

whistler::session! {
    pub struct Overflow;
    (defstruct tick (n u64))
    (defmap small-ring :type :ringbuf :max-entries 4096)
    // Slot 0: records that did not fit; slot 1: runs.
    (defmap ring-drops :type :array :key-size 4 :value-size 8 :max-entries 2)
    (defprog emit-tick (:type :xdp :section "xdp" :license "GPL")
      (incf (getmap ring-drops 1))
      (let ((rec (make-tick)))
        (setf (tick-n rec) 7)
        (when (/= (ringbuf-output small-ring rec (sizeof tick) 0) 0)
          (incf (getmap ring-drops 0))))
      2)
}

#[test]
fn a_full_ring_counts_its_drops_and_the_consumer_reports_them() {
    if !kernel_available("a_full_ring_counts_its_drops_and_the_consumer_reports_them") {
        return;
    }
    const RUNS: u32 = 1000;
    let s = Overflow::load().unwrap();
    let mut consumer = s
        .small_ring
        .consumer(|tick: &Tick| assert_eq!(tick.n, 7))
        .unwrap();
    assert!(consumer.dropped().is_none(), "no counter given yet");
    consumer.count_drops_in(s.ring_drops.raw(), 0).unwrap();
    let packet = [0u8; 64];
    let run = TestRun {
        data_in: &packet,
        repeat: RUNS,
        ..Default::default()
    };
    assert_eq!(s.emit_tick.test_run(run).unwrap().retval, 2);
    let consumed = consumer.consume() as u64;
    let dropped = consumer.dropped().unwrap().unwrap();
    // 16-byte slots (8-byte header + 8-byte record) in 4096 bytes, less one byte.
    assert_eq!(consumed, 4095 / 16);
    let runs = s.ring_drops.get(&1).unwrap().unwrap();
    assert!(runs >= u64::from(RUNS), "{runs} runs");
    assert_eq!(
        consumed + dropped,
        runs,
        "{consumed} consumed, {dropped} dropped"
    );
}

/// The getpid calls counted so far, summed over the CPUs.
fn getpid_calls(s: &GetpidTrace) -> u64 {
    s.getpid_calls.get(&0).unwrap().unwrap().iter().sum()
}

#[test]
fn a_pinned_link_outlives_its_session_and_is_reopened_by_path() {
    if !kernel_available("a_pinned_link_outlives_its_session_and_is_reopened_by_path") {
        return;
    }
    common::tracefs();
    let dir = common::bpffs_dir("link_pin");
    let (maps, link_path) = (dir.0.join("maps"), dir.0.join("on_getpid_link"));
    std::fs::create_dir(&maps).unwrap();
    let me = std::process::id();
    let mut first = GetpidTrace::builder().pin_path(&maps).load().unwrap();
    first.target_tgid.set(&0, &me).unwrap();
    let id = first.on_getpid.attach_auto().unwrap();
    assert!(first.on_getpid.pin_link(id, &link_path).unwrap());
    drop(first);

    let mut second = GetpidTrace::builder().pin_path(&maps).load().unwrap();
    let before = getpid_calls(&second);
    for _ in 0..20 {
        assert_eq!(std::process::id(), me);
    }
    assert!(
        getpid_calls(&second) >= before + 20,
        "the pinned link kept the first session's program attached"
    );
    let reopened = second.on_getpid.open_pinned_link(&link_path).unwrap();
    assert_eq!(
        second.on_getpid.link(reopened).unwrap().pinned_path(),
        Some(link_path.as_path())
    );
    assert!(second.on_getpid.unpin_link(reopened).unwrap());
    assert!(second.on_getpid.detach(reopened));
    assert!(!link_path.exists());
    let after = getpid_calls(&second);
    for _ in 0..20 {
        assert_eq!(std::process::id(), me);
    }
    assert_eq!(getpid_calls(&second), after, "unpinned and detached");
}

#[test]
fn defstruct_is_a_plain_rust_struct_with_the_bpf_layout() {
    use whistler::Plain;
    assert_eq!(GetpidEvent::SIZE, 16);
    assert_eq!(std::mem::size_of::<GetpidEvent>(), 16);
    let ev = GetpidEvent {
        tgid: 7,
        tid: 8,
        ts: 0x0102_0304_0506_0708,
    };
    let bytes = ev.to_bytes();
    assert_eq!(&bytes[..8], &[7, 0, 0, 0, 8, 0, 0, 0]);
    assert_eq!(GetpidEvent::from_bytes(&bytes), Some(ev));
    assert_eq!(GetpidEvent::from_bytes(&bytes[..15]), None);
}

whistler::session! {
    pub struct PerCpu;
    (defmap per-cpu-slots :type :percpu-array :key-size 4 :value-size 8 :max-entries 4)
    (defprog bump-slot (:type :xdp :section "xdp" :license "GPL")
      (incf (getmap per-cpu-slots 2) 5)
      XDP_PASS)
}

whistler::session! {
    struct WithMacros;
    // User macros (no backquote: Rust's lexer cannot carry it), one built on another.
    (defmacro twice (x) (list (quote +) x x))
    (defmacro twice-plus-two (x) (list (quote +) (list (quote twice) x) 2))
    // A macro that expands to a map definition, called at top level.
    (defmacro defcounter (name)
      (list (quote bpf:map) name :type :array :key-size 4 :value-size 8 :max-entries 1))
    (defcounter macro-hits)
    (bpf:prog macro-prog (:type :xdp :license "GPL")
      (incf (getmap macro-hits 0))
      (twice-plus-two 20))
}

#[test]
fn user_macros_expand_inside_rust_sessions() {
    if !kernel_available("user_macros_expand_inside_rust_sessions") {
        return;
    }
    let s = WithMacros::load().unwrap();
    let run = s
        .macro_prog
        .test_run(TestRun {
            data_in: &[0u8; 64],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(run.retval, 42);
    assert_eq!(s.macro_hits.get(&0).unwrap(), Some(1));
}

#[test]
fn per_cpu_values_are_one_per_cpu() {
    if !kernel_available("per_cpu_values_are_one_per_cpu") {
        return;
    }
    let s = PerCpu::load().unwrap();
    let cpus = whistler::loader::cpus::possible_cpu_count().unwrap();
    let values: Vec<u64> = (1..=cpus as u64).collect();
    s.per_cpu_slots.set(&1, &values).unwrap();
    assert_eq!(s.per_cpu_slots.get(&1).unwrap(), Some(values));
    let packet = [0u8; 64];
    let run = s
        .bump_slot
        .test_run(TestRun {
            data_in: &packet,
            repeat: 3,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(run.retval, 2); // XDP_PASS
    let slot = s.per_cpu_slots.get(&2).unwrap().unwrap();
    assert_eq!(slot.len(), cpus);
    assert_eq!(slot.iter().sum::<u64>(), 15, "{slot:?}");
    assert!(s.per_cpu_slots.get(&4).unwrap().is_none() || cpus == 0);
}

#[test]
fn scoped_session_closes_everything_after_the_body() {
    if !kernel_available("scoped_session_closes_everything_after_the_body") {
        return;
    }
    let mark = common::id_mark();
    let result = whistler::with_bpf_session!({
        (defmap scoped-hits :type :array :key-size 4 :value-size 8 :max-entries 1)
        (defprog scoped-prog (:type :xdp :section "xdp" :license "GPL")
          (incf (getmap scoped-hits 0))
          XDP_DROP)
    } |s| {
        let packet = [0u8; 64];
        let run = s.scoped_prog.test_run(TestRun { data_in: &packet, repeat: 4, ..Default::default() }).unwrap();
        assert!(!common::leftovers(mark, &["scoped_prog"], &["scoped_hits"]).is_empty());
        (run.retval, s.scoped_hits.get(&0).unwrap())
    });
    assert_eq!(result.unwrap(), (1, Some(4))); // XDP_DROP, four runs
    common::assert_nothing_left(mark, &["scoped_prog"], &["scoped_hits"]);
}

// Written as rustfmt leaves it (it adds the comma after `;`); braces avoid the rewrite.
whistler::session!(
    pub struct RawForm;,
    r#"
  ; A `;` comment with what Rust tokens cannot hold: it's "quoted" (and unbalanced (
  (defmap raw-hits :type :array :key-size 4 :value-size 8 :max-entries 2)
  (defprog raw-prog (:type :xdp :section "xdp" :license "GPL")
    (incf (getmap raw-hits 1) 3)
    (if (= (getmap raw-hits 1) 3) XDP_PASS XDP_DROP))
"#
);

whistler::session! {
    pub struct RawInBraces;
    r#"(defprog raw-braces (:type :xdp :section "xdp" :license "GPL") XDP_DROP)"#
}

#[test]
fn raw_string_form_loads() {
    if !kernel_available("raw_string_form_loads") {
        return;
    }
    let s = RawForm::load().unwrap();
    let packet = [0u8; 64];
    let run = |s: &RawForm| {
        s.raw_prog
            .test_run(TestRun {
                data_in: &packet,
                ..Default::default()
            })
            .unwrap()
            .retval
    };
    assert_eq!(run(&s), 2); // XDP_PASS on the first run
    assert_eq!(run(&s), 1); // XDP_DROP once the count is 6
    assert_eq!(s.raw_hits.get(&1).unwrap(), Some(6));
    let braces = RawInBraces::load().unwrap();
    let out = braces
        .raw_braces
        .test_run(TestRun {
            data_in: &packet,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 1);
}

whistler::session!(pub struct FileForm; include "fixtures/file_form.lisp");

#[test]
fn file_form_loads_relative_to_the_calling_file() {
    if !kernel_available("file_form_loads_relative_to_the_calling_file") {
        return;
    }
    let s = FileForm::load().unwrap();
    let packet = [0u8; 64];
    let out = s
        .file_prog
        .test_run(TestRun {
            data_in: &packet,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 42);
    assert_eq!(s.file_hits.get(&0).unwrap(), Some(1));
}

#[test]
fn object_is_embedded_at_build_time() {
    // The ELF object is in the binary: no compiler, no files at run time.
    assert_eq!(&FileForm::OBJECT[..4], b"\x7fELF");
    assert_eq!(<RawForm as whistler::Session>::OBJECT, RawForm::OBJECT);
}

whistler::session! {
    pub struct Options;
    (defmap sized-table :type :hash :key-size 4 :value-size 8 :max-entries 16)
    (defprog options-prog (:type :xdp :section "xdp" :license "GPL")
      (incf (getmap sized-table 1))
      XDP_PASS)
}

#[test]
fn builder_overrides_max_entries_by_lisp_name() {
    if !kernel_available("builder_overrides_max_entries_by_lisp_name") {
        return;
    }
    let s = Options::builder()
        .max_entries("sized-table", 1000)
        .load()
        .unwrap();
    assert_eq!(s.sized_table.raw().info().max_entries, 1000);
    let s = Options::load().unwrap();
    assert_eq!(s.sized_table.raw().info().max_entries, 16);
}

#[test]
fn builder_pins_maps_and_reuses_them() {
    if !kernel_available("builder_pins_maps_and_reuses_them") {
        return;
    }
    let dir = common::bpffs_dir("pin");
    let first = Options::builder().pin_path(&dir.0).load().unwrap();
    first.sized_table.set(&9, &99).unwrap();
    let pinned: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(pinned.len(), 1, "{pinned:?}");
    drop(first);
    // The pin kept the map alive; a new session finds it with its contents.
    let second = Options::builder().pin_path(&dir.0).load().unwrap();
    assert_eq!(second.sized_table.get(&9).unwrap(), Some(99));
}

#[test]
fn builder_verifier_log_level_and_rodata_errors() {
    if !kernel_available("builder_verifier_log_level_and_rodata_errors") {
        return;
    }
    let s = Options::builder().verifier_log_level(2).load().unwrap();
    let log = s.options_prog.loaded().verifier_log().unwrap_or_default();
    assert!(log.contains("processed"), "no verifier log kept: {log:?}");
    // The compiler emits no .rodata, so an override names a symbol that does not exist.
    let err = Options::builder()
        .rodata("no-such-variable", vec![1, 2, 3, 4])
        .load()
        .err()
        .expect("an unknown .rodata symbol is an error");
    assert!(err.to_string().contains("no-such-variable"), "{err}");
}

whistler::session! {
    pub struct Rejected;
    (defprog unchecked-read (:type :xdp :section "xdp" :license "GPL")
      (let ((data (xdp-data)))
        // No bounds check against xdp-data-end: the verifier refuses the packet read.
        (load u32 data 40)))
}

#[test]
fn verifier_rejection_names_the_rs_file_and_the_lisp_line() {
    if !kernel_available("verifier_rejection_names_the_rs_file_and_the_lisp_line") {
        return;
    }
    let source = include_str!("sessions.rs");
    let line = source
        .lines()
        .position(|l| l.trim_start().starts_with("(load u32 data 40)"))
        .unwrap()
        + 1;
    let err = Rejected::load()
        .err()
        .expect("the verifier rejects the program");
    let text = err.to_string();
    eprintln!("rejected as expected: {text}");
    assert!(
        matches!(
            err,
            whistler::Error::Load(whistler::loader::LoadError::Verifier { .. })
        ),
        "{text}"
    );
    assert!(
        text.contains("unchecked_read") || text.contains("unchecked-read"),
        "{text}"
    );
    let location = format!("sessions.rs:{line}:");
    assert!(text.contains(&location), "{location} not in {text}");
}
