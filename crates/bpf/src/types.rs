//! Program, map, attach and CO-RE relocation kinds with the kernel's numbers (`enum bpf_prog_type`,
//! `enum bpf_map_type`, `enum bpf_attach_type`, `enum bpf_core_relo_kind`) and their Lisp keyword names.

macro_rules! kernel_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $num:expr, $kernel:literal, [$($lisp:literal),*];)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types)] // variants keep the kernel's spelling
        #[repr(u32)]
        pub enum $name { $($variant = $num,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The kernel's name, e.g. `BPF_PROG_TYPE_XDP`.
            pub fn kernel_name(self) -> &'static str {
                match self { $($name::$variant => $kernel,)* }
            }
            /// Lisp keyword names (without the colon), the first being the preferred one.
            pub fn lisp_names(self) -> &'static [&'static str] {
                match self { $($name::$variant => &[$($lisp),*],)* }
            }
            /// Parses a Lisp keyword name (`cgroup-skb`, `cgroup_skb` and `CGROUP-SKB` all work).
            pub fn from_lisp_name(name: &str) -> Option<$name> {
                let name = name.to_ascii_lowercase().replace('_', "-");
                Self::ALL.iter().copied().find(|t| t.lisp_names().contains(&name.as_str()))
            }
            pub fn from_u32(n: u32) -> Option<$name> {
                Self::ALL.iter().copied().find(|t| *t as u32 == n)
            }
        }
    };
}

kernel_enum! {
    /// `enum bpf_prog_type`.
    ProgramType {
        SOCKET_FILTER = 1, "BPF_PROG_TYPE_SOCKET_FILTER", ["socket-filter", "socket"];
        KPROBE = 2, "BPF_PROG_TYPE_KPROBE", ["kprobe", "kretprobe", "uprobe", "uretprobe"];
        SCHED_CLS = 3, "BPF_PROG_TYPE_SCHED_CLS", ["sched-cls", "tc", "classifier", "tcx"];
        SCHED_ACT = 4, "BPF_PROG_TYPE_SCHED_ACT", ["sched-act", "action"];
        TRACEPOINT = 5, "BPF_PROG_TYPE_TRACEPOINT", ["tracepoint", "tp"];
        XDP = 6, "BPF_PROG_TYPE_XDP", ["xdp"];
        PERF_EVENT = 7, "BPF_PROG_TYPE_PERF_EVENT", ["perf-event"];
        CGROUP_SKB = 8, "BPF_PROG_TYPE_CGROUP_SKB", ["cgroup-skb"];
        CGROUP_SOCK = 9, "BPF_PROG_TYPE_CGROUP_SOCK", ["cgroup-sock"];
        LWT_IN = 10, "BPF_PROG_TYPE_LWT_IN", ["lwt-in"];
        LWT_OUT = 11, "BPF_PROG_TYPE_LWT_OUT", ["lwt-out"];
        LWT_XMIT = 12, "BPF_PROG_TYPE_LWT_XMIT", ["lwt-xmit"];
        SOCK_OPS = 13, "BPF_PROG_TYPE_SOCK_OPS", ["sock-ops", "sockops"];
        SK_SKB = 14, "BPF_PROG_TYPE_SK_SKB", ["sk-skb"];
        CGROUP_DEVICE = 15, "BPF_PROG_TYPE_CGROUP_DEVICE", ["cgroup-device"];
        SK_MSG = 16, "BPF_PROG_TYPE_SK_MSG", ["sk-msg"];
        RAW_TRACEPOINT = 17, "BPF_PROG_TYPE_RAW_TRACEPOINT", ["raw-tracepoint", "raw-tp"];
        CGROUP_SOCK_ADDR = 18, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR", ["cgroup-sock-addr"];
        LWT_SEG6LOCAL = 19, "BPF_PROG_TYPE_LWT_SEG6LOCAL", ["lwt-seg6local"];
        LIRC_MODE2 = 20, "BPF_PROG_TYPE_LIRC_MODE2", ["lirc-mode2"];
        SK_REUSEPORT = 21, "BPF_PROG_TYPE_SK_REUSEPORT", ["sk-reuseport"];
        FLOW_DISSECTOR = 22, "BPF_PROG_TYPE_FLOW_DISSECTOR", ["flow-dissector"];
        CGROUP_SYSCTL = 23, "BPF_PROG_TYPE_CGROUP_SYSCTL", ["cgroup-sysctl"];
        RAW_TRACEPOINT_WRITABLE = 24, "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE", ["raw-tracepoint-writable"];
        CGROUP_SOCKOPT = 25, "BPF_PROG_TYPE_CGROUP_SOCKOPT", ["cgroup-sockopt"];
        TRACING = 26, "BPF_PROG_TYPE_TRACING", ["tracing", "fentry", "fexit", "tp-btf", "fmod-ret", "iter"];
        STRUCT_OPS = 27, "BPF_PROG_TYPE_STRUCT_OPS", ["struct-ops"];
        EXT = 28, "BPF_PROG_TYPE_EXT", ["ext", "freplace"];
        LSM = 29, "BPF_PROG_TYPE_LSM", ["lsm"];
        SK_LOOKUP = 30, "BPF_PROG_TYPE_SK_LOOKUP", ["sk-lookup"];
        SYSCALL = 31, "BPF_PROG_TYPE_SYSCALL", ["syscall"];
    }
}

