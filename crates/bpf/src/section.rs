//! libbpf's section-name conventions: which program type, expected attach type and attach kind a
//! section such as `kprobe/__x64_sys_execve` or `cgroup_skb/egress` stands for, and the default
//! section of a program type.

use crate::types::{AttachType, ProgramType};

/// How a program of a section is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttachKind {
    Kprobe {
        retprobe: bool,
    },
    Uprobe {
        retprobe: bool,
    },
    Tracepoint,
    RawTracepoint,
    /// tp_btf, fentry, fexit, fmod_ret, lsm, iter: a BPF link on the BTF id given at load time.
    Tracing,
    Xdp,
    /// `tc`/`classifier`: clsact qdisc + cls_bpf filter (or tcx when the kernel has it).
    Tc,
    /// `tcx/ingress`, `tcx/egress`, `tc/ingress`, `tc/egress`.
    Tcx,
    /// Attached to a cgroup with the section's expected attach type.
    Cgroup,
    SocketFilter,
    SkLookup,
    PerfEvent,
    /// sk_skb / sk_msg programs attach to a sockmap/sockhash.
    SockMap,
    FlowDissector,
    /// Programs that are only run (syscall) or that this table cannot attach.
    None,
}

/// What a section name means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionDef {
    /// The section or section prefix as libbpf spells it.
    pub name: &'static str,
    pub program_type: ProgramType,
    pub expected_attach_type: Option<AttachType>,
    pub attach_kind: AttachKind,
    /// True when the name may be followed by `/target` (libbpf's `+`).
    pub takes_target: bool,
}

const fn def(
    name: &'static str,
    program_type: ProgramType,
    expected_attach_type: Option<AttachType>,
    attach_kind: AttachKind,
    takes_target: bool,
) -> SectionDef {
    SectionDef {
        name,
        program_type,
        expected_attach_type,
        attach_kind,
        takes_target,
    }
}

use AttachKind as K;
use AttachType as A;
use ProgramType as P;

