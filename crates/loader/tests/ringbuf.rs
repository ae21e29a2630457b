//! Real-kernel tests of the ring buffer consumer: an XDP program run with BPF_PROG_TEST_RUN
//! writes numbered records; the tests check count, order and content, wrap-around over many
//! polls, discarded records, epoll wakeups, a full buffer, and several ring buffers at once.

mod attach_util;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use attach_util::*;
use whistler_bpf::opcode::*;
use whistler_bpf::{Insn, Reg};
use whistler_loader::ringbuf::{typed, RingBuffer, RingBufferSet};
use whistler_testkit::kernel_available;

const MAGIC: u32 = 0x5157_4853;
const XDP_PASS: i32 = 2;
const PAGE: u32 = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Event {
    seq: u64,
    magic: u32,
    tag: u32,
}

fn ring_map(size: u32) -> OwnedFd {
    create_map(27, 0, 0, size)
}

/// Each run: `bpf_ringbuf_output(ring, &Event { seq, MAGIC, tag }, 16, 0)`.
fn producer(counter: BorrowedFd<'_>, rings: &[(BorrowedFd<'_>, u32)]) -> Vec<Insn> {
    let mut body = vec![
        Insn::store_reg(BPF_DW, Reg::FP, -24, Reg::R7),
        Insn::store_imm(BPF_W, Reg::FP, -16, MAGIC as i32),
    ];
    for (ring, tag) in rings {
        body.push(Insn::store_imm(BPF_W, Reg::FP, -12, *tag as i32));
        body.extend(ld_map(Reg::R1, *ring));
        body.extend([
            Insn::mov64_reg(Reg::R2, Reg::FP),
            Insn::alu64_imm(BPF_ADD, Reg::R2, -24),
            Insn::mov64_imm(Reg::R3, 16),
            Insn::mov64_imm(Reg::R4, 0),
            Insn::call_helper(RINGBUF_OUTPUT),
        ]);
    }
    finish(next_seq(counter, body.len() as i16), body)
}

/// Each run reserves a record, fills it, then submits it when `seq` is even and discards it
/// when odd.
fn reserve_submit_or_discard(counter: BorrowedFd<'_>, ring: BorrowedFd<'_>) -> Vec<Insn> {
    let mut body = ld_map(Reg::R1, ring).to_vec();
    body.extend([
        Insn::mov64_imm(Reg::R2, 16),
        Insn::mov64_imm(Reg::R3, 0),
        Insn::call_helper(RINGBUF_RESERVE),
        Insn::jmp_imm(BPF_JEQ, Reg::R0, 0, 11),
        Insn::store_reg(BPF_DW, Reg::R0, 0, Reg::R7),
        Insn::store_imm(BPF_W, Reg::R0, 8, MAGIC as i32),
        Insn::store_imm(BPF_W, Reg::R0, 12, 0),
        Insn::mov64_reg(Reg::R1, Reg::R0),
        Insn::mov64_imm(Reg::R2, 0),
        Insn::mov64_reg(Reg::R3, Reg::R7),
        Insn::alu64_imm(BPF_AND, Reg::R3, 1),
        Insn::jmp_imm(BPF_JNE, Reg::R3, 0, 2),
        Insn::call_helper(RINGBUF_SUBMIT),
        Insn::ja(1),
        Insn::call_helper(RINGBUF_DISCARD),
    ]);
    finish(next_seq(counter, body.len() as i16), body)
}

fn finish(mut code: Vec<Insn>, body: Vec<Insn>) -> Vec<Insn> {
    code.extend(body);
    code.extend([Insn::mov64_imm(Reg::R0, XDP_PASS), Insn::exit()]);
    code
}

fn decode_all(records: &[Vec<u8>]) -> Vec<Event> {
    records
        .iter()
        .map(|r| typed::<Event>(r).expect("record decodes"))
        .collect()
}

