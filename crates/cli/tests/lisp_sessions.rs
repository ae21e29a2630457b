//! `whistler run FILE.lisp` on session files, on the running kernel: the examples in
//! `examples/lisp/` with their output checked, compile errors that run nothing, cleanup after
//! Lisp errors and Ctrl-C, and `handler-case` catching the interrupt.

use whistler_testkit::kernel_available;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

fn example(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lisp");
    root.join(name).to_str().unwrap().to_string()
}

fn scratch_file(name: &str, content: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lisp-sessions");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

/// A running `whistler run`, its stdout read line by line.
struct Run {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Run {
    fn start(prefix: &[&str], file: &str, args: &[&str]) -> Run {
        let whistler = env!("CARGO_BIN_EXE_whistler");
        let mut command = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(whistler);
                c
            }
            None => Command::new(whistler),
        };
        command.arg("run").arg(file);
        if !args.is_empty() {
            command.arg("--").args(args);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("whistler runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Run {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line starting with `prefix`.
    fn wait_for(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    let (_, _, err) = self.finish();
                    panic!("no line `{prefix}...` in {:?}; stderr: {err}", self.seen);
                }
            }
        }
    }

    /// Waits for the exit; returns the status, every stdout line and stderr.
    fn finish(&mut self) -> (ExitStatus, Vec<String>, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.seen.push(line);
        }
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status, self.seen.clone(), err)
    }

    fn interrupt(&self) {
        let ok = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
}

fn run_to_end(file: &str, args: &[&str]) -> (ExitStatus, Vec<String>, String) {
    Run::start(&[], file, args).finish()
}

/// True when a loaded BPF program has this name (the kernel frees closed ones shortly after).
fn program_loaded(name: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let out = Command::new("bpftool")
            .args(["prog", "show"])
            .output()
            .expect("bpftool runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let found = text.lines().any(|l| l.contains(&format!(" name {name} ")));
        if !found || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn_ok(program: &str, args: &[&str]) -> u32 {
    let mut child = Command::new(program).args(args).spawn().unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    pid
}

#[test]
fn cgroup_counter_prints_each_second() {
    if !kernel_available("cgroup_counter_prints_each_second") {
        return;
    }
    let dir = format!(
        "/sys/fs/cgroup/unified/whistler-lisp-{}",
        std::process::id()
    );
    std::fs::create_dir_all(&dir).unwrap();
    let mut run = Run::start(&[], &example("cgroup-count-at.lisp"), &[&dir, "3"]);
    run.wait_for("counting egress packets of", Duration::from_secs(30));
    send_from_cgroup(&dir, 100);
    let (status, lines, err) = run.finish();
    let _ = std::fs::remove_dir(&dir);
    assert!(status.success(), "{err}");
    let counts: Vec<u64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("packets: "))
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 3, "{lines:?}");
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert!(*counts.last().unwrap() >= 100, "{counts:?}");
    assert!(!program_loaded("count_egress"));
}

