//! `whistler doctor`: what this machine allows, each line with what to do when something is
//! missing. Program and map kinds are probed: a two-instruction program of each kind is
//! loaded, a small map of each type created, through the loader; so are the probe attach kinds
//! (kprobe and uprobe mechanisms, kprobe_multi and uprobe_multi links).

use super::CommandResult;
use std::path::Path;
use whistler_bpf::{Insn, MapType, Reg};
use whistler_loader::attach::{probe_support, ProbeMechanism};
use whistler_loader::{LoadOptions, Map, MapDefinition, Program};

#[derive(clap::Args)]
pub struct Args {}

/// Sections probed, one per program kind, with a target the kernel has.
const PROGRAM_SECTIONS: &[&str] = &[
    "socket",
    "kprobe/do_nanosleep",
    "tracepoint/syscalls/sys_enter_getpid",
    "raw_tracepoint/sys_enter",
    "tp_btf/sched_switch",
    "perf_event",
    "xdp",
    "tc",
    "action",
    "cgroup_skb/ingress",
    "cgroup/sock",
    "cgroup/connect4",
    "cgroup/sysctl",
    "cgroup/dev",
    "sockops",
    "sk_lookup",
    "sk_skb/stream_verdict",
    "sk_msg",
    "flow_dissector",
    "iter/task",
    "syscall",
    "fentry/do_nanosleep",
    "fexit/do_nanosleep",
    "lsm/file_open",
];

pub fn run(_args: Args) -> CommandResult {
    let release = read_trimmed("/proc/sys/kernel/osrelease");
    println!("kernel         {}", release.as_deref().unwrap_or("unknown"));
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    check(
        "BTF",
        Path::new("/sys/kernel/btf/vmlinux")
            .exists()
            .then(|| "/sys/kernel/btf/vmlinux".to_string()),
        "no CO-RE, tp_btf or fentry: use a kernel built with CONFIG_DEBUG_INFO_BTF=y",
    );
    check(
        "tracefs",
        ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
            .iter()
            .find(|p| Path::new(p).join("events").exists())
            .map(|p| p.to_string()),
        "tracepoints cannot be found: mount -t tracefs tracefs /sys/kernel/tracing",
    );
    check(
        "bpffs",
        mount_of(&mounts, "bpf"),
        "nothing can be pinned: mount -t bpf bpf /sys/fs/bpf",
    );
    check(
        "cgroup2",
        mount_of(&mounts, "cgroup2"),
        "cgroup programs have nowhere to attach: mount -t cgroup2 none /sys/fs/cgroup",
    );
    capabilities();
    let lockdown = read_trimmed("/sys/kernel/security/lockdown").map(|l| selected(&l));
    println!(
        "lockdown       {}{}",
        lockdown.as_deref().unwrap_or("unknown"),
        match lockdown.as_deref() {
            None => "  (mount -t securityfs securityfs /sys/kernel/security to read it)",
            Some("integrity") => "  (bpf_probe_write_user is refused)",
            Some("confidentiality") => {
                "  (reading kernel memory is refused: boot with lockdown=integrity or none)"
            }
            _ => "",
        }
    );
    let unprivileged = read_trimmed("/proc/sys/kernel/unprivileged_bpf_disabled");
    println!(
        "unprivileged   {}{}",
        match unprivileged.as_deref() {
            Some("0") => "allowed",
            Some(_) => "disabled",
            None => "unknown",
        },
        match unprivileged.as_deref() {
            Some("0") | None => "",
            Some(_) => "  (load as root or with CAP_BPF)",
        }
    );
    let support = probe_support();
    let kprobes = support.kprobe != ProbeMechanism::None;
    println!("programs:");
    let options = LoadOptions::default();
    let exit = [Insn::mov64_imm(Reg::R0, 0), Insn::exit()];
    for section in PROGRAM_SECTIONS {
        match Program::load_raw_in_section("doctor_probe", section, &exit, "GPL", &options) {
            Ok(_) if section.starts_with("kprobe/") && !kprobes => println!(
                "  {section:<38} loads, cannot attach: no kprobe PMU and no tracefs \
                 kprobe_events (a kernel with CONFIG_KPROBE_EVENTS is needed)"
            ),
            Ok(_) => println!("  {section:<38} loads"),
            Err(e) => println!("  {section:<38} does not load {}", cause_and_fix(&e)),
        }
    }
    println!("attach:");
    for (kind, mechanism, fix) in [
        (
            "kprobe",
            support.kprobe,
            "a kernel with CONFIG_KPROBES and CONFIG_KPROBE_EVENTS",
        ),
        (
            "uprobe",
            support.uprobe,
            "a kernel with CONFIG_UPROBE_EVENTS",
        ),
    ] {
        match mechanism {
            ProbeMechanism::Pmu(type_) => println!("  {kind:<20} yes  ({kind} PMU, type {type_})"),
            ProbeMechanism::Tracefs => println!("  {kind:<20} yes  (tracefs {kind}_events)"),
            ProbeMechanism::None => println!("  {kind:<20} no   (needs {fix})"),
        }
    }
    for (kind, available, fallback) in [
        (
            "kprobe_multi",
            support.kprobe_multi,
            "kprobe sets (kprobe/vfs_*) attach one kprobe per function: Linux 5.18+ with \
             CONFIG_FPROBE has one link for all",
        ),
        (
            "uprobe_multi",
            support.uprobe_multi,
            "uprobe sets (uprobe//bin:f*) attach one uprobe per function: Linux 6.6+ has one \
             link for all",
        ),
    ] {
        match available {
            true => println!("  {kind:<20} yes"),
            false => println!("  {kind:<20} no   ({fallback})"),
        }
    }
    println!("maps:");
    for map_type in MapType::ALL {
        let Some(definition) = probe_map(*map_type) else {
            continue;
        };
        let name = map_type.lisp_names().first().copied().unwrap_or("?");
        match Map::create(&definition) {
            Ok(_) => println!("  {name:<20} creates"),
            Err(e) => println!("  {name:<20} cannot be created {}", cause_and_fix(&e)),
        }
    }
    Ok(())
}

