//! Attach targets written as text, read the way Whistler's `bpf:attach` reads them: the section
//! name picks the kind, and a target named by the section itself is used when none is given.
//!
//! | section                       | target text                                   |
//! |-------------------------------|-----------------------------------------------|
//! | `kprobe/F`, `kretprobe/F`     | kernel function (`F` or `F+0x10`)             |
//! | `uprobe/...`, `uretprobe/...` | `/path/bin:symbol`, `/path/bin:0x1234`, or `/path/bin` with the symbol in the section |
//! | `tracepoint/C/N`, `tp/C/N`    | `C/N`, `tracepoint/C/N` or `C:N`              |
//! | `raw_tp/N`, `raw_tracepoint/N`| `N`                                           |
//! | `cgroup_skb/...`, `cgroup/...`, `sockops` | cgroup v2 directory (default: the cgroup v2 root) |
//! | `xdp`, `tc`, `tcx/...`        | interface name                                |
//! | `sk_lookup`, `flow_dissector` | network namespace file (default: the calling thread's, `/proc/thread-self/ns/net`) |
//! | `perf_event`                  | nothing (1000 Hz), `freq=N`/`N` (Hz) or `period=N` |
//! | `tp_btf/`, `fentry/`, `fexit/`, `lsm/` | nothing: fixed at load time          |

use std::path::PathBuf;

use whistler_bpf::section::{AttachKind, Section};

use super::{cgroup, AttachError, AttachTarget};

/// Which kernel interface attaches a network program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AttachApi {
    /// A BPF link when the kernel has one for this kind, else the legacy netlink attachment.
    #[default]
    Auto,
    /// Only a BPF link (XDP link, tcx link).
    Link,
    /// Only the legacy netlink attachment (IFLA_XDP, clsact + cls_bpf).
    Netlink,
}

/// Where an XDP program runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum XdpMode {
    /// The driver's native mode when it has one, else generic.
    #[default]
    Default,
    /// In the driver (XDP_FLAGS_DRV_MODE).
    Native,
    /// On the skb, after the driver (XDP_FLAGS_SKB_MODE); works on every interface.
    Generic,
}

/// The direction of a tc program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcDirection {
    /// Packets arriving at the interface.
    Ingress,
    /// Packets leaving the interface.
    Egress,
}

/// How a program is attached to an interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InterfaceMode {
    /// Link, netlink, or whichever the kernel has.
    pub api: AttachApi,
    /// XDP only.
    pub xdp: XdpMode,
    /// tc only: overrides the direction the section names (`tc` alone means ingress).
    pub direction: Option<TcDirection>,
}

/// How often a perf_event program samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PerfSampling {
    /// Samples per second on each CPU.
    Frequency(u64),
    /// One sample every this many counts of the counter (nanoseconds of CPU time for
    /// cpu-clock, page faults for page-faults, cycles for cpu-cycles...).
    Period(u64),
}

/// The counter a perf_event program samples on every CPU: a kernel software event or a
/// generalized hardware event (which needs a PMU: virtual machines often have none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PerfCounter {
    /// CPU time in nanoseconds.
    #[default]
    CpuClock,
    /// CPU time of the task running, in nanoseconds.
    TaskClock,
    /// Page faults, minor and major.
    PageFaults,
    /// Context switches.
    ContextSwitches,
    /// Moves of a task to another CPU.
    CpuMigrations,
    /// Page faults served without I/O.
    MinorFaults,
    /// Page faults that needed I/O.
    MajorFaults,
    /// Unaligned accesses the kernel fixed up.
    AlignmentFaults,
    /// Instructions the kernel emulated.
    EmulationFaults,
    /// Never counts (a placeholder event).
    Dummy,
    /// Counts `bpf_perf_event_output` samples.
    BpfOutput,
    /// CPU cycles.
    CpuCycles,
    /// Instructions retired.
    Instructions,
    /// Last-level cache accesses.
    CacheReferences,
    /// Last-level cache misses.
    CacheMisses,
    /// Branch instructions retired.
    BranchInstructions,
    /// Mispredicted branches.
    BranchMisses,
    /// Bus cycles.
    BusCycles,
    /// Cycles the front end issued nothing.
    FrontendStalls,
    /// Cycles the back end took nothing.
    BackendStalls,
    /// Cycles at the reference clock, not scaled by frequency changes.
    RefCycles,
}