/// Whistler's object-level API, as its book writes it: top-level definitions written out by
/// `compile-to-elf`, loaded by `with-bpf-object`, attached by name, detached by hand.
const OBJECT_API: &str = r#"
(in-package #:whistler)
(defmap obj-count :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog obj-egress (:type :cgroup-skb :section "cgroup_skb/egress" :license "GPL")
  (incf (getmap obj-count 0))
  1)
(defvar *cgroup* (first *args*))
(defvar *object* (second *args*))
(compile-to-elf *object*)
(defun packets (map)
  (whistler/loader:decode-int-value
   (whistler/loader:map-lookup map (whistler/loader:encode-int-key 0 4))))
(whistler/loader:with-bpf-object (obj *object*)
  (let* ((map (whistler/loader:bpf-object-map obj "obj_count"))
         (prog (whistler/loader:bpf-object-prog obj "obj_egress"))
         (att (whistler/loader:attach-obj-cgroup obj "obj_egress" *cgroup*
                                                 whistler/loader:+bpf-cgroup-inet-egress+)))
    (format t "ready ~a~%" (plusp (whistler/loader:prog-info-fd prog)))
    (sleep 2)
    (whistler/loader:detach att)
    (format t "after detach ~d~%" (packets map))
    (sleep 2)
    (format t "later ~d~%" (packets map))
    (let ((again (whistler/loader:attach-cgroup (whistler/loader:prog-info-fd prog) *cgroup*
                                               whistler/loader:+bpf-cgroup-inet-egress+)))
      (format t "attached again ~a~%" (not (null again))))))
"#;

/// Sends `n` UDP datagrams from a process in cgroup `dir`.
fn send_from_cgroup(dir: &str, n: usize) {
    let script = format!(
        "echo $$ > {dir}/cgroup.procs && exec python3 -c \"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range({n}):
    s.sendto(b'x', ('127.0.0.1', 9))
\""
    );
    let status = Command::new("sh").args(["-c", &script]).status().unwrap();
    assert!(status.success());
}

#[test]
fn object_api_compiles_loads_attaches_and_detaches() {
    if !kernel_available("object_api_compiles_loads_attaches_and_detaches") {
        return;
    }
    let dir = format!("/sys/fs/cgroup/unified/whistler-obj-{}", std::process::id());
    std::fs::create_dir_all(&dir).unwrap();
    let object = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("object-api.bpf.o");
    let file = scratch_file("object-api.lisp", OBJECT_API);
    let mut run = Run::start(&[], &file, &[&dir, object.to_str().unwrap()]);
    run.wait_for("ready T", Duration::from_secs(30));
    send_from_cgroup(&dir, 50);
    let detached = run.wait_for("after detach ", Duration::from_secs(30));
    send_from_cgroup(&dir, 50);
    let (status, lines, err) = run.finish();
    let _ = std::fs::remove_dir(&dir);
    assert!(status.success(), "{err}");
    let at_detach: u64 = detached["after detach ".len()..].parse().unwrap();
    assert!(at_detach >= 50, "{lines:?}");
    assert!(lines.contains(&format!("later {at_detach}")), "{lines:?}");
    assert!(lines.contains(&"attached again T".to_string()), "{lines:?}");
    assert!(object.exists(), "compile-to-elf wrote the object");
    assert!(!program_loaded("obj_egress"));
}

#[test]
fn seed_cgroup_example_says_where_cgroup2_is() {
    if !kernel_available("seed_cgroup_example_says_where_cgroup2_is") {
        return;
    }
    let (status, lines, err) = run_to_end(&example("cgroup-count.lisp"), &[]);
    // Where /sys/fs/cgroup is cgroup v2 the seed's text simply runs.
    if status.success() {
        assert_eq!(lines.len(), 10, "{lines:?}");
        return;
    }
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("cgroup-count.lisp:14:3"), "{err}");
    assert!(err.contains("cgroup v2 is mounted at"), "{err}");
}

#[test]
fn kprobe_example_fails_clearly_without_kprobes() {
    if !kernel_available("kprobe_example_fails_clearly_without_kprobes") {
        return;
    }
    if Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        return;
    }
    let (status, _, err) = run_to_end(&example("exec-trace.lisp"), &[]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("no kprobe support"), "{err}");
    assert!(!program_loaded("trace_exec"));
}

#[test]
fn tracepoint_ring_buffer_prints_decoded_records() {
    if !kernel_available("tracepoint_ring_buffer_prints_decoded_records") {
        return;
    }
    let mut run = Run::start(&[], &example("exec-trace-tp.lisp"), &["3"]);
    run.wait_for("tracing execs", Duration::from_secs(30));
    let pids: Vec<u32> = (0..5).map(|_| spawn_ok("/bin/true", &[])).collect();
    let (status, lines, err) = run.finish();
    assert!(status.success(), "{err}");
    for pid in pids {
        let prefix = format!("exec pid={pid} ts=");
        let line = lines.iter().find(|l| l.starts_with(&prefix));
        let ts: u64 = line
            .unwrap_or_else(|| panic!("no record of pid {pid} in {lines:?}"))
            .strip_prefix(&prefix)
            .unwrap()
            .parse()
            .unwrap();
        assert!(ts > 0);
    }
}