fn check(what: &str, found: Option<String>, fix: &str) {
    match found {
        Some(detail) => println!("{what:<14} yes  {detail}"),
        None => println!("{what:<14} no   {fix}"),
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Where a filesystem of `fs_type` is mounted, from `/proc/mounts`.
fn mount_of(mounts: &str, fs_type: &str) -> Option<String> {
    mounts.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(2) == Some(&fs_type)).then(|| fields[1].to_string())
    })
}

/// The bracketed choice of a sysfs selection such as `none [integrity] confidentiality`.
fn selected(line: &str) -> String {
    line.split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or(line, |(choice, _)| choice)
        .to_string()
}

/// The capabilities that matter for BPF, from `CapEff` in `/proc/self/status`.
fn capabilities() {
    const WANTED: &[(u32, &str, &str)] = &[
        (39, "CAP_BPF", "loading programs and creating maps"),
        (
            38,
            "CAP_PERFMON",
            "tracing programs and reading kernel memory",
        ),
        (21, "CAP_SYS_ADMIN", "older kernels and some attach kinds"),
        (12, "CAP_NET_ADMIN", "xdp and tc programs"),
        (
            24,
            "CAP_SYS_RESOURCE",
            "raising RLIMIT_MEMLOCK (not needed when memory is charged to the memcg)",
        ),
    ];
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let effective = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    for (bit, name, needed_for) in WANTED {
        if effective & (1 << bit) != 0 {
            println!("capability     {name}");
        } else {
            println!(
                "capability     no {name}  (needed for {needed_for}: run as root or grant it)"
            );
        }
    }
}