/// The table, most specific entries first.
pub static SECTIONS: &[SectionDef] = &[
    def("socket", P::SOCKET_FILTER, None, K::SocketFilter, true),
    def(
        "sk_reuseport/migrate",
        P::SK_REUSEPORT,
        Some(A::SK_REUSEPORT_SELECT_OR_MIGRATE),
        K::None,
        false,
    ),
    def(
        "sk_reuseport",
        P::SK_REUSEPORT,
        Some(A::SK_REUSEPORT_SELECT),
        K::None,
        false,
    ),
    def(
        "kprobe",
        P::KPROBE,
        None,
        K::Kprobe { retprobe: false },
        true,
    ),
    def(
        "kretprobe",
        P::KPROBE,
        None,
        K::Kprobe { retprobe: true },
        true,
    ),
    def(
        "uprobe",
        P::KPROBE,
        None,
        K::Uprobe { retprobe: false },
        true,
    ),
    def(
        "uprobe.s",
        P::KPROBE,
        None,
        K::Uprobe { retprobe: false },
        true,
    ),
    def(
        "uretprobe",
        P::KPROBE,
        None,
        K::Uprobe { retprobe: true },
        true,
    ),
    def(
        "uretprobe.s",
        P::KPROBE,
        None,
        K::Uprobe { retprobe: true },
        true,
    ),
    def(
        "kprobe.multi",
        P::KPROBE,
        Some(A::TRACE_KPROBE_MULTI),
        K::Kprobe { retprobe: false },
        true,
    ),
    def(
        "kretprobe.multi",
        P::KPROBE,
        Some(A::TRACE_KPROBE_MULTI),
        K::Kprobe { retprobe: true },
        true,
    ),
    def(
        "uprobe.multi",
        P::KPROBE,
        Some(A::TRACE_UPROBE_MULTI),
        K::Uprobe { retprobe: false },
        true,
    ),
    def(
        "uprobe.multi.s",
        P::KPROBE,
        Some(A::TRACE_UPROBE_MULTI),
        K::Uprobe { retprobe: false },
        true,
    ),
    def(
        "uretprobe.multi",
        P::KPROBE,
        Some(A::TRACE_UPROBE_MULTI),
        K::Uprobe { retprobe: true },
        true,
    ),
    def(
        "uretprobe.multi.s",
        P::KPROBE,
        Some(A::TRACE_UPROBE_MULTI),
        K::Uprobe { retprobe: true },
        true,
    ),
    def(
        "tc/ingress",
        P::SCHED_CLS,
        Some(A::TCX_INGRESS),
        K::Tcx,
        false,
    ),
    def(
        "tc/egress",
        P::SCHED_CLS,
        Some(A::TCX_EGRESS),
        K::Tcx,
        false,
    ),
    def(
        "tcx/ingress",
        P::SCHED_CLS,
        Some(A::TCX_INGRESS),
        K::Tcx,
        false,
    ),
    def(
        "tcx/egress",
        P::SCHED_CLS,
        Some(A::TCX_EGRESS),
        K::Tcx,
        false,
    ),
    def("tc", P::SCHED_CLS, None, K::Tc, true),
    def("classifier", P::SCHED_CLS, None, K::Tc, true),
    def("action", P::SCHED_ACT, None, K::None, true),
    def("tracepoint", P::TRACEPOINT, None, K::Tracepoint, true),
    def("tp", P::TRACEPOINT, None, K::Tracepoint, true),
    def(
        "raw_tracepoint",
        P::RAW_TRACEPOINT,
        None,
        K::RawTracepoint,
        true,
    ),
    def("raw_tp", P::RAW_TRACEPOINT, None, K::RawTracepoint, true),
    def(
        "raw_tracepoint.w",
        P::RAW_TRACEPOINT_WRITABLE,
        None,
        K::RawTracepoint,
        true,
    ),
    def(
        "raw_tp.w",
        P::RAW_TRACEPOINT_WRITABLE,
        None,
        K::RawTracepoint,
        true,
    ),
    def(
        "tp_btf",
        P::TRACING,
        Some(A::TRACE_RAW_TP),
        K::Tracing,
        true,
    ),
    def(
        "fentry",
        P::TRACING,
        Some(A::TRACE_FENTRY),
        K::Tracing,
        true,
    ),
    def(
        "fentry.s",
        P::TRACING,
        Some(A::TRACE_FENTRY),
        K::Tracing,
        true,
    ),
    def(
        "fmod_ret",
        P::TRACING,
        Some(A::MODIFY_RETURN),
        K::Tracing,
        true,
    ),
    def("fexit", P::TRACING, Some(A::TRACE_FEXIT), K::Tracing, true),
    def(
        "fexit.s",
        P::TRACING,
        Some(A::TRACE_FEXIT),
        K::Tracing,
        true,
    ),
    def("freplace", P::EXT, None, K::None, true),
    def("lsm", P::LSM, Some(A::LSM_MAC), K::Tracing, true),
    def("lsm.s", P::LSM, Some(A::LSM_MAC), K::Tracing, true),
    def("lsm_cgroup", P::LSM, Some(A::LSM_CGROUP), K::Cgroup, true),
    def("iter", P::TRACING, Some(A::TRACE_ITER), K::Tracing, true),
    def("syscall", P::SYSCALL, None, K::None, false),
    def("xdp/devmap", P::XDP, Some(A::XDP_DEVMAP), K::None, false),
    def("xdp/cpumap", P::XDP, Some(A::XDP_CPUMAP), K::None, false),
    def("xdp.frags", P::XDP, Some(A::XDP), K::Xdp, false),
    def("xdp", P::XDP, Some(A::XDP), K::Xdp, true),
    def("perf_event", P::PERF_EVENT, None, K::PerfEvent, false),
    def("lwt_in", P::LWT_IN, None, K::None, false),
    def("lwt_out", P::LWT_OUT, None, K::None, false),
    def("lwt_xmit", P::LWT_XMIT, None, K::None, false),
    def("lwt_seg6local", P::LWT_SEG6LOCAL, None, K::None, false),
    def(
        "sockops",
        P::SOCK_OPS,
        Some(A::CGROUP_SOCK_OPS),
        K::Cgroup,
        false,
    ),
    def(
        "sk_skb/stream_parser",
        P::SK_SKB,
        Some(A::SK_SKB_STREAM_PARSER),
        K::SockMap,
        false,
    ),
    def(
        "sk_skb/stream_verdict",
        P::SK_SKB,
        Some(A::SK_SKB_STREAM_VERDICT),
        K::SockMap,
        false,
    ),
    def("sk_skb", P::SK_SKB, None, K::SockMap, true),
    def(
        "sk_msg",
        P::SK_MSG,
        Some(A::SK_MSG_VERDICT),
        K::SockMap,
        false,
    ),
    def(
        "lirc_mode2",
        P::LIRC_MODE2,
        Some(A::LIRC_MODE2),
        K::None,
        false,
    ),
    def(
        "flow_dissector",
        P::FLOW_DISSECTOR,
        Some(A::FLOW_DISSECTOR),
        K::FlowDissector,
        false,
    ),
    def(
        "cgroup_skb/ingress",
        P::CGROUP_SKB,
        Some(A::CGROUP_INET_INGRESS),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup_skb/egress",
        P::CGROUP_SKB,
        Some(A::CGROUP_INET_EGRESS),
        K::Cgroup,
        false,
    ),
    def("cgroup/skb", P::CGROUP_SKB, None, K::Cgroup, false),
    def(
        "cgroup/sock_create",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET_SOCK_CREATE),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/sock_release",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET_SOCK_RELEASE),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/sock",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET_SOCK_CREATE),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/post_bind4",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET4_POST_BIND),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/post_bind6",
        P::CGROUP_SOCK,
        Some(A::CGROUP_INET6_POST_BIND),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/bind4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET4_BIND),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/bind6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET6_BIND),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/connect4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET4_CONNECT),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/connect6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET6_CONNECT),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/sendmsg4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UDP4_SENDMSG),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/sendmsg6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UDP6_SENDMSG),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/recvmsg4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UDP4_RECVMSG),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/recvmsg6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_UDP6_RECVMSG),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/getpeername4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET4_GETPEERNAME),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/getpeername6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET6_GETPEERNAME),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/getsockname4",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET4_GETSOCKNAME),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/getsockname6",
        P::CGROUP_SOCK_ADDR,
        Some(A::CGROUP_INET6_GETSOCKNAME),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/sysctl",
        P::CGROUP_SYSCTL,
        Some(A::CGROUP_SYSCTL),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/getsockopt",
        P::CGROUP_SOCKOPT,
        Some(A::CGROUP_GETSOCKOPT),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/setsockopt",
        P::CGROUP_SOCKOPT,
        Some(A::CGROUP_SETSOCKOPT),
        K::Cgroup,
        false,
    ),
    def(
        "cgroup/dev",
        P::CGROUP_DEVICE,
        Some(A::CGROUP_DEVICE),
        K::Cgroup,
        false,
    ),
    def("struct_ops", P::STRUCT_OPS, None, K::None, true),
    def(
        "sk_lookup",
        P::SK_LOOKUP,
        Some(A::SK_LOOKUP),
        K::SkLookup,
        false,
    ),
];

