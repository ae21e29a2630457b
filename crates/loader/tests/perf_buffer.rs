//! Real-kernel tests of the perf event array consumer: an XDP program run with
//! BPF_PROG_TEST_RUN calls bpf_perf_event_output with BPF_F_CURRENT_CPU; the samples must arrive
//! in order with their bytes, and a ring that overflows must report lost samples.

mod attach_util;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use attach_util::*;
use whistler_bpf::opcode::*;
use whistler_bpf::{Insn, Reg};
use whistler_loader::perf_buffer::{online_cpus, PerfBuffer, PerfRecord};
use whistler_loader::ringbuf::typed;
use whistler_loader::sys::bpf;
use whistler_testkit::kernel_available;

const XDP_PASS: i32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Sample {
    seq: u64,
    magic: u64,
}

fn perf_array() -> OwnedFd {
    let slots = online_cpus().unwrap().into_iter().max().unwrap() + 1;
    create_map(4, 4, 4, slots)
}

/// Each run: `bpf_perf_event_output(ctx, events, BPF_F_CURRENT_CPU, &Sample { seq++, magic }, 16)`.
fn producer(counter: BorrowedFd<'_>, events: BorrowedFd<'_>) -> Vec<Insn> {
    let mut body = vec![
        Insn::store_reg(BPF_DW, Reg::FP, -24, Reg::R7),
        Insn::mov64_imm(Reg::R1, 0x7e57),
        Insn::store_reg(BPF_DW, Reg::FP, -16, Reg::R1),
        Insn::mov64_reg(Reg::R1, Reg::R6),
    ];
    body.extend(ld_map(Reg::R2, events));
    body.extend([
        // The flags' upper 32 bits must stay zero: a 32-bit move zero-extends.
        Insn::alu32_imm(BPF_MOV, Reg::R3, BPF_F_CURRENT_CPU as u32 as i32),
        Insn::mov64_reg(Reg::R4, Reg::FP),
        Insn::alu64_imm(BPF_ADD, Reg::R4, -24),
        Insn::mov64_imm(Reg::R5, 16),
        Insn::call_helper(PERF_EVENT_OUTPUT),
    ]);
    let mut code = vec![Insn::mov64_reg(Reg::R6, Reg::R1)];
    code.extend(next_seq(counter, body.len() as i16));
    code.extend(body);
    code.extend([Insn::mov64_imm(Reg::R0, XDP_PASS), Insn::exit()]);
    code
}

/// Keeps this thread on one CPU, so every test run writes into the same CPU's ring (the order of
/// samples is only defined within one ring, and a lost-sample record is written into the ring
/// that overflowed, before its next sample).
fn stay_on_first_cpu() {
    let mut set = rustix::thread::CpuSet::new();
    set.set(online_cpus().unwrap()[0] as usize);
    rustix::thread::sched_setaffinity(None, &set).expect("sched_setaffinity");
}

#[test]
fn samples_arrive_with_their_bytes() {
    if !kernel_available("samples_arrive_with_their_bytes") {
        return;
    }
    stay_on_first_cpu();
    let (counter, events) = (counters(1), perf_array());
    let prog = load(6, 0, &producer(counter.as_fd(), events.as_fd()), "perf_out");
    let mut samples = Vec::new();
    let mut buffer = PerfBuffer::new(events.as_fd(), 8, |record: PerfRecord<'_>| {
        if let PerfRecord::Sample { data, .. } = record {
            samples.push(data.to_vec());
        }
    })
    .expect("perf buffer");
    assert_eq!(buffer.cpus(), online_cpus().unwrap());
    run_times(prog.as_fd(), 50);
    assert_eq!(buffer.poll(Some(Duration::from_secs(1))).unwrap(), 50);
    assert_eq!(buffer.lost_samples(), 0);
    drop(buffer);
    for (i, data) in samples.iter().enumerate() {
        // 4-byte size + 16 bytes, padded to 8: the kernel reports 20 bytes.
        assert_eq!(data.len(), 20);
        let sample = typed::<Sample>(data).unwrap();
        assert_eq!(
            sample,
            Sample {
                seq: i as u64,
                magic: 0x7e57
            }
        );
    }
}

#[test]
fn many_polls_wrap_the_rings_and_overflow_reports_lost_samples() {
    if !kernel_available("many_polls_wrap_the_rings_and_overflow_reports_lost_samples") {
        return;
    }
    stay_on_first_cpu();
    let (counter, events) = (counters(1), perf_array());
    let prog = load(
        6,
        0,
        &producer(counter.as_fd(), events.as_fd()),
        "perf_lost",
    );
    let mut seqs = Vec::new();
    let mut lost_records = 0u64;
    let mut buffer = PerfBuffer::new(events.as_fd(), 1, |record: PerfRecord<'_>| match record {
        PerfRecord::Sample { data, .. } => seqs.push(typed::<Sample>(data).unwrap().seq),
        PerfRecord::Lost { count, .. } => lost_records += count,
    })
    .unwrap();
    // 32 bytes per sample in a 4096-byte ring: 40 per round wraps the ring every few rounds.
    for _ in 0..20 {
        run_times(prog.as_fd(), 40);
        buffer.poll(Some(Duration::from_secs(1))).unwrap();
    }
    assert_eq!(buffer.lost_samples(), 0);
    // Now 500 without reading: the ring holds 128, the rest is lost and reported before the next
    // sample that fits.
    run_times(prog.as_fd(), 500);
    buffer.consume();
    run_times(prog.as_fd(), 1);
    buffer.consume();
    let lost = buffer.lost_samples();
    drop(buffer);
    assert_eq!(lost, lost_records);
    assert!(
        lost > 0,
        "no lost samples reported ({} samples)",
        seqs.len()
    );
    assert_eq!(&seqs[..800], &(0..800).collect::<Vec<u64>>()[..]);
    assert_eq!(seqs.len() as u64 + lost, 1301);
}

#[test]
fn slots_are_emptied_on_drop_and_wrong_maps_refused() {
    if !kernel_available("slots_are_emptied_on_drop_and_wrong_maps_refused") {
        return;
    }
    let events = perf_array();
    let buffer = PerfBuffer::new(events.as_fd(), 2, |_: PerfRecord<'_>| {}).unwrap();
    let cpu = buffer.cpus()[0];
    drop(buffer);
    let err = bpf::map_delete_elem(events.as_fd(), &cpu.to_ne_bytes()).unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::ENOENT),
        "slot still filled after drop"
    );
    let array = counters(1);
    let err = PerfBuffer::new(array.as_fd(), 2, |_: PerfRecord<'_>| {}).unwrap_err();
    assert!(
        err.to_string()
            .contains("not a BPF_MAP_TYPE_PERF_EVENT_ARRAY"),
        "{err}"
    );
    let one_slot = create_map(4, 4, 4, 1);
    if online_cpus().unwrap().len() > 1 {
        let err = PerfBuffer::new(one_slot.as_fd(), 2, |_: PerfRecord<'_>| {}).unwrap_err();
        assert!(err.to_string().contains("has 1 slots"), "{err}");
    }
    let err = PerfBuffer::new(events.as_fd(), 3, |_: PerfRecord<'_>| {}).unwrap_err();
    assert!(err.to_string().contains("power of two"), "{err}");
}
