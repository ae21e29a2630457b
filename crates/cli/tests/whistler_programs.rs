//! Programs written as Whistler's repository writes its examples and tests (our own programs in
//! their spirit: files of top-level `defmap`/`defprog` definitions like its count-xdp and
//! runqlat, and `with-bpf-session` scripts like its fork-tracker), each run by `whistler run`
//! on the running kernel and checked by what it printed.
//!
//! Every `tests/whistler_programs/*.lisp` runs; its header says how:
//!
//! - `;; run: ARGS` the arguments after the file (a definitions file also gets `--json` and
//!   stops after the workload),
//! - `;; netns: yes` run in a new network namespace with `lo` up,
//! - `;; workload: COMMAND` run by `sh -c` (in that namespace) once the programs are loaded,
//! - `;; expect: LINE` a line the program must print,
//! - `;; expect-map: MAP KEY >= N` a map's value at KEY (`*`: summed over all keys) at the end.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use whistler_testkit::kernel_available;

#[derive(Default, Debug)]
struct Header {
    run: Vec<String>,
    netns: bool,
    workload: Option<String>,
    expect: Vec<String>,
    expect_map: Vec<(String, Option<u64>, u64)>,
}

fn header(text: &str) -> Header {
    let mut h = Header::default();
    for line in text.lines().filter_map(|l| l.strip_prefix(";; ")) {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "run" => h.run = value.split_whitespace().map(String::from).collect(),
            "netns" => h.netns = value == "yes",
            "workload" => h.workload = Some(value.to_string()),
            "expect" => h.expect.push(value.to_string()),
            "expect-map" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                let [map, key, ">=", min] = parts[..] else {
                    panic!("bad expect-map line: {line}");
                };
                let key = (key != "*").then(|| key.parse().expect("a numeric key"));
                h.expect_map
                    .push((map.to_string(), key, min.parse().expect("a count")));
            }
            _ => {}
        }
    }
    h
}

fn programs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/whistler_programs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lisp"))
        .collect();
    files.sort();
    files
}

/// Whether the kernel has a loaded program whose name starts with `prefix` (the kernel keeps
/// 15 characters of a name).
fn loaded(prefix: &str) -> bool {
    let out = Command::new("bpftool")
        .args(["prog", "show"])
        .output()
        .expect("bpftool runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.contains(&format!(" name {prefix}")))
}

/// The program names a definitions file loads (its `defprog`s, as the object names them).
fn defprog_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("(defprog "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|name| name.replace('-', "_").chars().take(15).collect())
        .collect()
}

/// Runs one program; returns what went wrong, if anything.
fn run(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap();
    let h = header(&text);
    let programs = defprog_names(&text);
    let definitions = !programs.is_empty();
    let whistler = env!("CARGO_BIN_EXE_whistler");
    let mut command = if h.netns {
        let mut c = Command::new("unshare");
        c.args([
            "-n",
            "sh",
            "-c",
            "ip link set lo up && exec \"$0\" \"$@\"",
            whistler,
        ]);
        c
    } else {
        Command::new(whistler)
    };
    command.arg("run").arg(path);
    if definitions {
        command.arg("--json");
    }
    command.args(&h.run);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start whistler: {e}"))?;
    if definitions {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !programs.iter().all(|p| loaded(p)) {
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                return Err(format!(
                    "programs {programs:?} never loaded; stderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    if let Some(workload) = &h.workload {
        let netns = format!("--net=/proc/{}/ns/net", child.id());
        let mut w = if h.netns {
            let mut c = Command::new("nsenter");
            c.args([netns.as_str(), "sh", "-c", workload]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", workload]);
            c
        };
        w.stdout(Stdio::null())
            .status()
            .map_err(|e| format!("workload: {e}"))?;
    }
    if definitions {
        // Stop it as Ctrl-C would: it prints the maps on the way out.
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    if !status.success() {
        return Err(format!("exit {status}; stderr: {stderr}; stdout: {stdout}"));
    }
    let mut problems = Vec::new();
    for line in &h.expect {
        if !stdout.lines().any(|l| l == line) {
            problems.push(format!("no line `{line}`"));
        }
    }
    for (map, key, min) in &h.expect_map {
        let object_name = map.replace('-', "_");
        let entries = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["map"] == object_name.as_str())
            .map(|v| v["entries"].as_array().cloned().unwrap_or_default());
        let Some(entries) = entries else {
            problems.push(format!("map {map} was not printed"));
            continue;
        };
        let total: u64 = entries
            .iter()
            .filter(|e| key.is_none_or(|k| e["key"].as_u64() == Some(k)))
            .filter_map(|e| e["value"].as_u64())
            .sum();
        if total < *min {
            problems.push(format!("map {map} key {key:?}: {total} < {min}"));
        }
    }
    for program in &programs {
        if loaded(program) {
            std::thread::sleep(Duration::from_secs(1));
            if loaded(program) {
                problems.push(format!("program {program} is still loaded after the run"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let shown: String = stdout.chars().take(2000).collect();
        Err(format!("{}\nstdout:\n{shown}", problems.join("\n")))
    }
}

#[test]
fn every_program_runs_in_the_kernel() {
    let files = programs();
    assert!(files.len() >= 3, "expected the programs, found {files:?}");
    if !kernel_available("every_program_runs_in_the_kernel") {
        return;
    }
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            run(path)
                .err()
                .map(|e| format!("{}: {e}", path.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