/// A session whose program reads the tracepoint's own `pid` field through `deftracepoint` (the
/// format comes from the live tracefs) and whose record layout comes from a top-level user macro.
const TRACEPOINT_FIELDS: &str = r#"
(defmacro defevent (name &rest fields)
  `(whistler:defstruct ,name ,@(mapcar (lambda (f) (list f 'u32)) fields)))
(defevent exec-event pid old-pid)
(deftracepoint sched/sched-process-exec pid old-pid)
(with-bpf-session ()
  (bpf:map tpf-events :type :ringbuf :max-entries 4096)
  (bpf:prog tpf-probe (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
    (with-ringbuf (ev tpf-events (sizeof exec-event))
      (setf (exec-event-pid ev) (tp-pid)
            (exec-event-old-pid ev) (tp-old-pid)))
    0)
  (bpf:attach tpf-probe "sched/sched_process_exec")
  (format t "ready~%")
  (with-decoding-ring-consumer (c (bpf-session-map 'tpf-events) #'decode-exec-event
                                  (lambda (e) (format t "exec ~d ~d~%" (exec-event-record-pid e)
                                                      (exec-event-record-old-pid e))))
    (loop repeat 20 do (ring-poll c :timeout-ms 100))))
"#;

#[test]
fn deftracepoint_fields_and_user_macros_in_a_session() {
    if !kernel_available("deftracepoint_fields_and_user_macros_in_a_session") {
        return;
    }
    let file = scratch_file("tracepoint-fields.lisp", TRACEPOINT_FIELDS);
    let mut run = Run::start(&[], &file, &[]);
    run.wait_for("ready", Duration::from_secs(30));
    let pid = spawn_ok("/bin/true", &[]);
    let (status, lines, err) = run.finish();
    assert!(status.success(), "{err}");
    let line = format!("exec {pid} {pid}");
    assert!(lines.contains(&line), "no `{line}` in {lines:?}");
}

/// `import-kernel-struct` reads task_struct's layout from the live kernel's BTF: the program
/// follows `real_parent` and reads `tgid` and `comm` through kernel pointers.
#[test]
fn kernel_struct_fields_from_btf_in_a_session() {
    if !kernel_available("kernel_struct_fields_from_btf_in_a_session") {
        return;
    }
    let mut run = Run::start(&[], &example("exec-parents.lisp"), &["3"]);
    run.wait_for("tracing execs", Duration::from_secs(30));
    let pids: Vec<u32> = (0..3).map(|_| spawn_ok("/bin/true", &[])).collect();
    let (status, lines, err) = run.finish();
    assert!(status.success(), "{err}");
    assert!(err.contains("task_struct is "), "{err}");
    let parent = std::process::id();
    for pid in pids {
        let line = format!("exec pid={pid} ppid={parent} comm=true");
        assert!(lines.contains(&line), "no `{line}` in {lines:?}");
    }
}

#[test]
fn uprobe_counts_calls_per_process() {
    if !kernel_available("uprobe_counts_calls_per_process") {
        return;
    }
    let libc = "/lib/x86_64-linux-gnu/libc.so.6";
    let file = example("uprobe-count.lisp");
    let mut run = Run::start(&[], &file, &[libc, "getpid", "3"]);
    run.wait_for("counting calls of getpid", Duration::from_secs(30));
    let pid = spawn_ok(
        "python3",
        &["-c", "import os\nfor i in range(200): os.getpid()"],
    );
    let (status, lines, err) = run.finish();
    assert!(status.success(), "{err}");
    let prefix = format!("pid {pid}: ");
    let calls: u64 = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no count for pid {pid} in {} lines", lines.len()))
        .trim_end_matches(" calls")
        .parse()
        .unwrap();
    assert!(calls >= 200, "{calls}");
}

/// Two network namespaces joined by a veth pair, deleted on drop.
struct Netns {
    a: String,
    b: String,
}

impl Netns {
    fn new(tag: &str) -> Netns {
        let base = format!("wl{tag}{}", std::process::id() % 100_000);
        let (a, b) = (format!("{base}a"), format!("{base}b"));
        let sh = |cmd: String| {
            assert!(
                Command::new("sh")
                    .args(["-c", &cmd])
                    .status()
                    .unwrap()
                    .success(),
                "{cmd}"
            );
        };
        sh(format!("ip netns add {a} && ip netns add {b}"));
        let ns = Netns { a, b };
        sh(format!(
            "ip link add {a}x netns {a} type veth peer name {b}y netns {b}",
            a = ns.a,
            b = ns.b
        ));
        sh(format!(
            "nsenter --net=/run/netns/{a} sh -c 'ip addr add 10.199.77.1/24 dev {a}x && ip link set {a}x up && ip link set lo up'",
            a = ns.a
        ));
        sh(format!(
            "nsenter --net=/run/netns/{b} sh -c 'ip addr add 10.199.77.2/24 dev {b}y && ip link set {b}y up'",
            b = ns.b
        ));
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.a]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.b]).status();
    }
}

#[test]
fn xdp_counts_tcp_by_port() {
    if !kernel_available("xdp_counts_tcp_by_port") {
        return;
    }
    let ns = Netns::new("x");
    let enter = format!("--net=/run/netns/{}", ns.a);
    let interface = format!("{}x", ns.a);
    let mut run = Run::start(
        &["nsenter", &enter],
        &example("xdp-tcp.lisp"),
        &[&interface, "3"],
    );
    run.wait_for("counting TCP packets on", Duration::from_secs(30));
    let connect = "import socket\nfor i in range(5):\n    s = socket.socket()\n    s.settimeout(0.5)\n    try: s.connect(('10.199.77.1', 8080))\n    except OSError: pass\n    s.close()";
    let peer = format!("--net=/run/netns/{}", ns.b);
    assert!(Command::new("nsenter")
        .args([peer.as_str(), "python3", "-c", connect])
        .status()
        .unwrap()
        .success());
    let (status, lines, err) = run.finish();
    assert!(status.success(), "{err}");
    let last: u64 = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("port 8080: "))
        .unwrap_or_else(|| panic!("no port 8080 line in {lines:?}"))
        .trim_end_matches(" packets")
        .parse()
        .unwrap();
    assert!(last >= 5, "{lines:?}");
    assert!(!program_loaded("count_tcp"));
}

#[test]
fn compile_error_reports_position_and_runs_nothing() {
    let file = scratch_file(
        "compile-error.lisp",
        "(format t \"before~%\")\n\
         (with-bpf-session ()\n  (bpf:map m :type :array :key-size 4 :value-size 8 :max-entries 1)\n  \
         (bpf:prog p (:type :xdp :license \"GPL\")\n    (frobnicate 1 2)\n    XDP_PASS)\n  \
         (format t \"inside~%\"))\n",
    );
    let (status, lines, err) = run_to_end(&file, &[]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("compile-error.lisp:5:6"), "{err}");
    assert!(lines.is_empty(), "{lines:?}");
}

const FAILING: &str = r#"
(with-bpf-session ()
  (bpf:map lerr-count :type :array :key-size 4 :value-size 8 :max-entries 1)
  (bpf:prog lerr-probe (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
    (incf (getmap lerr-count 0))
    0)
  (bpf:attach lerr-probe "sched/sched_process_exec")
  (format t "attached~%")
  (error "boom ~d" 42))
(format t "not reached~%")
"#;

#[test]
fn lisp_error_closes_everything() {
    if !kernel_available("lisp_error_closes_everything") {
        return;
    }
    let file = scratch_file("lisp-error.lisp", FAILING);
    let (status, lines, err) = run_to_end(&file, &[]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(lines, ["attached"]);
    assert!(
        err.contains("boom 42") && err.contains("lisp-error.lisp:9:3"),
        "{err}"
    );
    assert!(!program_loaded("lerr_probe"));
}

const CATCHING: &str = r#"
(whistler:defstruct hc-event (pid u32))
(with-bpf-session ()
  (bpf:map hc-events :type :ringbuf :max-entries 4096)
  (bpf:prog hc-probe (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
    (with-ringbuf (ev hc-events (sizeof hc-event))
      (setf (hc-event-pid ev) (cast u32 (ash (get-current-pid-tgid) -32))))
    0)
  (bpf:attach hc-probe "sched/sched_process_exec")
  (with-decoding-ring-consumer (c (bpf-session-map 'hc-events) #'decode-hc-event
                                  (lambda (ev) (hc-event-record-pid ev)))
    (format t "ready~%")
    (handler-case (loop (ring-poll c :timeout-ms 1000))
      (interrupt () (format t "caught~%")))))
(format t "after~%")
"#;

#[test]
fn handler_case_catches_ctrl_c() {
    if !kernel_available("handler_case_catches_ctrl_c") {
        return;
    }
    let file = scratch_file("catching.lisp", CATCHING);
    let mut run = Run::start(&[], &file, &[]);
    run.wait_for("ready", Duration::from_secs(30));
    run.interrupt();
    let (status, lines, err) = run.finish();
    assert!(status.success(), "{err}");
    assert_eq!(lines, ["ready", "caught", "after"]);
    assert!(!program_loaded("hc_probe"));
}

const LOOPING: &str = r#"
(with-bpf-session ()
  (bpf:map cc-count :type :array :key-size 4 :value-size 8 :max-entries 1)
  (bpf:prog cc-probe (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
    (incf (getmap cc-count 0))
    0)
  (bpf:attach cc-probe "sched/sched_process_exec")
  (format t "ready~%")
  (loop (sleep 1)))
"#;

#[test]
fn ctrl_c_exits_130_and_closes_everything() {
    if !kernel_available("ctrl_c_exits_130_and_closes_everything") {
        return;
    }
    let file = scratch_file("looping.lisp", LOOPING);
    let mut run = Run::start(&[], &file, &[]);
    run.wait_for("ready", Duration::from_secs(30));
    assert!(program_loaded("cc_probe"));
    run.interrupt();
    let (status, _, err) = run.finish();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(!program_loaded("cc_probe"));
}

const RECORDS: &str = r#"
(whistler:defstruct pair-rec (a u32) (b u64) (tag (array u8 4)))
(defmacro bump (map) `(incf (getmap ,map 0)))
(with-bpf-session ()
  (bpf:map counts :type :array :key-size 4 :value-size 8 :max-entries 2)
  (bpf:map pairs :type :hash :key-size 4 :value-size 24 :max-entries 8)
  (bpf:prog rec-probe (:type :xdp :license "GPL")
    (bump counts)
    XDP_PASS)
  (let ((r (make-pair-rec-record :a 7 :b 123456789012 :tag (list 1 2 3 4))))
    (map-update-struct-int pairs 5 r 'pair-rec)
    (let ((back (map-lookup-struct-int pairs 5 'pair-rec)))
      (format t "a=~d b=~d tag=~a~%" (pair-rec-record-a back) (pair-rec-record-b back)
              (pair-rec-record-tag back))))
  (format t "bytes=~a~%" (encode-pair-rec '(:a 1 :b 2)))
  (map-update-int counts 1 99)
  (format t "count1=~d count0=~d missing=~a~%" (bpf:map-ref counts 1) (bpf:map-ref counts 0)
          (bpf:map-ref pairs 6))
  (format t "keys=~a next=~a~%" (map-keys pairs) (map-get-next-key-int pairs nil)))
"#;

/// Idioms of SBCL scripts: a package of their own, vector literals, `*error-output*`,
/// `sb-ext:*posix-argv*`, the session's maps and programs as alists by C name.
const SCRIPT_IDIOMS: &str = r#"
(defpackage #:idioms (:use #:cl #:whistler #:whistler/loader))
(in-package #:idioms)
(defparameter *names* #("zero" "one" "two"))
(with-bpf-session ()
  (bpf:map idiom-counts :type :array :key-size 4 :value-size 8 :max-entries 3)
  (bpf:prog idiom-probe (:type :xdp :license "GPL") XDP_PASS)
  (format *error-output* "argv=~s~%" (rest sb-ext:*posix-argv*))
  (let ((m (cdr (assoc "idiom_counts" (bpf-session-maps *bpf-session*) :test #'string=))))
    (map-update-int m 2 42)
    (format t "~a=~d~%" (aref *names* 2) (decode-int-value (map-lookup m (encode-int-key 2 4))))
    (format t "progs=~a~%" (mapcar #'car (bpf-session-progs)))))
"#;

#[test]
fn sbcl_script_idioms() {
    if !kernel_available("sbcl_script_idioms") {
        return;
    }
    let file = scratch_file("idioms.lisp", SCRIPT_IDIOMS);
    // Arguments follow the file directly, as `sbcl --script FILE ARGS` takes them.
    let out = Command::new(env!("CARGO_BIN_EXE_whistler"))
        .args(["run", &file, "first", "--second"])
        .output()
        .expect("whistler runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "two=42\nprogs=(idiom_probe)\n");
    assert_eq!(stderr, "argv=(\"first\" \"--second\")\n");
}

#[test]
fn records_and_map_functions() {
    if !kernel_available("records_and_map_functions") {
        return;
    }
    let file = scratch_file("records.lisp", RECORDS);
    let (status, lines, err) = run_to_end(&file, &[]);
    assert!(status.success(), "{err}");
    assert_eq!(
        lines,
        [
            "a=7 b=123456789012 tag=#(1 2 3 4)",
            "bytes=#(1 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)",
            "count1=99 count0=0 missing=NIL",
            "keys=(5) next=5",
        ]
    );
}

/// The ```lisp block of the README's Lisp section that runs a workload (the one calling
/// `sb-ext:run-program`).
fn readme_workload_script() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    readme
        .split("```lisp\n")
        .skip(1)
        .filter_map(|block| block.split_once("```").map(|(code, _)| code))
        .find(|code| code.contains("sb-ext:run-program"))
        .expect("the README shows the traced-workload script")
        .to_string()
}

/// /proc/loadavg's one-minute load, with two decimals as the script prints it.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap();
    let load: f64 = text.split_whitespace().next().unwrap().parse().unwrap();
    format!("{load:.2}")
}

/// The README's script, run as the README shows it: reads /proc, runs a workload with
/// `sb-ext:run-program` while tracing its execs, and prints a timestamped report with the
/// workload's output. The example file is the same text.
#[test]
fn traced_workload_report() {
    let script = readme_workload_script();
    assert_eq!(
        script,
        std::fs::read_to_string(example("trace-workload.lisp")).unwrap(),
        "README.md and examples/lisp/trace-workload.lisp differ"
    );
    if !kernel_available("traced_workload_report") {
        return;
    }
    let file = scratch_file("readme-trace-workload.lisp", &script);
    let workload = [
        "/bin/sh",
        "-c",
        "/bin/true; /bin/true; echo finished; exit 3",
    ];
    let load_before = load_average();
    let (status, lines, err) = run_to_end(&file, &workload);
    assert!(status.success(), "{err}");
    let stamped = |line: &String| {
        line.len() > 21
            && line.as_bytes()[..20]
                .iter()
                .enumerate()
                .all(|(i, b)| match i {
                    4 | 7 => *b == b'-',
                    10 => *b == b'T',
                    13 | 16 => *b == b':',
                    19 => *b == b'Z',
                    _ => b.is_ascii_digit(),
                })
            && &line[20..21] == " "
    };
    assert!(lines.iter().all(stamped), "{lines:?}");
    // The load printed is /proc/loadavg's first field as it was during the run.
    let load = lines
        .iter()
        .find_map(|l| l.split(" load ").nth(1))
        .expect("a load line");
    assert!(
        [&load_before, &load_average()].contains(&&load.to_string()),
        "printed load {load}, /proc/loadavg said {load_before} before the run"
    );
    assert!(
        lines.iter().any(|l| l.ends_with("exit code 3")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.ends_with("output: finished")),
        "{lines:?}"
    );
    let execs = lines
        .iter()
        .find_map(|l| l.split("execs traced: ").nth(1))
        .unwrap();
    assert!(execs.parse::<u32>().unwrap() >= 3, "{lines:?}");
}

/// Compile-time reads: an `eval-when` that probes a file (as Whistler's runqlat does) runs
/// while the file compiles, through the read-only host the runner supplies.
#[test]
fn probe_file_at_compile_time() {
    let file = scratch_file(
        "probe.lisp",
        "(eval-when (:compile-toplevel :load-toplevel :execute)
           (defparameter *has-proc* (if (probe-file \"/proc/self/stat\") :yes :no)))
         (format t \"~a~%\" *has-proc*)",
    );
    let (status, lines, err) = run_to_end(&file, &[]);
    assert!(status.success(), "{err}");
    assert_eq!(lines, ["YES"]);
}