impl PerfCounter {
    /// Whether the counter is a hardware one (`PERF_TYPE_HARDWARE`).
    pub fn is_hardware(self) -> bool {
        self.type_and_config().0 == crate::sys::perf::PERF_TYPE_HARDWARE
    }

    /// The name `perf list` gives it.
    pub fn name(self) -> &'static str {
        use PerfCounter::*;
        match self {
            CpuClock => "cpu-clock",
            TaskClock => "task-clock",
            PageFaults => "page-faults",
            ContextSwitches => "context-switches",
            CpuMigrations => "cpu-migrations",
            MinorFaults => "minor-faults",
            MajorFaults => "major-faults",
            AlignmentFaults => "alignment-faults",
            EmulationFaults => "emulation-faults",
            Dummy => "dummy",
            BpfOutput => "bpf-output",
            CpuCycles => "cpu-cycles",
            Instructions => "instructions",
            CacheReferences => "cache-references",
            CacheMisses => "cache-misses",
            BranchInstructions => "branch-instructions",
            BranchMisses => "branch-misses",
            BusCycles => "bus-cycles",
            FrontendStalls => "stalled-cycles-frontend",
            BackendStalls => "stalled-cycles-backend",
            RefCycles => "ref-cycles",
        }
    }

    /// `perf_event_attr`'s `type` and `config`: the kernel's `PERF_COUNT_SW_*` and
    /// `PERF_COUNT_HW_*` numbers.
    pub(crate) fn type_and_config(self) -> (u32, u64) {
        use crate::sys::perf::{PERF_TYPE_HARDWARE as HW, PERF_TYPE_SOFTWARE as SW};
        use PerfCounter::*;
        match self {
            CpuClock => (SW, 0),
            TaskClock => (SW, 1),
            PageFaults => (SW, 2),
            ContextSwitches => (SW, 3),
            CpuMigrations => (SW, 4),
            MinorFaults => (SW, 5),
            MajorFaults => (SW, 6),
            AlignmentFaults => (SW, 7),
            EmulationFaults => (SW, 8),
            Dummy => (SW, 9),
            BpfOutput => (SW, 10),
            CpuCycles => (HW, 0),
            Instructions => (HW, 1),
            CacheReferences => (HW, 2),
            CacheMisses => (HW, 3),
            BranchInstructions => (HW, 4),
            BranchMisses => (HW, 5),
            BusCycles => (HW, 6),
            FrontendStalls => (HW, 7),
            BackendStalls => (HW, 8),
            RefCycles => (HW, 9),
        }
    }
}

impl Default for PerfSampling {
    fn default() -> Self {
        PerfSampling::Frequency(1000)
    }
}

impl AttachTarget {
    /// Reads `target` (may be empty) for a program in `section`; with an empty target the
    /// section's own target is used.
    pub fn parse_for_section(section: &str, target: &str) -> Result<AttachTarget, AttachError> {
        let parsed = Section::parse(section).ok_or_else(|| {
            AttachError::bad_target(section, "unknown section name: cannot tell how to attach")
        })?;
        let given = target.trim();
        let text = if given.is_empty() {
            parsed.target
        } else {
            given
        };
        let need = |what: &str| AttachError::bad_target(section, format!("needs {what}"));
        match parsed.def.attach_kind {
            AttachKind::Kprobe { .. } if text.is_empty() => Err(need("a kernel function name")),
            AttachKind::Kprobe { .. } => Ok(AttachTarget::KernelFunction(text.to_owned())),
            AttachKind::Uprobe { .. } => uprobe_target(section, parsed.target, given),
            AttachKind::Tracepoint => tracepoint_target(section, text),
            AttachKind::RawTracepoint if text.is_empty() => Err(need("a raw tracepoint name")),
            AttachKind::RawTracepoint => Ok(AttachTarget::RawTracepoint(
                strip_any(text, &["raw_tracepoint/", "raw_tp/"]).to_owned(),
            )),
            AttachKind::Tracing => Ok(AttachTarget::Auto),
            AttachKind::Xdp | AttachKind::Tc | AttachKind::Tcx => interface_target(section, text),
            AttachKind::Cgroup if text.is_empty() => cgroup::cgroup2_mount_point()
                .map(AttachTarget::Cgroup)
                .ok_or_else(|| need("a cgroup path (cgroup v2 is not mounted)")),
            AttachKind::Cgroup => Ok(AttachTarget::Cgroup(PathBuf::from(text))),
            AttachKind::SkLookup | AttachKind::FlowDissector => {
                Ok(AttachTarget::NetNs(PathBuf::from(if text.is_empty() {
                    "/proc/thread-self/ns/net"
                } else {
                    text
                })))
            }
            AttachKind::PerfEvent => perf_target(section, given),
            AttachKind::SocketFilter => Err(need("a socket fd (AttachTarget::Socket)")),
            AttachKind::SockMap => Err(need("a sockmap fd (AttachTarget::SockMap)")),
            AttachKind::None => Err(AttachError::bad_target(section, "cannot be attached")),
        }
    }

