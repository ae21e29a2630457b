//! Loading, attaching and dropping a session 200 times leaves nothing behind: the process has
//! the same open files as before, and the kernel lists no program, map or link of the session.
//! One test in its own binary, so that no other test opens files meanwhile.

mod common;

use std::time::Duration;
use whistler_testkit::kernel_available;

whistler::session! {
    pub struct Leaky;
    (defstruct leak-event (pid u32) (pad u32))
    (defmap leak-counts :type :percpu-array :key-size 4 :value-size 8 :max-entries 2)
    (defmap leak-ring :type :ringbuf :max-entries 4096)
    (defprog leak-tp (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
      (incf (getmap leak-counts 0))
      (with-ringbuf (ev leak-ring (sizeof leak-event))
        (setf (leak-event-pid ev) (cast u32 (ash (get-current-pid-tgid) -32))))
      0)
    (defprog leak-cg (:type :cgroup-skb :section "cgroup_skb/egress" :license "GPL")
      (incf (getmap leak-counts 1))
      1)
}

fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| {
            let target = std::fs::read_link(e.path()).unwrap_or_default();
            format!(
                "{} -> {}",
                e.file_name().to_string_lossy(),
                target.display()
            )
        })
        .collect();
    fds.sort();
    fds
}

/// Load, attach to a tracepoint and a cgroup, open a ring consumer, use the maps, drop.
fn one_round(cgroup: &std::path::Path) {
    let mut s = Leaky::load().unwrap();
    s.leak_tp.attach_auto().unwrap();
    s.leak_cg.attach(cgroup).unwrap();
    let mut consumer = s.leak_ring.raw_consumer(|_| {}).unwrap();
    consumer.poll(Duration::ZERO).unwrap();
    drop(consumer);
    s.leak_counts.get(&0).unwrap();
}

#[test]
fn two_hundred_sessions_leave_nothing() {
    if !kernel_available("two_hundred_sessions_leave_nothing") {
        return;
    }
    common::tracefs();
    let cgroup = common::TestCgroup::new("leaks");
    let programs = ["leak_tp", "leak_cg"];
    let maps = ["leak_counts", "leak_ring"];
    // One round first, so that lazily opened process-wide files (none expected) exist before
    // the count.
    one_round(&cgroup.0);
    let mark = common::id_mark();
    let before = open_fds();
    for _ in 0..200 {
        one_round(&cgroup.0);
    }
    // A panic while the session is alive unwinds through its drop too.
    let unwound = std::panic::catch_unwind(|| {
        let mut s = Leaky::load().unwrap();
        s.leak_cg.attach(cgroup.0.as_path()).unwrap();
        panic!("on purpose, with the session attached");
    });
    assert!(unwound.is_err());
    let after = open_fds();
    assert_eq!(before, after, "open files changed");
    common::assert_nothing_left(mark, &programs, &maps);
}