impl ProgramType {
    /// True when the program's result is the `int` of the kernel function it stands in for and
    /// the kernel reads only its low 32 bits: the trampoline of an LSM hook hands the hook's
    /// caller an `int`, and the verifier checks the return range on the low 32 bits. Programs
    /// whose result the verifier range-checks on all 64 bits (cgroup, fentry/fexit) are not.
    pub fn returns_int(self) -> bool {
        matches!(self, ProgramType::LSM)
    }
}

kernel_enum! {
    /// `enum bpf_map_type`.
    MapType {
        HASH = 1, "BPF_MAP_TYPE_HASH", ["hash"];
        ARRAY = 2, "BPF_MAP_TYPE_ARRAY", ["array"];
        PROG_ARRAY = 3, "BPF_MAP_TYPE_PROG_ARRAY", ["prog-array"];
        PERF_EVENT_ARRAY = 4, "BPF_MAP_TYPE_PERF_EVENT_ARRAY", ["perf-event-array"];
        PERCPU_HASH = 5, "BPF_MAP_TYPE_PERCPU_HASH", ["percpu-hash"];
        PERCPU_ARRAY = 6, "BPF_MAP_TYPE_PERCPU_ARRAY", ["percpu-array"];
        STACK_TRACE = 7, "BPF_MAP_TYPE_STACK_TRACE", ["stack-trace"];
        CGROUP_ARRAY = 8, "BPF_MAP_TYPE_CGROUP_ARRAY", ["cgroup-array"];
        LRU_HASH = 9, "BPF_MAP_TYPE_LRU_HASH", ["lru-hash"];
        LRU_PERCPU_HASH = 10, "BPF_MAP_TYPE_LRU_PERCPU_HASH", ["lru-percpu-hash"];
        LPM_TRIE = 11, "BPF_MAP_TYPE_LPM_TRIE", ["lpm-trie"];
        ARRAY_OF_MAPS = 12, "BPF_MAP_TYPE_ARRAY_OF_MAPS", ["array-of-maps"];
        HASH_OF_MAPS = 13, "BPF_MAP_TYPE_HASH_OF_MAPS", ["hash-of-maps"];
        DEVMAP = 14, "BPF_MAP_TYPE_DEVMAP", ["devmap"];
        SOCKMAP = 15, "BPF_MAP_TYPE_SOCKMAP", ["sockmap"];
        CPUMAP = 16, "BPF_MAP_TYPE_CPUMAP", ["cpumap"];
        XSKMAP = 17, "BPF_MAP_TYPE_XSKMAP", ["xskmap"];
        SOCKHASH = 18, "BPF_MAP_TYPE_SOCKHASH", ["sockhash"];
        CGROUP_STORAGE = 19, "BPF_MAP_TYPE_CGROUP_STORAGE", ["cgroup-storage"];
        REUSEPORT_SOCKARRAY = 20, "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY", ["reuseport-sockarray"];
        PERCPU_CGROUP_STORAGE = 21, "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE", ["percpu-cgroup-storage"];
        QUEUE = 22, "BPF_MAP_TYPE_QUEUE", ["queue"];
        STACK = 23, "BPF_MAP_TYPE_STACK", ["stack"];
        SK_STORAGE = 24, "BPF_MAP_TYPE_SK_STORAGE", ["sk-storage"];
        DEVMAP_HASH = 25, "BPF_MAP_TYPE_DEVMAP_HASH", ["devmap-hash"];
        STRUCT_OPS = 26, "BPF_MAP_TYPE_STRUCT_OPS", ["struct-ops"];
        RINGBUF = 27, "BPF_MAP_TYPE_RINGBUF", ["ringbuf"];
        INODE_STORAGE = 28, "BPF_MAP_TYPE_INODE_STORAGE", ["inode-storage"];
        TASK_STORAGE = 29, "BPF_MAP_TYPE_TASK_STORAGE", ["task-storage"];
        BLOOM_FILTER = 30, "BPF_MAP_TYPE_BLOOM_FILTER", ["bloom-filter"];
        USER_RINGBUF = 31, "BPF_MAP_TYPE_USER_RINGBUF", ["user-ringbuf"];
        CGRP_STORAGE = 32, "BPF_MAP_TYPE_CGRP_STORAGE", ["cgrp-storage"];
    }
}

