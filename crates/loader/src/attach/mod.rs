//! Attaching a loaded program: one file per attach kind, and [`attach`], which picks the kind from
//! the program's type and section name and returns an owned [`Link`].
//!
//! | section (kind)                      | mechanism                                            | on drop |
//! |-------------------------------------|------------------------------------------------------|---------|
//! | `kprobe/`, `kretprobe/`             | kprobe PMU perf event, else tracefs `kprobe_events`  | disable, close, delete the probe |
//! | `kprobe/vfs_*`, `kprobe/f,g` (sets), `kprobe.multi/`, `kretprobe.multi/` | kprobe_multi link, else one kprobe per function ([`multi`]) | LINK_DETACH / each as above |
//! | `uprobe/`, `uretprobe/`             | uprobe PMU perf event (one event), else `uprobe_events` | same |
//! | `uprobe//bin:f*`, `...:f,g` (sets), `uprobe.multi/`, `uretprobe.multi/` | uprobe_multi link, else one uprobe per function | LINK_DETACH / each as above |
//! | `tracepoint/`, `tp/`                | PERF_TYPE_TRACEPOINT event, id from tracefs          | disable, close |
//! | `raw_tp/`, `raw_tracepoint/`        | BPF_RAW_TRACEPOINT_OPEN                              | close |
//! | `tp_btf/`, `fentry/`, `fexit/`, `lsm/`, `iter/` | BPF_LINK_CREATE (target from load time)  | close |
//! | `perf_event`                        | software or hardware counter per online CPU          | disable, close all |
//! | `xdp`                               | XDP link, else netlink IFLA_XDP                      | LINK_DETACH / netlink fd -1 |
//! | `tc`, `classifier`, `tcx/`          | tcx link, else clsact + cls_bpf direct-action        | LINK_DETACH / delete filter (and our clsact) |
//! | `cgroup_skb/`, `cgroup/`, `sockops` | cgroup link, else BPF_PROG_ATTACH (multi)            | LINK_DETACH / BPF_PROG_DETACH |
//! | `socket`                            | SO_ATTACH_BPF on the given socket                    | SO_DETACH_BPF |
//! | `sk_lookup`, `flow_dissector`       | netns link                                           | LINK_DETACH |
//! | `sk_skb/`, `sk_msg`                 | BPF_PROG_ATTACH on the given sockmap                 | BPF_PROG_DETACH |

mod cgroup;
mod kprobe;
pub mod multi;
mod netns;
mod perf_event;
mod pmu;
mod raw_tracepoint;
mod socket;
mod support;
mod target;
pub(crate) mod tc;
pub(crate) mod tracefs;
mod tracepoint;
mod tracing;
mod uprobe;
mod xdp;

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use whistler_bpf::section::{AttachKind, Section};
use whistler_bpf::ProgramType;

use crate::elf_symbols::ElfSymbolError;
use crate::link::Link;
use crate::sys::bpf;
use crate::sys::netlink::NetlinkError;

pub use cgroup::{attach_cgroup_legacy, cgroup2_mount_point, CGROUP2_SUPER_MAGIC};
pub use kprobe::attach_kprobe_tracefs;
pub use perf_event::counter_available;
pub use support::{probe_support, ProbeMechanism, ProbeSupport};
pub use target::{AttachApi, InterfaceMode, PerfCounter, PerfSampling, TcDirection, XdpMode};

/// What the program is: the facts [`attach`] dispatches on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttachProgramInfo {
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// `enum bpf_attach_type` the program was loaded with (0 when none).
    pub expected_attach_type: u32,
    /// The ELF section name, e.g. `kprobe/__x64_sys_execve` (may be empty).
    pub section: String,
    /// The program's name, used to name tc filters and tracefs probes.
    pub name: String,
}