/// A section name resolved against the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section<'a> {
    pub def: &'static SectionDef,
    /// What follows `prefix/`, e.g. `__x64_sys_execve` in `kprobe/__x64_sys_execve`; empty when
    /// the section names no target.
    pub target: &'a str,
}

impl<'a> Section<'a> {
    /// Resolves a section name the way libbpf does: an exact match, or `name/...` for entries
    /// that take a target.
    pub fn parse(section: &'a str) -> Option<Section<'a>> {
        SECTIONS.iter().find_map(|def| {
            if section == def.name {
                return Some(Section { def, target: "" });
            }
            let rest = section.strip_prefix(def.name)?.strip_prefix('/')?;
            def.takes_target.then_some(Section { def, target: rest })
        })
    }
}

/// The section a program of this type gets when its definition names none.
pub fn default_section(program_type: ProgramType) -> &'static str {
    match program_type {
        P::SOCKET_FILTER => "socket",
        P::KPROBE => "kprobe",
        P::SCHED_CLS => "tc",
        P::SCHED_ACT => "action",
        P::TRACEPOINT => "tracepoint",
        P::XDP => "xdp",
        P::PERF_EVENT => "perf_event",
        P::CGROUP_SKB => "cgroup/skb",
        P::CGROUP_SOCK => "cgroup/sock",
        P::LWT_IN => "lwt_in",
        P::LWT_OUT => "lwt_out",
        P::LWT_XMIT => "lwt_xmit",
        P::SOCK_OPS => "sockops",
        P::SK_SKB => "sk_skb",
        P::CGROUP_DEVICE => "cgroup/dev",
        P::SK_MSG => "sk_msg",
        P::RAW_TRACEPOINT => "raw_tracepoint",
        P::CGROUP_SOCK_ADDR => "cgroup/connect4",
        P::LWT_SEG6LOCAL => "lwt_seg6local",
        P::LIRC_MODE2 => "lirc_mode2",
        P::SK_REUSEPORT => "sk_reuseport",
        P::FLOW_DISSECTOR => "flow_dissector",
        P::CGROUP_SYSCTL => "cgroup/sysctl",
        P::RAW_TRACEPOINT_WRITABLE => "raw_tracepoint.w",
        P::CGROUP_SOCKOPT => "cgroup/getsockopt",
        P::TRACING => "fentry",
        P::STRUCT_OPS => "struct_ops",
        P::EXT => "freplace",
        P::LSM => "lsm",
        P::SK_LOOKUP => "sk_lookup",
        P::SYSCALL => "syscall",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_libbpf() {
        let s = Section::parse("kprobe/__x64_sys_execve").unwrap();
        assert_eq!(s.def.program_type, P::KPROBE);
        assert_eq!(s.target, "__x64_sys_execve");
        let s = Section::parse("cgroup_skb/egress").unwrap();
        assert_eq!(s.def.expected_attach_type, Some(A::CGROUP_INET_EGRESS));
        assert_eq!(Section::parse("xdp").unwrap().def.attach_kind, K::Xdp);
        assert_eq!(
            Section::parse("tracepoint/sched/sched_process_exec")
                .unwrap()
                .target,
            "sched/sched_process_exec"
        );
        assert_eq!(
            Section::parse("uretprobe//bin/true:main")
                .unwrap()
                .def
                .attach_kind,
            K::Uprobe { retprobe: true }
        );
        assert_eq!(
            Section::parse("sockops").unwrap().def.program_type,
            P::SOCK_OPS
        );
        assert_eq!(
            Section::parse("classifier").unwrap().def.program_type,
            P::SCHED_CLS
        );
        let s = Section::parse("kretprobe.multi/vfs_*").unwrap();
        assert_eq!(s.def.attach_kind, K::Kprobe { retprobe: true });
        assert_eq!(s.def.expected_attach_type, Some(A::TRACE_KPROBE_MULTI));
        assert_eq!(s.target, "vfs_*");
        let s = Section::parse("uprobe.multi.s//bin/bash:read*").unwrap();
        assert_eq!(s.def.attach_kind, K::Uprobe { retprobe: false });
        assert_eq!(s.def.expected_attach_type, Some(A::TRACE_UPROBE_MULTI));
        assert_eq!(s.target, "/bin/bash:read*");
        assert!(Section::parse("sk_lookup/x").is_none());
        assert!(Section::parse("nonsense").is_none());
        for t in ProgramType::ALL {
            let sec = default_section(*t);
            assert_eq!(
                Section::parse(sec).map(|s| s.def.program_type),
                Some(*t),
                "{sec}"
            );
        }
    }
}