impl MapType {
    /// Per-CPU maps hold one value per possible CPU.
    pub fn is_per_cpu(self) -> bool {
        matches!(
            self,
            MapType::PERCPU_HASH
                | MapType::PERCPU_ARRAY
                | MapType::LRU_PERCPU_HASH
                | MapType::PERCPU_CGROUP_STORAGE
        )
    }
    /// Maps without keys (ring buffers, queues, stacks, bloom filters).
    pub fn is_keyless(self) -> bool {
        matches!(
            self,
            MapType::RINGBUF
                | MapType::USER_RINGBUF
                | MapType::QUEUE
                | MapType::STACK
                | MapType::BLOOM_FILTER
        )
    }
    /// Array-like maps: every key in `0..max_entries` exists.
    pub fn is_array(self) -> bool {
        matches!(self, MapType::ARRAY | MapType::PERCPU_ARRAY)
    }
}

kernel_enum! {
    /// `enum bpf_attach_type` (with the newer numbers the 6.1 headers lack).
    AttachType {
        CGROUP_INET_INGRESS = 0, "BPF_CGROUP_INET_INGRESS", ["cgroup-inet-ingress"];
        CGROUP_INET_EGRESS = 1, "BPF_CGROUP_INET_EGRESS", ["cgroup-inet-egress"];
        CGROUP_INET_SOCK_CREATE = 2, "BPF_CGROUP_INET_SOCK_CREATE", ["cgroup-inet-sock-create"];
        CGROUP_SOCK_OPS = 3, "BPF_CGROUP_SOCK_OPS", ["cgroup-sock-ops"];
        SK_SKB_STREAM_PARSER = 4, "BPF_SK_SKB_STREAM_PARSER", ["sk-skb-stream-parser"];
        SK_SKB_STREAM_VERDICT = 5, "BPF_SK_SKB_STREAM_VERDICT", ["sk-skb-stream-verdict"];
        CGROUP_DEVICE = 6, "BPF_CGROUP_DEVICE", ["cgroup-device"];
        SK_MSG_VERDICT = 7, "BPF_SK_MSG_VERDICT", ["sk-msg-verdict"];
        CGROUP_INET4_BIND = 8, "BPF_CGROUP_INET4_BIND", ["cgroup-inet4-bind"];
        CGROUP_INET6_BIND = 9, "BPF_CGROUP_INET6_BIND", ["cgroup-inet6-bind"];
        CGROUP_INET4_CONNECT = 10, "BPF_CGROUP_INET4_CONNECT", ["cgroup-inet4-connect"];
        CGROUP_INET6_CONNECT = 11, "BPF_CGROUP_INET6_CONNECT", ["cgroup-inet6-connect"];
        CGROUP_INET4_POST_BIND = 12, "BPF_CGROUP_INET4_POST_BIND", ["cgroup-inet4-post-bind"];
        CGROUP_INET6_POST_BIND = 13, "BPF_CGROUP_INET6_POST_BIND", ["cgroup-inet6-post-bind"];
        CGROUP_UDP4_SENDMSG = 14, "BPF_CGROUP_UDP4_SENDMSG", ["cgroup-udp4-sendmsg"];
        CGROUP_UDP6_SENDMSG = 15, "BPF_CGROUP_UDP6_SENDMSG", ["cgroup-udp6-sendmsg"];
        LIRC_MODE2 = 16, "BPF_LIRC_MODE2", ["lirc-mode2"];
        FLOW_DISSECTOR = 17, "BPF_FLOW_DISSECTOR", ["flow-dissector"];
        CGROUP_SYSCTL = 18, "BPF_CGROUP_SYSCTL", ["cgroup-sysctl"];
        CGROUP_UDP4_RECVMSG = 19, "BPF_CGROUP_UDP4_RECVMSG", ["cgroup-udp4-recvmsg"];
        CGROUP_UDP6_RECVMSG = 20, "BPF_CGROUP_UDP6_RECVMSG", ["cgroup-udp6-recvmsg"];
        CGROUP_GETSOCKOPT = 21, "BPF_CGROUP_GETSOCKOPT", ["cgroup-getsockopt"];
        CGROUP_SETSOCKOPT = 22, "BPF_CGROUP_SETSOCKOPT", ["cgroup-setsockopt"];
        TRACE_RAW_TP = 23, "BPF_TRACE_RAW_TP", ["trace-raw-tp"];
        TRACE_FENTRY = 24, "BPF_TRACE_FENTRY", ["trace-fentry"];
        TRACE_FEXIT = 25, "BPF_TRACE_FEXIT", ["trace-fexit"];
        MODIFY_RETURN = 26, "BPF_MODIFY_RETURN", ["modify-return"];
        LSM_MAC = 27, "BPF_LSM_MAC", ["lsm-mac"];
        TRACE_ITER = 28, "BPF_TRACE_ITER", ["trace-iter"];
        CGROUP_INET4_GETPEERNAME = 29, "BPF_CGROUP_INET4_GETPEERNAME", ["cgroup-inet4-getpeername"];
        CGROUP_INET6_GETPEERNAME = 30, "BPF_CGROUP_INET6_GETPEERNAME", ["cgroup-inet6-getpeername"];
        CGROUP_INET4_GETSOCKNAME = 31, "BPF_CGROUP_INET4_GETSOCKNAME", ["cgroup-inet4-getsockname"];
        CGROUP_INET6_GETSOCKNAME = 32, "BPF_CGROUP_INET6_GETSOCKNAME", ["cgroup-inet6-getsockname"];
        XDP_DEVMAP = 33, "BPF_XDP_DEVMAP", ["xdp-devmap"];
        CGROUP_INET_SOCK_RELEASE = 34, "BPF_CGROUP_INET_SOCK_RELEASE", ["cgroup-inet-sock-release"];
        XDP_CPUMAP = 35, "BPF_XDP_CPUMAP", ["xdp-cpumap"];
        SK_LOOKUP = 36, "BPF_SK_LOOKUP", ["sk-lookup"];
        XDP = 37, "BPF_XDP", ["xdp"];
        SK_SKB_VERDICT = 38, "BPF_SK_SKB_VERDICT", ["sk-skb-verdict"];
        SK_REUSEPORT_SELECT = 39, "BPF_SK_REUSEPORT_SELECT", ["sk-reuseport-select"];
        SK_REUSEPORT_SELECT_OR_MIGRATE = 40, "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE", ["sk-reuseport-select-or-migrate"];
        PERF_EVENT = 41, "BPF_PERF_EVENT", ["perf-event"];
        TRACE_KPROBE_MULTI = 42, "BPF_TRACE_KPROBE_MULTI", ["trace-kprobe-multi"];
        LSM_CGROUP = 43, "BPF_LSM_CGROUP", ["lsm-cgroup"];
        STRUCT_OPS = 44, "BPF_STRUCT_OPS", ["struct-ops"];
        NETFILTER = 45, "BPF_NETFILTER", ["netfilter"];
        TCX_INGRESS = 46, "BPF_TCX_INGRESS", ["tcx-ingress"];
        TCX_EGRESS = 47, "BPF_TCX_EGRESS", ["tcx-egress"];
        TRACE_UPROBE_MULTI = 48, "BPF_TRACE_UPROBE_MULTI", ["trace-uprobe-multi"];
    }
}