/// Where to attach a program.
#[derive(Debug)]
pub enum AttachTarget {
    /// Whatever the section name says (`kprobe/FUNC`, `tracepoint/CAT/NAME`, the cgroup v2 root,
    /// the current network namespace, ...); tp_btf/fentry/fexit/lsm always use this.
    Auto,
    /// A kernel function for kprobe/kretprobe, optionally `name+offset`.
    KernelFunction(String),
    /// A user-space function: a symbol and/or a file offset in a binary or shared library,
    /// optionally only in one process.
    Uprobe {
        /// The executable or library file.
        binary: PathBuf,
        /// The function's symbol in `binary` (its dynamic or static symbol table).
        symbol: Option<String>,
        /// Added to the symbol's offset, or the whole file offset when there is no symbol.
        offset: u64,
        /// Only this process; every process mapping `binary` when `None`.
        pid: Option<i32>,
    },
    /// A tracefs tracepoint, `category/name` (`sched/sched_process_exec`).
    Tracepoint {
        /// The directory under `events/` (`sched`).
        category: String,
        /// The event (`sched_process_exec`).
        name: String,
    },
    /// A raw tracepoint by its name alone (`sched_switch`).
    RawTracepoint(String),
    /// A cgroup v2 directory.
    Cgroup(PathBuf),
    /// A network interface (XDP, tc, tcx).
    Interface {
        /// The interface's name (`eth0`, `lo`).
        name: String,
        /// Which kernel interface attaches it, the XDP mode and the tc direction.
        mode: InterfaceMode,
    },
    /// A socket for a socket filter; the link keeps this fd to detach the filter later.
    Socket(OwnedFd),
    /// A network namespace file such as `/proc/thread-self/ns/net` or `/run/netns/NAME` (sk_lookup,
    /// flow_dissector).
    NetNs(PathBuf),
    /// Software cpu-clock events on every online CPU (perf_event programs): the same as
    /// `PerfCounter(PerfCounter::CpuClock, sampling)`.
    PerfEvent(PerfSampling),
    /// A software or hardware counter on every online CPU (perf_event programs).
    PerfCounter(PerfCounter, PerfSampling),
    /// A sockmap or sockhash (sk_skb, sk_msg programs); the link keeps this fd.
    SockMap(OwnedFd),
}

