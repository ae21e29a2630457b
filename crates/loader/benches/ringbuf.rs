//! Ring buffer consumption against libbpf's `ring_buffer__consume`, in one run, on the same
//! object and the same records: `ringbuf/producer.bpf.c` (clang) fills a 16 MiB ring through
//! BPF_PROG_TEST_RUN, then each consumer drains it while we time only the draining, on the
//! thread's CPU clock (the machine is shared: wall time would measure the scheduler). libbpf's
//! side is `ringbuf/libbpf_consumer.c`, built here against Debian's libbpf-dev and run as a
//! child process; ours runs in this process with the loader, both through [`RingBuffer`] (a
//! stored callback, as libbpf's) and [`RingReader::consume`] (the handler inlined). Every
//! consumer counts the records and sums their sequence numbers, checked against what was
//! produced. Then the overflow case: more records than fit, the failed reserves counted by the
//! program in its `drops` map and read back through [`DropCounter`].
//!
//! Needs root (CAP_BPF), clang and libbpf-dev; writes its section of `BENCHMARKS.md`.
//! `cargo bench -p whistler-loader --bench ringbuf`

use std::fmt::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use whistler_loader::ringbuf::{DropCounter, RingBuffer, RingReader};
use whistler_loader::{LoadOptions, Object, TestRun};
use whistler_testkit::benchmarks::{build_with_libbpf, libbpf_version, median, stdout_of};

const SIZES: [usize; 3] = [8, 64, 512];
const ROUNDS: usize = 11;
const RING_BYTES: usize = 1 << 24;
const XDP_PASS: u32 = 2;