    /// The argument list of Whistler's `(bpf:attach PROG TARGET &rest ARGS)`: `args[0]` is the
    /// target text as for [`AttachTarget::parse_for_section`] (none: the section's own), and a
    /// second argument is a uprobe's symbol (`"/usr/bin/bash" "readline"`), an XDP mode
    /// (`xdp`, `xdpdrv`/`native`, `xdpgeneric`/`generic`) or a tc direction (`ingress`,
    /// `egress`).
    pub fn parse_for_section_args(
        section: &str,
        args: &[&str],
    ) -> Result<AttachTarget, AttachError> {
        if args.len() > 2 {
            return Err(AttachError::bad_target(
                section,
                format!("too many attach arguments: {args:?}"),
            ));
        }
        let first = args.first().map_or("", |a| a.trim());
        let Some(extra) = args.get(1).map(|a| a.trim()) else {
            return AttachTarget::parse_for_section(section, first);
        };
        let is_uprobe = Section::parse(section)
            .is_some_and(|s| matches!(s.def.attach_kind, AttachKind::Uprobe { .. }));
        if is_uprobe {
            return AttachTarget::parse_for_section(section, &format!("{first}:{extra}"));
        }
        AttachTarget::parse_for_section(section, first)?.with_extra(section, extra)
    }

    fn with_extra(self, section: &str, extra: &str) -> Result<AttachTarget, AttachError> {
        let bad =
            || AttachError::bad_target(section, format!("unexpected attach argument `{extra}`"));
        match self {
            AttachTarget::Interface { name, mut mode } => {
                match extra {
                    "xdp" => mode.xdp = XdpMode::Default,
                    "xdpdrv" | "native" => mode.xdp = XdpMode::Native,
                    "xdpgeneric" | "generic" => mode.xdp = XdpMode::Generic,
                    "ingress" => mode.direction = Some(TcDirection::Ingress),
                    "egress" => mode.direction = Some(TcDirection::Egress),
                    _ => return Err(bad()),
                }
                Ok(AttachTarget::Interface { name, mode })
            }
            _ => Err(bad()),
        }
    }
}

fn strip_any<'a>(text: &'a str, prefixes: &[&str]) -> &'a str {
    prefixes
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(text)
}

/// `C/N`, `tracepoint/C/N`, `tp/C/N` or `C:N`.
fn tracepoint_target(section: &str, text: &str) -> Result<AttachTarget, AttachError> {
    let text = strip_any(text, &["tracepoint/", "tp/"]);
    let split = text.split_once('/').or_else(|| text.split_once(':'));
    match split {
        Some((category, name))
            if !category.is_empty() && !name.is_empty() && !name.contains('/') =>
        {
            Ok(AttachTarget::Tracepoint {
                category: category.to_owned(),
                name: name.to_owned(),
            })
        }
        _ => Err(AttachError::bad_target(
            section,
            format!("needs a tracepoint as CATEGORY/NAME, not `{text}`"),
        )),
    }
}

fn interface_target(section: &str, text: &str) -> Result<AttachTarget, AttachError> {
    if text.is_empty() {
        return Err(AttachError::bad_target(section, "needs an interface name"));
    }
    Ok(AttachTarget::Interface {
        name: text.to_owned(),
        mode: InterfaceMode::default(),
    })
}