/// Why a program could not be attached (or detached).
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// A system call failed; the message adds what its error number usually means here.
    #[error("{call} failed: {source}{}", errno_hint(source))]
    Syscall {
        /// The call (`BPF_LINK_CREATE`, `perf_event_open`...).
        call: &'static str,
        /// Its error.
        source: io::Error,
    },
    /// A hardware counter was asked for and the machine has no PMU that counts it (virtual
    /// machines often expose none).
    #[error(
        "this machine has no hardware counter for {} (perf_event_open of a \
         PERF_TYPE_HARDWARE event failed: {source}); software events such as cpu-clock work",
        counter.name()
    )]
    NoHardwareCounter {
        /// The counter asked for.
        counter: PerfCounter,
        /// perf_event_open's error (ENOENT, EOPNOTSUPP or ENODEV).
        source: io::Error,
    },
    /// A netlink request (legacy XDP, tc qdisc and filter) failed.
    #[error("{what} failed: {source}")]
    Netlink {
        /// The request (`adding the clsact qdisc`...).
        what: &'static str,
        /// The kernel's answer.
        source: NetlinkError,
    },
    /// Neither the kprobe PMU nor tracefs kprobe events exist on this kernel.
    #[error("this kernel has no kprobe support (CONFIG_KPROBES off)")]
    NoKprobeSupport,
    /// Neither the uprobe PMU nor tracefs uprobe events exist on this kernel.
    #[error("this kernel has no uprobe support (no uprobe PMU and no uprobe_events)")]
    NoUprobeSupport,
    /// Tracefs is needed (tracepoint ids, legacy probes) and could not be mounted.
    #[error("no tracefs: cannot mount it at /sys/kernel/tracing: {0}")]
    NoTracefs(#[source] io::Error),
    /// Tracefs has no such event.
    #[error("tracepoint {category}/{name} does not exist")]
    NoSuchTracepoint {
        /// The category asked for.
        category: String,
        /// The event asked for.
        name: String,
    },
    /// A cgroup program's target is not a directory of the cgroup v2 hierarchy.
    #[error("{path} is not a cgroup v2 directory{}", match mount {
        Some(m) => format!("; cgroup v2 is mounted at {}", m.display()),
        None => "; cgroup v2 is not mounted (mount -t cgroup2 none DIR)".to_owned(),
    })]
    NotCgroup2 {
        /// The directory given.
        path: PathBuf,
        /// Where cgroup v2 is mounted, when it is.
        mount: Option<PathBuf>,
    },
    /// No interface has this name (in the current network namespace).
    #[error("no network interface named `{name}`: {source}")]
    NoSuchInterface {
        /// The name given.
        name: String,
        /// The error of looking it up.
        source: io::Error,
    },
    /// A target file (cgroup directory, namespace file, binary) cannot be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Creating or removing a legacy probe through tracefs failed.
    #[error("cannot write {path}: {source}")]
    Tracefs {
        /// The tracefs file written (`kprobe_events`...).
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A uprobe's symbol cannot be found in the binary.
    #[error(transparent)]
    Symbol(#[from] ElfSymbolError),
    /// The target does not fit the program's section (an interface for a kprobe, say).
    #[error("section `{section}`: {problem}")]
    BadTarget {
        /// The program's section.
        section: String,
        /// What is wrong with the target.
        problem: String,
    },
    /// Pinning a link, or opening a pinned one, failed.
    #[error("pinning or opening the link pinned at {path}: {source}")]
    Pin {
        /// The bpffs path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The attachment is not a BPF link (a legacy or tracefs attachment), so it has no pin.
    #[error(
        "a {0:?} attachment has no BPF link fd (or uses a tracefs probe) and cannot be pinned"
    )]
    NotPinnable(crate::link::LinkKind),
    /// The program's type and section say no way to attach it.
    #[error("program `{name}` (type {prog_type}, section `{section}`) has no attach kind we know")]
    NotAttachable {
        /// The program's name.
        name: String,
        /// Its `enum bpf_prog_type` number.
        prog_type: u32,
        /// Its section.
        section: String,
    },
}

impl AttachError {
    /// True when the kernel lacks what was asked for (e.g. no kprobes), so that a caller can
    /// fall back to another mechanism.
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self,
            AttachError::NoKprobeSupport | AttachError::NoUprobeSupport
        )
    }

    pub(crate) fn syscall(call: &'static str, source: io::Error) -> AttachError {
        AttachError::Syscall { call, source }
    }

    fn bad_target(section: &str, problem: impl Into<String>) -> AttachError {
        AttachError::BadTarget {
            section: section.to_owned(),
            problem: problem.into(),
        }
    }
}

/// The kernel-internal "not supported" errno that leaks to user space from some paths.
const ENOTSUPP: i32 = 524;

/// Words for the errnos users meet when attaching.
fn errno_hint(error: &io::Error) -> &'static str {
    match error.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            " (needs root with CAP_BPF/CAP_PERFMON/CAP_NET_ADMIN, or the kernel's lockdown forbids it)"
        }
        Some(libc::EINVAL) => " (the kernel rejects this program type or attach type here)",
        Some(libc::EOPNOTSUPP) | Some(ENOTSUPP) => " (the kernel lacks this feature)",
        Some(libc::EEXIST) | Some(libc::EBUSY) => " (another program is already attached there)",
        Some(libc::ENOENT) => " (no such attach point)",
        _ => "",
    }
}