fn main() {
    if !whistler_testkit::kernel_available("ringbuf bench") {
        return;
    }
    whistler_loader::sys::bpf::bump_memlock_rlimit();
    let dir = std::env::temp_dir().join(format!("whistler-ringbuf-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let object_path = build_producer(&dir);
    let libbpf_consumer = build_libbpf_consumer(&dir);
    let elf = std::fs::read(&object_path).unwrap();

    let mut report = format!(
        "# Ring buffer consumption: whistler against libbpf\n\n\
         Written by `cargo bench -p whistler-loader --bench ringbuf`. One object \
         (`crates/loader/benches/ringbuf/producer.bpf.c`) fills a {} MiB ring with BPF_PROG_TEST_RUN; \
         each consumer then drains it and only the draining is timed, in thread CPU time \
         (median of {ROUNDS} rounds). \
         Every consumer counts the records and sums their sequence numbers (checked). libbpf {} \
         (`ring_buffer__consume`, a C callback) against ours: `RingBuffer` (a stored callback, \
         as libbpf's) and `RingReader::consume` (the handler inlined into the loop).\n\n\
         | record bytes | records per round | libbpf | RingBuffer | RingReader | RingBuffer/libbpf | RingReader/libbpf |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
        RING_BYTES >> 20,
        libbpf_version(),
    );
    for size in SIZES {
        let count = records_that_fit(size);
        let libbpf = median(run_libbpf(&libbpf_consumer, &object_path, size, count));
        let boxed = median(run_ours(&elf, size, count, Consumer::Boxed));
        let inlined = median(run_ours(&elf, size, count, Consumer::Inlined));
        writeln!(
            report,
            "| {size} | {count} | {} | {} | {} | {:.2} | {:.2} |",
            rate(libbpf),
            rate(boxed),
            rate(inlined),
            boxed / libbpf,
            inlined / libbpf,
        )
        .unwrap();
    }
    report.push_str(&overflow(&elf));
    print!("{report}");
    whistler_testkit::benchmarks::write_section(&report).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Records of `size` bytes (plus the 8-byte header, rounded to 8) that fit in the ring: the
/// kernel refuses a reserve that would make the unconsumed bytes exceed the size minus one.
fn records_that_fit(size: usize) -> u32 {
    let slot = (size + 8).next_multiple_of(8);
    ((RING_BYTES - 1) / slot) as u32
}

/// Records per second.
fn rate(per_second: f64) -> String {
    format!("{:.0}M/s", per_second / 1e6)
}

fn expected_sum(first: u64, count: u32) -> u64 {
    (first..first + u64::from(count)).sum()
}

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/ringbuf")
}

fn build_producer(dir: &Path) -> PathBuf {
    let out = dir.join("producer.bpf.o");
    let multiarch = format!("-I/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    stdout_of(
        Command::new("clang")
            .args(["-O2", "-g", "-target", "bpf", &multiarch, "-c"])
            .arg(bench_dir().join("producer.bpf.c"))
            .arg("-o")
            .arg(&out),
    );
    out
}

fn build_libbpf_consumer(dir: &Path) -> PathBuf {
    let out = dir.join("libbpf_consumer");
    build_with_libbpf(&bench_dir().join("libbpf_consumer.c"), &out);
    out
}

/// libbpf's rounds, as records per second; each round's count and sum are checked.
fn run_libbpf(consumer: &Path, object: &Path, size: usize, count: u32) -> Vec<f64> {
    let text = stdout_of(
        Command::new(consumer)
            .arg(object)
            .arg(size.to_string())
            .arg(count.to_string())
            .arg(ROUNDS.to_string()),
    );
    text.lines()
        .enumerate()
        .map(|(round, line)| {
            let fields: Vec<u64> = line.split(' ').map(|f| f.parse().unwrap()).collect();
            let [ns, records, sum] = fields[..] else {
                panic!("bad line from the libbpf consumer: {line}")
            };
            assert_eq!(records, u64::from(count), "libbpf round {round}");
            let first = round as u64 * u64::from(count);
            assert_eq!(sum, expected_sum(first, count), "libbpf round {round}");
            f64::from(count) / (ns as f64 / 1e9)
        })
        .collect()
}

/// What every consumer does with a record, as the C consumer's `count_record`.
#[derive(Default)]
struct Tally {
    records: u64,
    sum: u64,
}

impl Tally {
    #[inline]
    fn add(&mut self, record: &[u8]) {
        self.records += 1;
        self.sum += u64::from_ne_bytes(record[..8].try_into().unwrap());
    }
}

#[derive(Clone, Copy)]
enum Consumer {
    Boxed,
    Inlined,
}

/// Our rounds on a fresh load of the object, as records per second.
fn run_ours(elf: &[u8], size: usize, count: u32, consumer: Consumer) -> Vec<f64> {
    let object = Object::load(elf, &LoadOptions::default()).expect("the producer loads");
    let map = object.map("records").unwrap();
    let program = object.program(&format!("produce_{size}")).unwrap();
    let mut reader = RingReader::open(map.as_fd()).unwrap();
    let mut rates = Vec::new();
    for round in 0..ROUNDS {
        produce(program, count);
        let mut tally = Tally::default();
        let elapsed = match consumer {
            Consumer::Boxed => {
                let mut ring = RingBuffer::open(map.as_fd(), |r: &[u8]| tally.add(r)).unwrap();
                let start = thread_cpu_time();
                ring.consume();
                thread_cpu_time() - start
            }
            Consumer::Inlined => {
                let start = thread_cpu_time();
                reader.consume(|r| tally.add(r));
                thread_cpu_time() - start
            }
        };
        assert_eq!(tally.records, u64::from(count), "our round {round}");
        let first = round as u64 * u64::from(count);
        assert_eq!(tally.sum, expected_sum(first, count), "our round {round}");
        rates.push(f64::from(count) / elapsed.as_secs_f64());
    }
    rates
}

/// CPU time this thread has used, as the C consumer measures it (CLOCK_THREAD_CPUTIME_ID).
fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn produce(program: &whistler_loader::Program, times: u32) {
    let packet = [0u8; 64];
    let out = program
        .test_run(TestRun {
            data_in: &packet,
            repeat: times,
            ..Default::default()
        })
        .expect("the producer runs");
    assert_eq!(out.retval, XDP_PASS);
}

/// Twice as many 64-byte records as fit, produced before any is consumed: those that fit are
/// consumed, the rest are counted by the program as failed reserves.
fn overflow(elf: &[u8]) -> String {
    let object = Object::load(elf, &LoadOptions::default()).expect("the producer loads");
    let map = object.map("records").unwrap();
    let fits = records_that_fit(64);
    let produced = 2 * fits;
    let mut consumed = 0u64;
    let mut reader = RingReader::open(map.as_fd()).unwrap();
    reader.set_drop_counter(DropCounter::new(object.map("drops").unwrap(), 0).unwrap());
    produce(object.program("produce_64").unwrap(), produced);
    reader.consume(|_| consumed += 1);
    let dropped = reader.dropped().unwrap().unwrap();
    assert_eq!(consumed, u64::from(fits));
    assert_eq!(consumed + dropped, u64::from(produced));
    format!(
        "\nOverflow: {produced} records of 64 bytes produced into the ring before consuming: \
         {consumed} consumed, {dropped} dropped (failed reserves, counted by the program in its \
         `drops` map and read through `RingReader::dropped`); consumed + dropped = produced.\n"
    )
}
