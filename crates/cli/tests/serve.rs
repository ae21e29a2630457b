//! `whistler serve` scraped by a real Prometheus server: a Lisp file counts this test process's
//! getpid calls, Prometheus (Debian's package, started here on loopback) scrapes the exporter,
//! and its HTTP API must show the series with at least the known count; `promtool check metrics`
//! must accept the exporter's output, and the content type must follow the scraper's `Accept`.
//! The README's `defmetric` example, compiled to an object and served without its source, must
//! give per-syscall counters with names and a latency histogram that `histogram_quantile`
//! reads.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use whistler_testkit::kernel_available;

const GETPID_COUNTER: &str = "\
(defmap getpid-counts :type :hash :key-size 4 :value-size 8 :max-entries 1024)
(defmap all-getpids :type :percpu-array :key-size 4 :value-size 8 :max-entries 1)
(defprog count-getpid (:type :tracepoint :section \"tracepoint/syscalls/sys_enter_getpid\")
  (incf (getmap getpid-counts (cast u32 (ash (get-current-pid-tgid) -32))))
  (incf (getmap all-getpids 0))
  0)
";

/// How many getpid calls the test makes.
const CALLS: u64 = 25;

/// The README's example: system calls by name and their latency, declared with `defmetric`.
const SYSCALL_METRICS: &str = include_str!("../../../examples/lisp/syscall-metrics.lisp");

/// A child process killed (and waited for) when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("serve")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `curl` with the given arguments; its output.
fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "5"])
        .args(args)
        .output()
        .expect("curl runs (scripts/test.sh installs it)")
}

