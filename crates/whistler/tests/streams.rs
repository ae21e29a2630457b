//! The `tokio` feature against the real kernel: an XDP program run with BPF_PROG_TEST_RUN
//! writes numbered records into a ring buffer and a perf event array, and both arrive through
//! the async streams of the session's handles, including records produced by another thread
//! while the stream is waiting (so the reactor's wakeup is what delivers them).

use std::time::Duration;
use whistler::loader::TestRun;
use whistler_testkit::kernel_available;

whistler::session! {
    pub struct Streams;
    (defstruct event
      (magic u32)
      (source u32))
    (defmap ring :type :ringbuf :max-entries 65536)
    (defmap perf :type :perf-event-array :max-entries 64)
    (defprog emit (:type :xdp :section "xdp" :license "GPL")
      (with-ringbuf (ev ring (sizeof event))
        (setf (event-magic ev) #x5157
              (event-source ev) 1))
      (let ((s (make-event)))
        (setf (event-magic s) #x5157
              (event-source s) 2)
        (perf-event-output ctx perf BPF_F_CURRENT_CPU s (sizeof event)))
      2)
}

const XDP_PASS: u32 = 2;
const WAIT: Duration = Duration::from_secs(5);

fn run(program: &whistler::Program, times: u32) {
    let packet = [0u8; 64];
    let out = program
        .test_run(TestRun {
            data_in: &packet,
            repeat: times,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, XDP_PASS);
}

#[tokio::test(flavor = "current_thread")]
async fn ring_and_perf_records_arrive_through_streams() {
    if !kernel_available("ring_and_perf_records_arrive_through_streams") {
        return;
    }
    let s = Streams::load().unwrap();
    let mut ring = s.ring.stream::<Event>().unwrap();
    let mut perf = s.perf.stream::<Event>(8).unwrap();

    run(&s.emit, 10);
    for _ in 0..10 {
        let ev = tokio::time::timeout(WAIT, ring.next()).await.unwrap();
        let ev = ev.unwrap().unwrap();
        assert_eq!((ev.magic, ev.source), (0x5157, 1));
        let ev = tokio::time::timeout(WAIT, perf.next()).await.unwrap();
        let ev = ev.unwrap().unwrap();
        assert_eq!((ev.magic, ev.source), (0x5157, 2));
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(100), ring.next())
            .await
            .is_err(),
        "nothing more was produced"
    );

    // Produced by another thread while both streams wait.
    let emit = s.emit;
    let producer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        run(&emit, 25);
        emit
    });
    let mut ring_seen = 0;
    while ring_seen < 25 {
        let ev = tokio::time::timeout(WAIT, ring.next()).await;
        let ev = ev.expect("ring records arrive").unwrap().unwrap();
        assert_eq!(ev.source, 1);
        ring_seen += 1;
    }
    let mut perf_seen = 0;
    while perf_seen < 25 {
        let ev = tokio::time::timeout(WAIT, perf.next()).await;
        let ev = ev.expect("perf samples arrive").unwrap().unwrap();
        assert_eq!(ev.source, 2);
        perf_seen += 1;
    }
    producer.join().unwrap();
    assert_eq!((ring.short_records(), perf.short_records()), (0, 0));
    assert_eq!(perf.lost_samples(), 0);
}
