//! Start to first event, compilation included, of issue 15's one-liner (with `exit()` so that
//! the first event ends the run): ours in this process (compile, load, attach, first event,
//! the map printed) against Debian's bpftrace as a process (the same until the map's line is
//! on its standard output). A thread opens /dev/null every millisecond meanwhile. Needs
//! CAP_BPF; writes its section of BENCHMARKS.md. Run with
//! `cargo bench -p whistler-bpftrace --bench start_to_first_event`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use whistler_bpftrace::{RunOptions, Settings};
use whistler_syntax::SourceFile;

const SCRIPT: &str = "tracepoint:syscalls:sys_enter_openat { @[comm] = count(); exit(); }";
const RUNS: usize = 7;
const HEADING: &str = "# bpftrace: start to first event";

/// Notes when the first map line is written.
struct FirstLine(Arc<Mutex<Option<Instant>>>);

impl Write for FirstLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.windows(2).any(|w| w == b"@[") {
            self.0.lock().unwrap().get_or_insert_with(Instant::now);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Start to the map line, and start to the end of the run.
type Times = (Duration, Duration);

fn ours() -> Times {
    let start = Instant::now();
    let file = SourceFile::new("-e", SCRIPT);
    let compiled = whistler_bpftrace::compile(&file, &Settings::default(), Default::default())
        .expect("the one-liner compiles");
    let seen = Arc::new(Mutex::new(None));
    let stop = whistler_session::stop_on_ctrl_c().unwrap();
    whistler_bpftrace::run(
        &compiled,
        &RunOptions::default(),
        &stop,
        &mut FirstLine(seen.clone()),
    )
    .expect("the one-liner runs");
    let end = start.elapsed();
    let at = seen.lock().unwrap().expect("the map was printed");
    (at - start, end)
}

fn theirs() -> Option<Times> {
    let start = Instant::now();
    let mut child = Command::new("bpftrace")
        .args(["-e", SCRIPT])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let lines = BufReader::new(child.stdout.take()?).lines();
    let mut at = None;
    for line in lines.map_while(Result::ok) {
        if line.starts_with("@[") && at.is_none() {
            at = Some(start.elapsed());
        }
    }
    child.wait().ok()?;
    Some((at?, start.elapsed()))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn main() {
    let done = Arc::new(AtomicBool::new(false));
    let opener = {
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let _ = std::fs::File::open("/dev/null");
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    // A first run warms the caches and tells whether this process may load BPF at all.
    let file = SourceFile::new("-e", SCRIPT);
    let compiled = whistler_bpftrace::compile(&file, &Settings::default(), Default::default())
        .expect("the one-liner compiles");
    let stop = whistler_session::stop_on_ctrl_c().unwrap();
    if let Err(e) = whistler_bpftrace::run(
        &compiled,
        &RunOptions::default(),
        &stop,
        &mut std::io::sink(),
    ) {
        eprintln!("start-to-first-event bench skipped ({e}): it needs CAP_BPF");
        done.store(true, Ordering::Relaxed);
        return;
    }
    let ours: Vec<Times> = (0..RUNS).map(|_| ours()).collect();
    let theirs: Vec<Times> = (0..RUNS).filter_map(|_| theirs()).collect();
    done.store(true, Ordering::Relaxed);
    opener.join().unwrap();
    let mut section = format!(
        "{HEADING}\n\nWritten by `cargo bench -p whistler-bpftrace --bench start_to_first_event`: from start \
         (before compiling) to the first event's map line, for `{SCRIPT}`, median of {RUNS} runs \
         while a thread opens /dev/null every millisecond. Ours runs in the bench's process \
         (compile, load, attach, event, print); bpftrace is started as a process. The last \
         column is the median time to the end of the run (ours: `run` returned, the probe \
         detached; bpftrace: its process ended). Ours prints the maps at exit() before \
         detaching when the script has no END probe (closing a tracepoint's perf event waits \
         for RCU grace periods); bpftrace detaches first.\n\n\
         | tool | median ms | min ms | max ms | median ms to the end |\n\
         |---|---:|---:|---:|---:|\n"
    );
    let row = |name: &str, times: &[Times]| {
        let first: Vec<Duration> = times.iter().map(|t| t.0).collect();
        let end: Vec<Duration> = times.iter().map(|t| t.1).collect();
        format!(
            "| {name} | {} | {} | {} | {} |\n",
            ms(median(first.clone())),
            ms(*first.iter().min().unwrap()),
            ms(*first.iter().max().unwrap()),
            ms(median(end))
        )
    };
    section += &row("whistler bpftrace", &ours);
    if theirs.is_empty() {
        section += "\nDebian's bpftrace was not available.\n";
    } else {
        section += &row("bpftrace (Debian 0.17)", &theirs);
        let first = |times: &[Times]| median(times.iter().map(|t| t.0).collect());
        let speedup = first(&theirs).as_secs_f64() / first(&ours).as_secs_f64();
        section += &format!("\nwhistler is {speedup:.1}x faster to the first event.\n");
    }
    print!("{section}");
    whistler_testkit::benchmarks::write_section(&section).unwrap();
}
