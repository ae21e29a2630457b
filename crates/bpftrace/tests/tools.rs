//! Conformance with bpftrace's own tools: every `/usr/sbin/*.bt` Debian's bpftrace package
//! installs is compiled (the count that compiles may only grow), and each tool whose probes
//! this host supports (BEGIN, END, interval, tracepoints, uprobes on binaries present) runs
//! for a moment in the kernel.

use std::path::PathBuf;
use std::time::Duration;
use whistler_bpftrace::probes::ProbeKind;
use whistler_bpftrace::{RunOptions, Settings};
use whistler_syntax::SourceFile;

/// Tools of bpftrace 0.17 that compile today; fewer is a regression.
const COMPILING_AT_LEAST: usize = 36;

fn tools() -> Vec<PathBuf> {
    let mut tools: Vec<PathBuf> = std::fs::read_dir("/usr/sbin")
        .map(|dir| dir.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    tools.retain(|p| p.extension().is_some_and(|e| e == "bt"));
    tools.sort();
    tools
}

/// This host has no kprobes (so no fentry either); uprobes need their binary; cpu-clock perf
/// events (profile) sample here.
fn runs_here(kind: &ProbeKind) -> bool {
    match kind {
        ProbeKind::Begin
        | ProbeKind::End
        | ProbeKind::Interval(_)
        | ProbeKind::Profile { .. }
        | ProbeKind::Tracepoint { .. } => true,
        ProbeKind::Uprobe { binary, .. } => {
            binary.starts_with('/') && std::path::Path::new(binary).exists()
        }
        _ => false,
    }
}

#[test]
fn bpftrace_tools_compile_and_the_ones_this_host_supports_run() {
    let tools = tools();
    if tools.is_empty()
        && !whistler_testkit::skip(
            "bpftrace_tools_compile_and_the_ones_this_host_supports_run",
            "needs Debian's bpftrace (its tools in /usr/sbin)",
        )
    {
        return;
    }
    let can_run = whistler_testkit::kernel_available(
        "bpftrace_tools_compile_and_the_ones_this_host_supports_run",
    );
    let (mut compiled, mut ran) = (Vec::new(), Vec::new());
    let mut failures = Vec::new();
    for path in &tools {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let file = SourceFile::new(name.clone(), std::fs::read_to_string(path).unwrap());
        let result = whistler_bpftrace::compile(&file, &Settings::default(), Default::default());
        let Ok(tool) = result else {
            let first = result.unwrap_err().remove(0);
            failures.push(whistler_syntax::render(&file, &first));
            continue;
        };
        compiled.push(name.clone());
        if !can_run || !tool.plan.probes.iter().all(|p| runs_here(&p.kind)) {
            continue;
        }
        let options = RunOptions {
            duration: Some(Duration::from_millis(300)),
            ..Default::default()
        };
        let stop = whistler_session::stop_on_ctrl_c().unwrap();
        let mut out = Vec::new();
        whistler_bpftrace::run(&tool, &options, &stop, &mut out)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("Attaching "), "{name}: {out}");
        ran.push(name);
    }
    eprintln!(
        "{} of {} bpftrace tools compile: {}\nran on this host: {}\nnot compiling:\n{}",
        compiled.len(),
        tools.len(),
        compiled.join(" "),
        ran.join(" "),
        failures.join("")
    );
    assert!(
        compiled.len() >= COMPILING_AT_LEAST.min(tools.len()),
        "only {} of {} tools compile",
        compiled.len(),
        tools.len()
    );
}