kernel_enum! {
    /// `enum bpf_core_relo_kind`: what a CO-RE relocation asks of the running kernel's BTF.
    CoreKind {
        FIELD_BYTE_OFFSET = 0, "BPF_CORE_FIELD_BYTE_OFFSET", ["field-byte-offset"];
        FIELD_BYTE_SIZE = 1, "BPF_CORE_FIELD_BYTE_SIZE", ["field-byte-size"];
        FIELD_EXISTS = 2, "BPF_CORE_FIELD_EXISTS", ["field-exists"];
        FIELD_SIGNED = 3, "BPF_CORE_FIELD_SIGNED", ["field-signed"];
        FIELD_LSHIFT_U64 = 4, "BPF_CORE_FIELD_LSHIFT_U64", ["field-lshift-u64"];
        FIELD_RSHIFT_U64 = 5, "BPF_CORE_FIELD_RSHIFT_U64", ["field-rshift-u64"];
        TYPE_ID_LOCAL = 6, "BPF_CORE_TYPE_ID_LOCAL", ["type-id-local"];
        TYPE_ID_TARGET = 7, "BPF_CORE_TYPE_ID_TARGET", ["type-id-target"];
        TYPE_EXISTS = 8, "BPF_CORE_TYPE_EXISTS", ["type-exists"];
        TYPE_SIZE = 9, "BPF_CORE_TYPE_SIZE", ["type-size"];
        ENUMVAL_EXISTS = 10, "BPF_CORE_ENUMVAL_EXISTS", ["enumval-exists"];
        ENUMVAL_VALUE = 11, "BPF_CORE_ENUMVAL_VALUE", ["enumval-value"];
        TYPE_MATCHES = 12, "BPF_CORE_TYPE_MATCHES", ["type-matches"];
    }
}

impl CoreKind {
    /// True for the kinds that relocate a struct field (offset, size, existence, sign, shifts).
    pub fn is_field(self) -> bool {
        self <= CoreKind::FIELD_RSHIFT_U64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names() {
        assert_eq!(ProgramType::XDP as u32, 6);
        assert_eq!(
            ProgramType::from_lisp_name("cgroup_skb"),
            Some(ProgramType::CGROUP_SKB)
        );
        assert_eq!(
            ProgramType::from_lisp_name("KPROBE"),
            Some(ProgramType::KPROBE)
        );
        assert_eq!(
            MapType::from_lisp_name("percpu-array"),
            Some(MapType::PERCPU_ARRAY)
        );
        assert_eq!(MapType::RINGBUF as u32, 27);
        assert_eq!(AttachType::from_u32(47), Some(AttachType::TCX_EGRESS));
        assert_eq!(
            AttachType::CGROUP_INET_EGRESS.kernel_name(),
            "BPF_CGROUP_INET_EGRESS"
        );
    }
}
