//! Every example runs on the real kernel and what it prints is checked; afterwards nothing of
//! its session may stay loaded.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use whistler_testkit::kernel_available;

/// `target/<profile>/examples/NAME`, built from this checkout first: `cargo test` compiles
/// examples under hashed names only, so a plain `examples/NAME` may be left from an earlier build.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let profile = profile_dir.file_name().unwrap().to_str().unwrap();
    let profile = if profile == "debug" { "dev" } else { profile };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(cargo)
        .args([
            "build",
            "-p",
            "whistler",
            "--profile",
            profile,
            "--example",
            name,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "cannot build example {name}");
    profile_dir.join("examples").join(name)
}

/// A running example whose stdout lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the example starts");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `needle` (the session is attached once it prints it).
    fn wait_for(&mut self, needle: &str) {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(e) => panic!("no line with {needle:?} ({e}); got {:?}", self.seen),
            }
        }
    }

    /// Waits for the example to exit successfully and returns every line it printed.
    fn finish(mut self) -> Vec<String> {
        let status = self.child.wait().unwrap();
        self.seen.extend(self.lines.iter());
        assert!(status.success(), "{status}; output: {:?}", self.seen);
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn uprobe_count_counts_every_call() {
    if !kernel_available("uprobe_count_counts_every_call") {
        return;
    }
    let mark = common::id_mark();
    let output = Command::new(example("uprobe_count")).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("entries: 1000 returns: 1000"),
        "unexpected output: {stdout}"
    );
    common::assert_nothing_left(mark, &["on_entry", "on_return"], &["calls"]);
}

#[test]
fn load_object_runs_reads_and_attaches() {
    if !kernel_available("load_object_runs_reads_and_attaches") {
        return;
    }
    let mark = common::id_mark();
    let output = Command::new(example("load_object")).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in ["count_all returned 2", "hits[0] = 1", "attached to lo as "] {
        assert!(stdout.contains(line), "no {line:?} in: {stdout}");
    }
    common::assert_nothing_left(mark, &["count_all"], &["hits"]);
}

#[test]
fn exec_trace_sees_our_children() {
    if !kernel_available("exec_trace_sees_our_children") {
        return;
    }
    common::tracefs();
    let mark = common::id_mark();
    let mut command = Command::new(example("exec_trace"));
    command.arg("3");
    let mut run = Running::start(command);
    // The line that follows a successful attach (the kprobe-less notice comes before it).
    run.wait_for("tracing ");
    let pids: Vec<u32> = (0..5)
        .map(|_| {
            let mut child = Command::new("/bin/true").spawn().unwrap();
            let pid = child.id();
            assert!(child.wait().unwrap().success());
            pid
        })
        .collect();
    let lines = run.finish();
    let mut traced = Vec::new();
    for line in &lines {
        let Some(rest) = line.strip_prefix("exec pid=") else {
            continue;
        };
        let (pid, ts) = rest.split_once(" ts=").expect("`exec pid=P ts=T`");
        traced.push(pid.parse::<u32>().expect("a pid"));
        assert!(ts.parse::<u64>().is_ok_and(|t| t > 0), "bad line {line:?}");
    }
    for pid in pids {
        assert!(
            traced.contains(&pid),
            "exec of pid {pid} not traced: {lines:?}"
        );
    }
    common::assert_nothing_left(mark, &["trace_exec", "trace_exec_tp"], &["events"]);
}

const DATAGRAMS: u64 = 25;

#[test]
fn cgroup_count_counts_a_cgroup_of_its_own() {
    if !kernel_available("cgroup_count_counts_a_cgroup_of_its_own") {
        return;
    }
    let cgroup = common::TestCgroup::new("count");
    let mark = common::id_mark();
    let mut command = Command::new(example("cgroup_count"));
    command.arg(&cgroup.0).arg("4");
    let mut run = Running::start(command);
    run.wait_for("counting egress packets");
    // The sender waits for a line on stdin, by which time it has been moved into the cgroup, so
    // that its sockets belong to it.
    let script = format!(
        "read go; for i in $(seq 1 {DATAGRAMS}); do echo datagram > /dev/udp/127.0.0.1/9; done"
    );
    let mut sender = Command::new("bash")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    cgroup.add(sender.id());
    writeln!(sender.stdin.take().unwrap(), "go").unwrap();
    assert!(sender.wait().unwrap().success());
    let lines = run.finish();
    let last = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("packets: "))
        .unwrap_or_else(|| panic!("no count printed: {lines:?}"));
    let count: u64 = last.parse().unwrap();
    assert!(
        count >= DATAGRAMS,
        "counted {count} < {DATAGRAMS}: {lines:?}"
    );
    common::assert_nothing_left(mark, &["count_egress"], &["pkt_count"]);
}