/// Starts `whistler serve` on a free port and returns it with the address it serves.
fn start_exporter(input: &str) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_whistler"))
        .args(["serve", input, "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Running(child);
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("whistler serve says where it serves")
            .unwrap();
        if let Some(rest) = line.strip_prefix("serving http://") {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    // Keep reading so that the exporter never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (running, address)
}

fn start_prometheus(dir: &std::path::Path, exporter: &str) -> (Running, String) {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: whistler\n    static_configs:\n      - targets: ['{exporter}']\n"
        ),
    )
    .unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={address}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus runs (scripts/test.sh installs Debian's `prometheus`)");
    (Running(child), address)
}

/// Polls `query` (one series) until Prometheus answers it or a minute has passed.
fn wait_for_value(prometheus: &str, query: &str) -> Option<f64> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(value) = query_value(prometheus, query) {
            return Some(value);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    None
}

/// The value of the one series `query` selects, once Prometheus has it.
fn query_value(prometheus: &str, query: &str) -> Option<f64> {
    let out = curl(&[
        "--get",
        &format!("http://{prometheus}/api/v1/query"),
        "--data-urlencode",
        &format!("query={query}"),
    ]);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let value = answer["data"]["result"].get(0)?["value"][1].as_str()?;
    value.parse().ok()
}

#[test]
fn prometheus_scrapes_the_served_maps_with_the_known_counts() {
    if !kernel_available("prometheus_scrapes_the_served_maps_with_the_known_counts") {
        return;
    }
    let dir = scratch("prometheus");
    let input = dir.join("getpid.lisp");
    std::fs::write(&input, GETPID_COUNTER).unwrap();
    let (mut exporter, exporter_address) = start_exporter(input.to_str().unwrap());
    for _ in 0..CALLS {
        // std::process::id is getpid(2): glibc does not cache it.
        std::hint::black_box(std::process::id());
    }
    let pid = std::process::id();

    let metrics = curl(&[&format!("http://{exporter_address}/metrics")]);
    let body = text(&metrics.stdout);
    assert!(
        body.contains(&format!(
            "whistler_map_entry{{map=\"getpid-counts\",key=\"{pid}\"}}"
        )),
        "{body}"
    );
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut promtool.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}\n{body}",
        text(&checked.stdout),
        text(&checked.stderr)
    );

    let (_prometheus, prometheus_address) = start_prometheus(&dir, &exporter_address);
    let ours = format!("whistler_map_entry{{map=\"getpid-counts\",key=\"{pid}\"}}");
    let all = "whistler_map_entry{map=\"all-getpids\",key=\"0\"}";
    let ours_seen = wait_for_value(&prometheus_address, &ours)
        .expect("Prometheus has this process's getpid count");
    let all_seen =
        wait_for_value(&prometheus_address, all).expect("Prometheus has the per-CPU total");
    assert!(ours_seen >= CALLS as f64, "{ours_seen} < {CALLS}");
    assert!(
        all_seen >= ours_seen,
        "per-CPU sum {all_seen} < {ours_seen}"
    );

    // SIGTERM ends the session cleanly.
    let stopped = Command::new("kill")
        .args(["-TERM", &exporter.0.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = exporter.0.wait().unwrap();
    assert!(status.success(), "whistler serve exited with {status}");
}

#[test]
fn the_content_type_follows_the_scrapers_accept_header() {
    if !kernel_available("the_content_type_follows_the_scrapers_accept_header") {
        return;
    }
    let dir = scratch("accept");
    let input = dir.join("getpid.lisp");
    std::fs::write(&input, GETPID_COUNTER).unwrap();
    let (_exporter, address) = start_exporter(input.to_str().unwrap());
    let content_type = |accept: &str| {
        let out = curl(&[
            "--output",
            "/dev/null",
            "--write-out",
            "%{content_type}",
            "--header",
            &format!("Accept: {accept}"),
            &format!("http://{address}/metrics"),
        ]);
        text(&out.stdout)
    };
    assert!(
        content_type("application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
            .starts_with("application/openmetrics-text; version=1.0.0")
    );
    assert!(content_type("text/plain").starts_with("text/plain; version=0.0.4"));
    let missing = curl(&[
        "--write-out",
        "%{http_code}",
        "--output",
        "/dev/null",
        &format!("http://{address}/nope"),
    ]);
    assert_eq!(text(&missing.stdout), "404");
}

#[test]
fn an_object_serves_its_declared_metrics_without_its_source() {
    if !kernel_available("an_object_serves_its_declared_metrics_without_its_source") {
        return;
    }
    let dir = scratch("declared");
    let source = dir.join("syscall-metrics.lisp");
    std::fs::write(&source, SYSCALL_METRICS).unwrap();
    let object = dir.join("syscall-metrics.bpf.o");
    let compiled = Command::new(env!("CARGO_BIN_EXE_whistler"))
        .args([
            "compile",
            source.to_str().unwrap(),
            "-o",
            object.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(compiled.status.success(), "{}", text(&compiled.stderr));
    std::fs::remove_file(&source).unwrap();
    let (_exporter, exporter_address) = start_exporter(object.to_str().unwrap());
    for _ in 0..CALLS {
        std::hint::black_box(std::process::id());
    }

    let body = text(&curl(&[&format!("http://{exporter_address}/metrics")]).stdout);
    let getpids = body
        .lines()
        .find_map(|l| l.strip_prefix("syscalls_total{syscall=\"getpid\"} "))
        .unwrap_or_else(|| panic!("no getpid counter in\n{body}"));
    assert!(getpids.parse::<u64>().unwrap() >= CALLS, "{body}");
    assert!(
        body.contains("# TYPE syscall_duration_nanoseconds histogram"),
        "{body}"
    );
    assert!(
        body.contains("syscall_duration_nanoseconds_bucket{le=\"+Inf\"}"),
        "{body}"
    );
    assert!(
        body.contains("whistler_metric_series_dropped_total{metric=\"syscalls\"} 0"),
        "{body}"
    );
    // The maps that metrics read are not served again as raw entries.
    assert!(!body.contains("map=\"syscall_counts\""), "{body}");

    let (_prometheus, prometheus_address) = start_prometheus(&dir, &exporter_address);
    let counted = wait_for_value(&prometheus_address, "syscalls_total{syscall=\"getpid\"}")
        .expect("Prometheus has the getpid counter");
    assert!(counted >= CALLS as f64, "{counted} < {CALLS}");
    let median = wait_for_value(
        &prometheus_address,
        "histogram_quantile(0.5, syscall_duration_nanoseconds_bucket)",
    )
    .expect("Prometheus computes a median from the histogram");
    assert!(
        median.is_finite() && median > 0.0 && median < 1e9,
        "median system call latency {median} ns"
    );
}