#[test]
fn records_arrive_in_order_and_decode() {
    if !kernel_available("records_arrive_in_order_and_decode") {
        return;
    }
    let (counter, ring) = (counters(1), ring_map(16 * PAGE));
    let code = producer(counter.as_fd(), &[(ring.as_fd(), 7)]);
    let prog = load(6, 0, &code, "rb_produce");
    let mut records = Vec::new();
    let mut rb = RingBuffer::new(ring.as_fd(), 16 * PAGE, |r: &[u8]| records.push(r.to_vec()))
        .expect("ring buffer");
    run_times(prog.as_fd(), 40);
    assert_eq!(rb.poll(Some(Duration::from_secs(1))).unwrap(), 40);
    assert_eq!(rb.consume(), 0);
    drop(rb);
    let events = decode_all(&records);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(
            *e,
            Event {
                seq: i as u64,
                magic: MAGIC,
                tag: 7
            }
        );
    }
    assert!(records.iter().all(|r| r.len() == 16));
    assert!(
        typed::<[u64; 3]>(&records[0]).is_err(),
        "24 bytes from a 16-byte record"
    );
}

#[test]
fn wraps_around_a_small_buffer_many_times() {
    if !kernel_available("wraps_around_a_small_buffer_many_times") {
        return;
    }
    let (counter, ring) = (counters(1), ring_map(PAGE));
    let prog = load(
        6,
        0,
        &producer(counter.as_fd(), &[(ring.as_fd(), 1)]),
        "rb_wrap",
    );
    let mut seqs = Vec::new();
    let mut rb = RingBuffer::new(ring.as_fd(), PAGE, |r: &[u8]| {
        seqs.push(typed::<Event>(r).unwrap().seq)
    })
    .unwrap();
    // 24 bytes per record (8 header + 16): batches of 100 fill 2400 of 4096 bytes, and records
    // straddle the end of the data area on most rounds.
    let mut total = 0;
    for _ in 0..25 {
        run_times(prog.as_fd(), 100);
        total += rb.poll(Some(Duration::from_secs(1))).unwrap();
    }
    drop(rb);
    assert_eq!(total, 2500);
    assert_eq!(
        seqs,
        (0..2500).collect::<Vec<u64>>(),
        "60 000 bytes through 4096"
    );
}

#[test]
fn discarded_records_are_skipped() {
    if !kernel_available("discarded_records_are_skipped") {
        return;
    }
    let (counter, ring) = (counters(1), ring_map(PAGE));
    let code = reserve_submit_or_discard(counter.as_fd(), ring.as_fd());
    let prog = load(6, 0, &code, "rb_discard");
    let mut seqs = Vec::new();
    let mut rb = RingBuffer::new(ring.as_fd(), PAGE, |r: &[u8]| {
        seqs.push(typed::<Event>(r).unwrap().seq)
    })
    .unwrap();
    for _ in 0..10 {
        run_times(prog.as_fd(), 60);
        rb.poll(Some(Duration::from_secs(1))).unwrap();
    }
    assert_eq!(rb.pending_bytes(), 0);
    drop(rb);
    assert_eq!(seqs, (0..600).step_by(2).collect::<Vec<u64>>());
}

#[test]
fn a_full_buffer_drops_new_records_without_corruption() {
    if !kernel_available("a_full_buffer_drops_new_records_without_corruption") {
        return;
    }
    let (counter, ring) = (counters(1), ring_map(PAGE));
    let prog = load(
        6,
        0,
        &producer(counter.as_fd(), &[(ring.as_fd(), 1)]),
        "rb_full",
    );
    let mut seqs = Vec::new();
    let mut rb = RingBuffer::new(ring.as_fd(), PAGE, |r: &[u8]| {
        seqs.push(typed::<Event>(r).unwrap().seq)
    })
    .unwrap();
    run_times(prog.as_fd(), 400);
    let n = rb.consume();
    drop(rb);
    assert_eq!(n, (PAGE / 24) as usize, "as many 24-byte records as fit");
    assert_eq!(seqs, (0..n as u64).collect::<Vec<u64>>());
}