/// Two network namespaces joined by a veth pair, deleted on drop.
struct VethPair {
    netns: [String; 2],
    ifaces: [String; 2],
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl VethPair {
    fn new() -> VethPair {
        let id = std::process::id() % 100_000;
        let pair = VethPair {
            netns: [format!("whs_xdp_{id}_a"), format!("whs_xdp_{id}_b")],
            ifaces: [format!("whsa{id}"), format!("whsb{id}")],
        };
        let [na, nb] = &pair.netns;
        let [ia, ib] = &pair.ifaces;
        ip(&["netns", "add", na]);
        ip(&["netns", "add", nb]);
        ip(&[
            "link", "add", ia, "netns", na, "type", "veth", "peer", "name", ib, "netns", nb,
        ]);
        ip(&["-n", na, "addr", "add", "10.199.7.1/24", "dev", ia]);
        ip(&["-n", nb, "addr", "add", "10.199.7.2/24", "dev", ib]);
        for (ns, iface) in [(na, ia), (nb, ib)] {
            ip(&["-n", ns, "link", "set", iface, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        pair
    }

    fn enter(&self, side: usize, program: &str) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--net=/run/netns/{}", self.netns[side]))
            .arg(program);
        command
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        for ns in &self.netns {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn counts(line: &str) -> Option<[u64; 4]> {
    let mut values = line
        .split_whitespace()
        .skip(1)
        .step_by(2)
        .map(|v| v.parse::<u64>().ok());
    Some([
        values.next()??,
        values.next()??,
        values.next()??,
        values.next()??,
    ])
}

#[test]
fn xdp_count_counts_by_protocol_on_a_veth() {
    if !kernel_available("xdp_count_counts_by_protocol_on_a_veth") {
        return;
    }
    let pair = VethPair::new();
    let mark = common::id_mark();
    let mut command = pair.enter(0, example("xdp_count").to_str().unwrap());
    command.args([pair.ifaces[0].as_str(), "4"]);
    let mut run = Running::start(command);
    run.wait_for("counting packets on");
    // From B: datagrams and one TCP connection attempt (its SYN is counted) to A. From A: a
    // datagram to a closed port of B, whose ICMP "port unreachable" answer arrives at A.
    let script = format!(
        "for i in $(seq 1 {DATAGRAMS}); do echo datagram > /dev/udp/10.199.7.1/9; done; \
         (echo syn > /dev/tcp/10.199.7.1/9) 2>/dev/null; true"
    );
    let from_b = pair
        .enter(1, "bash")
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(from_b.success());
    let to_closed_port = "echo datagram > /dev/udp/10.199.7.2/9; sleep 0.3";
    let from_a = pair
        .enter(0, "bash")
        .args(["-c", to_closed_port])
        .status()
        .unwrap();
    assert!(from_a.success());
    let lines = run.finish();
    let last = lines
        .iter()
        .rev()
        .find(|l| l.starts_with("packets: "))
        .unwrap_or_else(|| panic!("no count printed: {lines:?}"));
    let [total, icmp, tcp, udp] = counts(last).unwrap_or_else(|| panic!("bad line {last:?}"));
    assert!(icmp >= 1, "icmp {icmp}: {lines:?}");
    assert!(udp >= DATAGRAMS, "udp {udp}: {lines:?}");
    assert!(tcp >= 1, "tcp {tcp}: {lines:?}");
    assert!(total >= icmp + tcp + udp, "total {total}: {lines:?}");
    common::assert_nothing_left(mark, &["count_packets"], &["by_proto", "total"]);
}

#[test]
fn syscall_metrics_serves_the_session_beside_the_applications_metrics() {
    if !kernel_available("syscall_metrics_serves_the_session_beside_the_applications_metrics") {
        return;
    }
    let mark = common::id_mark();
    let mut command = Command::new(example("syscall_metrics"));
    command.arg("127.0.0.1:0");
    let mut running = Running::start(command);
    running.wait_for("serving http://");
    let address = running.seen.last().unwrap()["serving http://".len()..].to_string();
    for _ in 0..20 {
        std::hint::black_box(std::process::id());
    }
    let scrape = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "5", &address])
        .output()
        .expect("curl runs");
    let body = String::from_utf8_lossy(&scrape.stdout);
    assert!(body.contains("example_starts_total 1\n"), "{body}");
    let getpids = body
        .lines()
        .find_map(|l| l.strip_prefix("syscalls_total{syscall=\"getpid\"} "))
        .unwrap_or_else(|| panic!("no getpid counter in\n{body}"));
    assert!(getpids.parse::<u64>().unwrap() >= 20, "{body}");
    assert!(
        body.contains("# TYPE syscall_duration_seconds histogram"),
        "{body}"
    );
    // The map no metric reads is served as raw entries.
    assert!(
        body.contains("whistler_map_entry{map=\"syscall-start\""),
        "{body}"
    );
    let stopped = Command::new("kill")
        .args(["-TERM", &running.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    running.finish();
    common::assert_nothing_left(mark, &["on_enter", "on_exit"], &["syscall_counts"]);
}