/// Attaches `prog` according to its type and section, at `target`.
///
/// `prog` is only borrowed: every link holds its own reference to the program in the kernel (or
/// a duplicate fd where a legacy detach needs it), so the caller may close its fd afterwards.
pub fn attach(
    prog: BorrowedFd<'_>,
    info: &AttachProgramInfo,
    target: AttachTarget,
) -> Result<Link, AttachError> {
    let name = section_name(info);
    let section = Section::parse(&name).ok_or_else(|| not_attachable(info))?;
    let target = match target {
        AttachTarget::Auto => AttachTarget::parse_for_section(&name, "")?,
        given => given,
    };
    let wrong = |expected: &str| {
        AttachError::bad_target(&info.section, format!("needs {expected}, not {target:?}"))
    };
    match (section.def.attach_kind, &target) {
        (AttachKind::Kprobe { retprobe }, AttachTarget::KernelFunction(function)) => {
            match multi::kprobe_set(info, function) {
                Some(set) => multi::attach_kprobes(prog, info, &set, retprobe),
                None => kprobe::attach(prog, info, function, retprobe),
            }
        }
        (
            AttachKind::Kprobe { retprobe } | AttachKind::Uprobe { retprobe },
            AttachTarget::Uprobe {
                binary,
                symbol,
                offset,
                pid,
            },
        ) => match multi::uprobe_set(info, symbol.as_deref()) {
            Some(_) if *offset != 0 => Err(wrong("no offset after a set of functions")),
            Some(set) => {
                let at = multi::UprobeSet {
                    binary,
                    set,
                    pid: *pid,
                };
                multi::attach_uprobes(prog, info, at, retprobe)
            }
            None => {
                let at = uprobe::UprobeLocation {
                    binary,
                    symbol: symbol.as_deref(),
                    offset: *offset,
                    pid: *pid,
                };
                uprobe::attach(prog, at, retprobe)
            }
        },
        (AttachKind::Kprobe { .. }, _) => Err(wrong("a kernel function")),
        (AttachKind::Uprobe { .. }, _) => Err(wrong("a binary and symbol")),
        (AttachKind::Tracepoint, AttachTarget::Tracepoint { category, name }) => {
            tracepoint::attach(prog, category, name)
        }
        (AttachKind::Tracepoint, _) => Err(wrong("a tracepoint CATEGORY/NAME")),
        (AttachKind::RawTracepoint, AttachTarget::RawTracepoint(name)) => {
            raw_tracepoint::attach(prog, name)
        }
        (AttachKind::RawTracepoint, _) => Err(wrong("a raw tracepoint name")),
        (AttachKind::Tracing, AttachTarget::Auto) => tracing::attach(prog, info, &section),
        (AttachKind::Tracing, _) => Err(wrong(
            "no target (the BTF id given at load time decides where it attaches)",
        )),
        (AttachKind::Xdp, AttachTarget::Interface { name, mode }) => xdp::attach(prog, name, *mode),
        (AttachKind::Tc | AttachKind::Tcx, AttachTarget::Interface { name, mode }) => {
            tc::attach(prog, info, &section, name, *mode)
        }
        (AttachKind::Xdp | AttachKind::Tc | AttachKind::Tcx, _) => Err(wrong("an interface")),
        (AttachKind::Cgroup, AttachTarget::Cgroup(path)) => {
            cgroup::attach(prog, attach_type_of(info, &section), path)
        }
        (AttachKind::Cgroup, _) => Err(wrong("a cgroup v2 directory")),
        (AttachKind::SocketFilter, AttachTarget::Socket(_)) => socket::attach_filter(prog, target),
        (AttachKind::SocketFilter, _) => Err(wrong("a socket fd (AttachTarget::Socket)")),
        (AttachKind::SockMap, AttachTarget::SockMap(_)) => {
            socket::attach_sockmap(prog, attach_type_of(info, &section), target)
        }
        (AttachKind::SockMap, _) => Err(wrong("a sockmap fd (AttachTarget::SockMap)")),
        (AttachKind::SkLookup | AttachKind::FlowDissector, AttachTarget::NetNs(path)) => {
            netns::attach(prog, attach_type_of(info, &section), path)
        }
        (AttachKind::SkLookup | AttachKind::FlowDissector, _) => {
            Err(wrong("a network namespace path"))
        }
        (AttachKind::PerfEvent, AttachTarget::PerfEvent(sampling)) => {
            perf_event::attach_sampling(prog, PerfCounter::CpuClock, *sampling)
        }
        (AttachKind::PerfEvent, AttachTarget::PerfCounter(counter, sampling)) => {
            perf_event::attach_sampling(prog, *counter, *sampling)
        }
        (AttachKind::PerfEvent, _) => Err(wrong("a sampling frequency or period")),
        (AttachKind::None, _) => Err(not_attachable(info)),
    }
}

