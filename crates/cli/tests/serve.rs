//! `whistler serve` scraped by a real Prometheus server: a Lisp file counts this test process's
//! getpid calls, Prometheus (Debian's package, started here on loopback) scrapes the exporter,
//! and its HTTP API must show the series with at least the known count; `promtool check metrics`
//! must accept the exporter's output, declared counters, gauges and histograms included, and the
//! format must follow the scraper's `Accept`.
//! The README's `defmetric` example, compiled to an object and served without its source, must
//! give per-syscall counters with names and a latency histogram that `histogram_quantile`
//! reads. Objects served without their source, clang's and ours, show struct keys and values by
//! the field names and types of their BTF.

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

/// A counter, a gauge and a histogram of read(2) calls, declared with `defmetric`.
const READ_METRICS: &str = "\
(deftracepoint syscalls/sys-enter-read count)
(defmap reads :type :hash :key-type u32 :value-type u64 :max-entries 4096)
(defmap last-read-size :type :hash :key-type u32 :value-type u64 :max-entries 4096)
(defmap read-sizes :type :percpu-array :key-type u32 :value-type u64 :max-entries 64)
(defmap untouched :type :array :key-type u32 :value-type u64 :max-entries 2)
(defmetric reads :counter :map reads
  :help \"read(2) calls, by process.\" :labels ((pid :integer)))
(defmetric last-read-size-bytes :gauge :map last-read-size
  :help \"Bytes the last read(2) of each process asked for.\" :labels ((pid :integer)))
(defmetric read-size-bytes :histogram :map read-sizes :buckets :log2
  :help \"Bytes that read(2) calls asked for.\")
(defprog on-read (:type :tracepoint :section \"tracepoint/syscalls/sys_enter_read\")
  (let ((pid (cast u32 (ash (get-current-pid-tgid) -32))))
    (incf (getmap reads pid))
    (setf (getmap last-read-size pid) (tp-count))
    (incf (getmap read-sizes (log2 (tp-count)))))
  0)
";

/// Our twin of `c/task_calls.bpf.c`: getpid calls by process, thread and command name (bytes,
/// shown in hex), struct key and value.
const TASK_CALLS: &str = "\
(defstruct task-id (pid u32) (tid u32) (comm (array u8 16)))
(defstruct task-stats (calls u64) (last-seen u64))
(defmap by-task :type :hash :key-type task-id :value-type task-stats :max-entries 1024)
(defprog count-getpid (:type :tracepoint :section \"tracepoint/syscalls/sys_enter_getpid\")
  (let* ((id (get-current-pid-tgid))
         (key (make-task-id)))
    (setf (task-id-pid key) (cast u32 (ash id -32))
          (task-id-tid key) (cast u32 id))
    (get-current-comm (task-id-comm-ptr key) 16)
    (let ((stats (map-lookup-ptr by-task key)))
      (if stats
          (progn
            (atomic-add stats 0 1)
            (setf (task-stats-last-seen stats) (ktime-get-ns)))
          (let ((first (make-task-stats)))
            (setf (task-stats-calls first) 1
                  (task-stats-last-seen first) (ktime-get-ns))
            (map-update-ptr by-task key first BPF_ANY)))))
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

/// Asserts that `promtool check metrics` (Debian's `prometheus` package) accepts `body`, problems
/// its linter reports included.
fn promtool_accepts(body: &str) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (scripts/test.sh installs Debian's `prometheus`)");
    std::io::Write::write_all(&mut promtool.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}\n{body}",
        text(&checked.stdout),
        text(&checked.stderr)
    );
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
    promtool_accepts(&body);

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
    promtool_accepts(&body);
    let getpids = body
        .lines()
        .find_map(|l| l.strip_prefix("syscalls_total{syscall=\"getpid\"} "))
        .unwrap_or_else(|| panic!("no getpid counter in\n{body}"));
    assert!(getpids.parse::<u64>().unwrap() >= CALLS, "{body}");
    assert!(
        body.contains("# TYPE syscall_duration_seconds histogram"),
        "{body}"
    );
    assert!(
        body.contains("syscall_duration_seconds_bucket{le=\"+Inf\"}"),
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
        "histogram_quantile(0.5, syscall_duration_seconds_bucket)",
    )
    .expect("Prometheus computes a median from the histogram");
    assert!(
        median.is_finite() && median > 0.0 && median < 1.0,
        "median system call latency {median} s"
    );
}

#[test]
fn promtool_accepts_declared_counters_gauges_and_histograms() {
    if !kernel_available("promtool_accepts_declared_counters_gauges_and_histograms") {
        return;
    }
    let dir = scratch("promtool");
    let input = dir.join("reads.lisp");
    std::fs::write(&input, READ_METRICS).unwrap();
    let (_exporter, address) = start_exporter(input.to_str().unwrap());
    let mut zeroes = std::fs::File::open("/dev/zero").unwrap();
    for _ in 0..CALLS {
        // 100 bytes: log2 bucket 6, [64, 128).
        std::io::Read::read(&mut zeroes, &mut [0u8; 100]).unwrap();
    }
    let pid = std::process::id();

    // Without an `Accept` naming OpenMetrics: the Prometheus text format 0.0.4.
    let body = text(&curl(&[&format!("http://{address}/metrics")]).stdout);
    promtool_accepts(&body);
    for line in [
        "# TYPE reads_total counter",
        "# TYPE last_read_size_bytes gauge",
        "# TYPE read_size_bytes histogram",
        "# TYPE whistler_metric_series_dropped_total counter",
        "# TYPE whistler_map_entry gauge",
    ] {
        assert!(body.contains(&format!("{line}\n")), "{line} in\n{body}");
    }
    let series = |prefix: &str| -> u64 {
        let value = body.lines().find_map(|l| l.strip_prefix(prefix));
        let value = value.unwrap_or_else(|| panic!("no `{prefix}` in\n{body}"));
        value.trim().parse().unwrap()
    };
    assert!(series(&format!("reads_total{{pid=\"{pid}\"}} ")) >= CALLS);
    assert!(body.contains(&format!("last_read_size_bytes{{pid=\"{pid}\"}} ")));
    assert!(series("read_size_bytes_bucket{le=\"127\"} ") >= CALLS);
    assert!(body.contains("whistler_map_entry{map=\"untouched\",key=\"1\"} 0\n"));
    assert!(!body.contains("# EOF"), "{body}");

    // With it: OpenMetrics, whose counter families are named without `_total`.
    let open = curl(&[
        "--header",
        "Accept: application/openmetrics-text;version=1.0.0",
        &format!("http://{address}/metrics"),
    ]);
    let open = text(&open.stdout);
    assert!(open.contains("# TYPE reads counter\n"), "{open}");
    assert!(open.ends_with("# EOF\n"), "{open}");
}

/// The calling thread's id and command name.
fn this_thread() -> (String, String) {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    let tid = link.file_name().unwrap().to_string_lossy().into_owned();
    let comm = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
    (tid, comm.trim_end_matches('\n').to_string())
}

/// `name` compiled by clang from `tests/c/NAME.bpf.c` into `dir`.
fn clang_object(dir: &std::path::Path, name: &str) -> PathBuf {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/c/{name}.bpf.c"));
    let object = dir.join(format!("{name}.bpf.o"));
    let multiarch = format!("-I/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let out = Command::new("clang")
        .args(["-O2", "-g", "-target", "bpf", &multiarch, "-c"])
        .arg(&source)
        .arg("-o")
        .arg(&object)
        .output()
        .expect("clang runs (scripts/test.sh installs it)");
    assert!(out.status.success(), "clang: {}", text(&out.stderr));
    object
}

#[test]
fn a_clang_object_s_struct_keys_and_values_decode_through_its_btf() {
    if !kernel_available("a_clang_object_s_struct_keys_and_values_decode_through_its_btf") {
        return;
    }
    let dir = scratch("clang-btf");
    let object = clang_object(&dir, "task_calls");
    let (_exporter, address) = start_exporter(object.to_str().unwrap());
    let (tid, comm) = this_thread();
    for _ in 0..CALLS {
        std::hint::black_box(std::process::id());
    }
    let pid = std::process::id();
    // The enum shows as its enumerator's name.
    let role = match tid == pid.to_string() {
        true => "ROLE_LEADER",
        false => "ROLE_THREAD",
    };

    let body = text(&curl(&[&format!("http://{address}/metrics")]).stdout);
    promtool_accepts(&body);
    let series = |field: &str| -> i64 {
        let prefix = format!(
            "whistler_map_entry{{map=\"task_calls\",key=\"pid={pid},comm={comm},role={role}\",field=\"{field}\"}} "
        );
        let value = body.lines().find_map(|l| l.strip_prefix(&prefix));
        let value = value.unwrap_or_else(|| panic!("no `{prefix}` in\n{body}"));
        value.parse().unwrap()
    };
    assert!(series("calls") >= CALLS as i64, "{body}");
    assert_eq!(series("minus_calls"), -series("calls"), "{body}");
}

#[test]
fn our_object_s_struct_keys_and_values_decode_through_its_btf() {
    if !kernel_available("our_object_s_struct_keys_and_values_decode_through_its_btf") {
        return;
    }
    let dir = scratch("our-btf");
    let source = dir.join("task-calls.lisp");
    std::fs::write(&source, TASK_CALLS).unwrap();
    // Served from the source, keys and values read as the compiler lays them out...
    let (_from_source, source_address) = start_exporter(source.to_str().unwrap());
    let object = dir.join("task-calls.bpf.o");
    let compiled = Command::new(env!("CARGO_BIN_EXE_whistler"))
        .args(["compile", source.to_str().unwrap(), "-o"])
        .arg(&object)
        .output()
        .unwrap();
    assert!(compiled.status.success(), "{}", text(&compiled.stderr));
    std::fs::remove_file(&source).unwrap();
    // ...and from the object alone, as its BTF describes them.
    let (_from_object, object_address) = start_exporter(object.to_str().unwrap());
    let (tid, comm) = this_thread();
    for _ in 0..CALLS {
        std::hint::black_box(std::process::id());
    }
    let pid = std::process::id();
    let mut comm_bytes = comm.into_bytes();
    comm_bytes.resize(16, 0);
    let comm_hex: String = comm_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("key=\"pid={pid},tid={tid},comm={comm_hex}\"");

    for (address, map) in [(object_address, "by_task"), (source_address, "by-task")] {
        let body = text(&curl(&[&format!("http://{address}/metrics")]).stdout);
        let series = format!("whistler_map_entry{{map=\"{map}\",{key}");
        let calls = body
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{series},field=\"calls\"}} ")))
            .unwrap_or_else(|| panic!("no calls of {series} in\n{body}"));
        assert!(calls.parse::<u64>().unwrap() >= CALLS, "{body}");
        let last_seen = if map == "by_task" {
            "last_seen"
        } else {
            "last-seen"
        };
        assert!(
            body.contains(&format!("{series},field=\"{last_seen}\"}} ")),
            "{body}"
        );
    }
}