fn perf_target(section: &str, text: &str) -> Result<AttachTarget, AttachError> {
    let number = |s: &str| {
        parse_u64(s).filter(|n| *n > 0).ok_or_else(|| {
            AttachError::bad_target(section, format!("needs freq=N or period=N, not `{text}`"))
        })
    };
    if text.is_empty() {
        return Ok(AttachTarget::PerfEvent(PerfSampling::default()));
    }
    let sampling = match text.split_once('=') {
        Some(("period", n)) => PerfSampling::Period(number(n)?),
        Some(("freq" | "frequency", n)) => PerfSampling::Frequency(number(n)?),
        _ => PerfSampling::Frequency(number(text)?),
    };
    Ok(AttachTarget::PerfEvent(sampling))
}

/// Decimal or `0x` hexadecimal.
pub(super) fn parse_u64(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// One side of a uprobe spec: a binary path and/or a symbol-or-offset.
#[derive(Default)]
struct UprobeSpec<'a> {
    binary: Option<&'a str>,
    location: Option<&'a str>,
}

/// `binary:location`, a path (`/...` or `./...`), or a bare `location` (symbol, `symbol+off` or
/// offset). Symbols never contain `:`, so the last `:` separates a binary from its location.
fn uprobe_spec(text: &str) -> UprobeSpec<'_> {
    if text.is_empty() {
        return UprobeSpec::default();
    }
    if let Some((binary, location)) = text.rsplit_once(':') {
        return UprobeSpec {
            binary: (!binary.is_empty()).then_some(binary),
            location: (!location.is_empty()).then_some(location),
        };
    }
    if text.starts_with('/') || text.starts_with('.') {
        return UprobeSpec {
            binary: Some(text),
            location: None,
        };
    }
    UprobeSpec {
        binary: None,
        location: Some(text),
    }
}

/// The target text overrides what the section says, part by part.
fn uprobe_target(
    section: &str,
    from_section: &str,
    given: &str,
) -> Result<AttachTarget, AttachError> {
    let (s, g) = (uprobe_spec(from_section), uprobe_spec(given));
    let binary = g.binary.or(s.binary).ok_or_else(|| {
        AttachError::bad_target(section, "needs a binary: give \"/path/to/binary:symbol\"")
    })?;
    let location = g.location.or(s.location).ok_or_else(|| {
        AttachError::bad_target(
            section,
            format!("needs a symbol or offset in {binary}: give \"{binary}:symbol\""),
        )
    })?;
    let (symbol, offset) = split_location(location)
        .ok_or_else(|| AttachError::bad_target(section, format!("bad offset in `{location}`")))?;
    Ok(AttachTarget::Uprobe {
        binary: PathBuf::from(binary),
        symbol,
        offset,
        pid: None,
    })
}