#[test]
fn poll_wakes_up_when_a_record_arrives() {
    if !kernel_available("poll_wakes_up_when_a_record_arrives") {
        return;
    }
    let (counter, ring) = (counters(1), ring_map(PAGE));
    let prog = load(
        6,
        0,
        &producer(counter.as_fd(), &[(ring.as_fd(), 1)]),
        "rb_wake",
    );
    let mut count = 0;
    let mut rb = RingBuffer::new(ring.as_fd(), PAGE, |_: &[u8]| count += 1).unwrap();
    assert_eq!(
        rb.poll(Some(Duration::from_millis(50))).unwrap(),
        0,
        "nothing yet"
    );
    let late_writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        run_times(prog.as_fd(), 1);
    });
    let start = Instant::now();
    let n = rb.poll(Some(Duration::from_secs(10))).unwrap();
    late_writer.join().unwrap();
    assert_eq!(n, 1);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "epoll did not wake up"
    );
    // The epoll fd is usable from another event loop: readable once data is pending.
    let counter2 = counters(1);
    let prog2 = load(
        6,
        0,
        &producer(counter2.as_fd(), &[(ring.as_fd(), 2)]),
        "rb_wake2",
    );
    run_times(prog2.as_fd(), 1);
    let mut fds = [rustix::event::PollFd::new(
        &rb,
        rustix::event::PollFlags::IN,
    )];
    let timeout = rustix::event::Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    };
    assert_eq!(rustix::event::poll(&mut fds, Some(&timeout)).unwrap(), 1);
    assert_eq!(rb.consume(), 1);
    drop(rb);
    assert_eq!(count, 2);
}

#[test]
fn several_ring_buffers_poll_together() {
    if !kernel_available("several_ring_buffers_poll_together") {
        return;
    }
    let counter = counters(1);
    let (a, b) = (ring_map(PAGE), ring_map(2 * PAGE));
    let code = producer(counter.as_fd(), &[(a.as_fd(), 1), (b.as_fd(), 2)]);
    let prog = load(6, 0, &code, "rb_two");
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    let mut set = RingBufferSet::new()
        .unwrap()
        .with(a.as_fd(), PAGE, |r: &[u8]| {
            from_a.push(typed::<Event>(r).unwrap())
        })
        .unwrap()
        .with(b.as_fd(), 2 * PAGE, |r: &[u8]| {
            from_b.push(typed::<Event>(r).unwrap())
        })
        .unwrap();
    assert_eq!(set.len(), 2);
    run_times(prog.as_fd(), 30);
    assert_eq!(set.poll(Some(Duration::from_secs(1))).unwrap(), 60);
    drop(set);
    assert_eq!(from_a.len(), 30);
    assert!(from_a.iter().all(|e| e.tag == 1) && from_b.iter().all(|e| e.tag == 2));
    assert_eq!(
        from_b.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (0..30).collect::<Vec<_>>()
    );
}

#[test]
fn wrong_sizes_and_maps_are_refused() {
    if !kernel_available("wrong_sizes_and_maps_are_refused") {
        return;
    }
    let ring = ring_map(2 * PAGE);
    let err = RingBuffer::new(ring.as_fd(), 3000, |_: &[u8]| {}).unwrap_err();
    assert!(err.to_string().contains("3000"), "{err}");
    let err = RingBuffer::new(ring.as_fd(), PAGE, |_: &[u8]| {}).unwrap_err();
    assert!(
        err.to_string().contains("has 8192 bytes, not 4096"),
        "{err}"
    );
    let array = counters(1);
    let err = RingBuffer::open(array.as_fd(), |_: &[u8]| {}).unwrap_err();
    assert!(
        err.to_string().contains("not a BPF_MAP_TYPE_RINGBUF"),
        "{err}"
    );
    let opened = RingBuffer::open(ring.as_fd(), |_: &[u8]| {}).expect("size from the map");
    assert_eq!(opened.pending_bytes(), 0);
}