/// `(ERRNO)  what to do`, for a probe load or map creation that failed with `error`.
fn cause_and_fix(error: &dyn std::fmt::Display) -> String {
    let error = error.to_string();
    format!(
        "({})  {}",
        errno_name(&error).unwrap_or(&error),
        probe_fix(&error)
    )
}

/// The `(EPERM)`-style errno name in a loader error.
fn errno_name(error: &str) -> Option<&str> {
    let start = error.find("(E")? + 1;
    let len = error[start..].find(')')?;
    Some(&error[start..start + len])
}

/// What to do when a probe program does not load or a map cannot be created, from the
/// loader's error text.
fn probe_fix(error: &str) -> &'static str {
    if error.contains("EPERM") || error.contains("ermission") {
        "not allowed here: run as root with CAP_BPF and CAP_PERFMON; if you are, the host \
         refuses this kind (trampolines: fentry/fexit/lsm), test it in a VM"
    } else if error.contains("EINVAL") || error.contains("nvalid argument") {
        "this kernel does not know the kind: a newer kernel is needed"
    } else {
        "see the loader's error"
    }
}

/// A small map of `map_type` with the sizes its type needs, or `None` for types that need
/// more than sizes (map-in-map templates, struct_ops, storage with BTF, arena).
fn probe_map(map_type: MapType) -> Option<MapDefinition> {
    const BPF_F_NO_PREALLOC: u32 = 1;
    let (key_size, value_size, max_entries, map_flags) = match map_type {
        MapType::HASH
        | MapType::ARRAY
        | MapType::PERCPU_HASH
        | MapType::PERCPU_ARRAY
        | MapType::LRU_HASH
        | MapType::LRU_PERCPU_HASH => (4, 8, 1, 0),
        MapType::LPM_TRIE => (8, 8, 1, BPF_F_NO_PREALLOC),
        MapType::PROG_ARRAY
        | MapType::DEVMAP
        | MapType::SOCKMAP
        | MapType::CPUMAP
        | MapType::XSKMAP
        | MapType::SOCKHASH
        | MapType::DEVMAP_HASH
        | MapType::CGROUP_ARRAY
        | MapType::REUSEPORT_SOCKARRAY => (4, 4, 1, 0),
        MapType::PERF_EVENT_ARRAY => (4, 4, 0, 0),
        MapType::STACK_TRACE => (4, 8 * 127, 1, 0),
        MapType::QUEUE | MapType::STACK | MapType::BLOOM_FILTER => (0, 4, 1, 0),
        MapType::RINGBUF | MapType::USER_RINGBUF => (0, 0, 4096, 0),
        _ => return None,
    };
    Some(MapDefinition {
        name: "doctor_probe".to_string(),
        map_type: map_type as u32,
        key_size,
        value_size,
        max_entries,
        map_flags,
        map_extra: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_selections_mounts_and_errno_names() {
        assert_eq!(selected("none [integrity] confidentiality"), "integrity");
        assert_eq!(selected("plain"), "plain");
        let mounts = "sysfs /sys sysfs rw 0 0\nnone /sys/fs/bpf bpf rw 0 0\n";
        assert_eq!(mount_of(mounts, "bpf").as_deref(), Some("/sys/fs/bpf"));
        assert_eq!(mount_of(mounts, "cgroup2"), None);
        assert_eq!(
            errno_name("x: permission denied (EPERM). more"),
            Some("EPERM")
        );
        assert_eq!(errno_name("no errno"), None);
    }

    #[test]
    fn every_probed_map_type_has_a_definition_the_kernel_accepts_sizes_for() {
        let ringbuf = probe_map(MapType::RINGBUF).unwrap();
        assert_eq!(
            (ringbuf.key_size, ringbuf.value_size, ringbuf.max_entries),
            (0, 0, 4096)
        );
        assert!(probe_map(MapType::STRUCT_OPS).is_none());
    }
}