fn not_attachable(info: &AttachProgramInfo) -> AttachError {
    AttachError::NotAttachable {
        name: info.name.clone(),
        prog_type: info.prog_type,
        section: info.section.clone(),
    }
}

/// The section name to interpret: the program's own when it names the program's type, else the
/// type's default section (no section, a section we do not know, or a type given explicitly
/// over the section's).
fn section_name(info: &AttachProgramInfo) -> String {
    let own = Section::parse(&info.section);
    if own.is_some_and(|s| info.prog_type == 0 || s.def.program_type as u32 == info.prog_type) {
        return info.section.clone();
    }
    ProgramType::from_u32(info.prog_type)
        .map(whistler_bpf::section::default_section)
        .unwrap_or_default()
        .to_owned()
}

/// BPF_LINK_CREATE with no attach-type-specific data. `target` is an fd (cgroup, netns, perf
/// event) as a number, an interface index (XDP, tcx), or 0 (tracing programs).
pub(crate) fn link_create(
    prog: BorrowedFd<'_>,
    target: u32,
    attach_type: u32,
    flags: u32,
) -> io::Result<OwnedFd> {
    bpf::link_create(&bpf::LinkCreate {
        prog,
        target_fd_or_ifindex: target,
        attach_type,
        flags,
        extra: bpf::LinkExtra::None,
    })
}

/// BPF_PROG_ATTACH of `prog` to `target` with `flags` (`call` names the attempt in errors), as a
/// link that undoes it with BPF_PROG_DETACH when dropped; the link keeps `target` and a duplicate
/// of `prog` for that.
pub(crate) fn prog_attach(
    prog: BorrowedFd<'_>,
    target: OwnedFd,
    attach_type: u32,
    flags: u32,
    call: &'static str,
) -> Result<Link, AttachError> {
    bpf::prog_attach(target.as_fd(), prog, attach_type, flags, None)
        .map_err(|e| AttachError::syscall(call, e))?;
    let prog = prog
        .try_clone_to_owned()
        .map_err(|e| AttachError::syscall("dup", e))?;
    Ok(Link::new(crate::link::Attachment::ProgAttach {
        target,
        prog,
        attach_type,
    }))
}

/// An fd as BPF_LINK_CREATE's target number.
pub(crate) fn fd_target(fd: BorrowedFd<'_>) -> u32 {
    fd.as_raw_fd() as u32
}

/// The attach type: the one the program was loaded with, else the section's.
fn attach_type_of(info: &AttachProgramInfo, section: &Section<'_>) -> u32 {
    if info.expected_attach_type != 0 {
        return info.expected_attach_type;
    }
    section.def.expected_attach_type.map_or(0, |t| t as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(prog_type: ProgramType, section: &str) -> AttachProgramInfo {
        AttachProgramInfo {
            prog_type: prog_type as u32,
            section: section.to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn the_section_is_read_only_when_it_names_the_programs_type() {
        assert_eq!(
            section_name(&info(ProgramType::KPROBE, "uprobe/x")),
            "uprobe/x"
        );
        assert_eq!(section_name(&info(ProgramType::XDP, "")), "xdp");
        assert_eq!(
            section_name(&info(ProgramType::SCHED_CLS, "my_filter")),
            "tc"
        );
        assert_eq!(
            section_name(&info(ProgramType::SOCKET_FILTER, "xdp")),
            "socket"
        );
    }
}