/// `symbol`, `symbol+off` or `off`.
fn split_location(location: &str) -> Option<(Option<String>, u64)> {
    if location.starts_with(|c: char| c.is_ascii_digit()) {
        return Some((None, parse_u64(location)?));
    }
    match location.split_once('+') {
        Some((symbol, off)) => Some((Some(symbol.to_owned()), parse_u64(off)?)),
        None => Some((Some(location.to_owned()), 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(section: &str, target: &str) -> String {
        match AttachTarget::parse_for_section(section, target) {
            Ok(t) => format!("{t:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn section_names_its_own_target() {
        assert_eq!(
            parse("kprobe/__x64_sys_execve", ""),
            r#"KernelFunction("__x64_sys_execve")"#
        );
        assert_eq!(
            parse("kretprobe/do_exit", "do_sys_openat2"),
            r#"KernelFunction("do_sys_openat2")"#
        );
        assert_eq!(
            parse("tracepoint/sched/sched_process_exec", ""),
            r#"Tracepoint { category: "sched", name: "sched_process_exec" }"#
        );
        assert_eq!(
            parse("uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc", ""),
            r#"Uprobe { binary: "/usr/lib/x86_64-linux-gnu/libc.so.6", symbol: Some("malloc"), offset: 0, pid: None }"#
        );
        assert_eq!(
            parse("raw_tp/sched_switch", ""),
            r#"RawTracepoint("sched_switch")"#
        );
        assert_eq!(parse("fentry/do_unlinkat", ""), "Auto");
        assert_eq!(
            parse("sk_lookup", ""),
            r#"NetNs("/proc/thread-self/ns/net")"#
        );
        assert_eq!(parse("perf_event", ""), "PerfEvent(Frequency(1000))");
    }

    #[test]
    fn given_targets() {
        assert_eq!(
            parse("tracepoint", "syscalls/sys_enter_getpid"),
            r#"Tracepoint { category: "syscalls", name: "sys_enter_getpid" }"#
        );
        assert_eq!(
            parse("tp", "tracepoint/sched/sched_switch"),
            r#"Tracepoint { category: "sched", name: "sched_switch" }"#
        );
        assert_eq!(
            parse("uretprobe", "/bin/bash:readline+0x4"),
            r#"Uprobe { binary: "/bin/bash", symbol: Some("readline"), offset: 4, pid: None }"#
        );
        assert_eq!(
            parse("uprobe/malloc", "/lib/libc.so.6"),
            r#"Uprobe { binary: "/lib/libc.so.6", symbol: Some("malloc"), offset: 0, pid: None }"#
        );
        assert_eq!(
            parse("uprobe", "/bin/true:0x1040"),
            r#"Uprobe { binary: "/bin/true", symbol: None, offset: 4160, pid: None }"#
        );
        assert_eq!(
            parse("cgroup_skb/egress", "/sys/fs/cgroup/unified/t"),
            r#"Cgroup("/sys/fs/cgroup/unified/t")"#
        );
        assert_eq!(
            parse("xdp", "veth0"),
            r#"Interface { name: "veth0", mode: InterfaceMode { api: Auto, xdp: Default, direction: None } }"#
        );
        assert_eq!(
            parse("perf_event", "period=100000"),
            "PerfEvent(Period(100000))"
        );
        assert_eq!(parse("perf_event", "99"), "PerfEvent(Frequency(99))");
    }

    fn parse_args(section: &str, args: &[&str]) -> String {
        match AttachTarget::parse_for_section_args(section, args) {
            Ok(t) => format!("{t:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn whistler_attach_argument_lists() {
        assert_eq!(
            parse_args("uprobe/x", &["/usr/bin/bash", "readline"]),
            r#"Uprobe { binary: "/usr/bin/bash", symbol: Some("readline"), offset: 0, pid: None }"#
        );
        assert_eq!(
            parse_args("uprobe", &["libc.so.6:malloc"]),
            r#"Uprobe { binary: "libc.so.6", symbol: Some("malloc"), offset: 0, pid: None }"#
        );
        assert_eq!(
            parse_args("xdp", &["eth0", "xdpgeneric"]),
            r#"Interface { name: "eth0", mode: InterfaceMode { api: Auto, xdp: Generic, direction: None } }"#
        );
        assert_eq!(
            parse_args("tc", &["eth0", "egress"]),
            r#"Interface { name: "eth0", mode: InterfaceMode { api: Auto, xdp: Default, direction: Some(Egress) } }"#
        );
        assert_eq!(parse_args("kprobe/f", &[]), r#"KernelFunction("f")"#);
        assert!(parse_args("xdp", &["eth0", "sideways"]).contains("unexpected attach argument"));
        assert!(parse_args("kprobe", &["f", "x"]).contains("unexpected attach argument"));
        assert!(parse_args("tc", &["a", "b", "c"]).contains("too many"));
    }

    #[test]
    fn missing_or_bad_targets_are_explained() {
        assert!(parse("kprobe", "").contains("needs a kernel function name"));
        assert!(parse("uprobe", "").contains("needs a binary"));
        assert!(parse("uprobe", "/bin/true").contains("needs a symbol or offset in /bin/true"));
        assert!(parse("tracepoint", "nocategory").contains("CATEGORY/NAME"));
        assert!(parse("xdp", "").contains("needs an interface name"));
        assert!(parse("socket", "").contains("socket fd"));
        assert!(parse("no_such_section", "x").contains("unknown section"));
        assert!(parse("perf_event", "freq=0").contains("freq=N"));
    }
}
