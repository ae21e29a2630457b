//! Context structs the kernel passes to each program type, with field offsets and sizes taken from
//! the kernel's uapi headers (`include/uapi/linux/bpf.h`, x86_64 `struct pt_regs`).

use whistler_bpf::ProgramType;

/// One field of a context struct: `count` elements of `size` bytes at `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxField {
    /// The kernel's field name (`data_end`); Lisp spells it `data-end`.
    pub name: &'static str,
    pub offset: u32,
    pub size: u32,
    pub count: u32,
}

const fn f(name: &'static str, offset: u32, size: u32, count: u32) -> CtxField {
    CtxField {
        name,
        offset,
        size,
        count,
    }
}

/// A context struct: its kernel name and fields.
#[derive(Clone, Copy, Debug)]
pub struct CtxStruct {
    pub name: &'static str,
    pub fields: &'static [CtxField],
}

impl CtxStruct {
    /// Finds a field by its Lisp (`data-end`) or kernel (`data_end`) name.
    pub fn field(&self, lisp_name: &str) -> Option<&'static CtxField> {
        let name = whistler_object::symbol_name(lisp_name);
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The context struct of a program type, if it has a fixed one.
pub fn ctx_struct(program_type: ProgramType) -> Option<CtxStruct> {
    use ProgramType as P;
    let (name, fields) = match program_type {
        P::XDP => ("xdp_md", XDP_MD),
        P::SOCKET_FILTER
        | P::SCHED_CLS
        | P::SCHED_ACT
        | P::CGROUP_SKB
        | P::LWT_IN
        | P::LWT_OUT
        | P::LWT_XMIT
        | P::LWT_SEG6LOCAL
        | P::SK_SKB => ("__sk_buff", SK_BUFF),
        P::CGROUP_SOCK => ("bpf_sock", BPF_SOCK),
        P::CGROUP_SOCK_ADDR => ("bpf_sock_addr", BPF_SOCK_ADDR),
        P::SOCK_OPS => ("bpf_sock_ops", BPF_SOCK_OPS),
        P::SK_MSG => ("sk_msg_md", SK_MSG_MD),
        P::SK_LOOKUP => ("bpf_sk_lookup", BPF_SK_LOOKUP),
        P::KPROBE => ("pt_regs", PT_REGS),
        P::PERF_EVENT => ("bpf_perf_event_data", BPF_PERF_EVENT_DATA),
        _ => return None,
    };
    Some(CtxStruct { name, fields })
}

/// The offsets of the context fields that hold a pointer into the packet (`data` and
/// `data_meta`): a value loaded from one of them points into packet memory, which no other
/// pointer (stack, map value, ring-buffer record) reaches.
pub fn packet_pointer_fields(program_type: ProgramType) -> Vec<i16> {
    let Some(ctx) = ctx_struct(program_type) else {
        return Vec::new();
    };
    (ctx.fields.iter())
        .filter(|f| f.name == "data" || f.name == "data_meta")
        .map(|f| f.offset as i16)
        .collect()
}

/// x86_64 `struct pt_regs`.
pub static PT_REGS: &[CtxField] = &[
    f("r15", 0, 8, 1),
    f("r14", 8, 8, 1),
    f("r13", 16, 8, 1),
    f("r12", 24, 8, 1),
    f("bp", 32, 8, 1),
    f("bx", 40, 8, 1),
    f("r11", 48, 8, 1),
    f("r10", 56, 8, 1),
    f("r9", 64, 8, 1),
    f("r8", 72, 8, 1),
    f("ax", 80, 8, 1),
    f("cx", 88, 8, 1),
    f("dx", 96, 8, 1),
    f("si", 104, 8, 1),
    f("di", 112, 8, 1),
    f("orig_ax", 120, 8, 1),
    f("ip", 128, 8, 1),
    f("cs", 136, 8, 1),
    f("flags", 144, 8, 1),
    f("sp", 152, 8, 1),
    f("ss", 160, 8, 1),
];

/// Offsets in `pt_regs` of the first six function arguments (System V x86_64: di, si, dx, cx,
/// r8, r9) and of the return value (ax).
pub const PT_REGS_PARMS: [u32; 6] = [112, 104, 96, 88, 72, 64];
pub const PT_REGS_RET: u32 = 80;

/// `struct __sk_buff`.
pub static SK_BUFF: &[CtxField] = &[
    f("len", 0, 4, 1),
    f("pkt_type", 4, 4, 1),
    f("mark", 8, 4, 1),
    f("queue_mapping", 12, 4, 1),
    f("protocol", 16, 4, 1),
    f("vlan_present", 20, 4, 1),
    f("vlan_tci", 24, 4, 1),
    f("vlan_proto", 28, 4, 1),
    f("priority", 32, 4, 1),
    f("ingress_ifindex", 36, 4, 1),
    f("ifindex", 40, 4, 1),
    f("tc_index", 44, 4, 1),
    f("cb", 48, 4, 5),
    f("hash", 68, 4, 1),
    f("tc_classid", 72, 4, 1),
    f("data", 76, 4, 1),
    f("data_end", 80, 4, 1),
    f("napi_id", 84, 4, 1),
    f("family", 88, 4, 1),
    f("remote_ip4", 92, 4, 1),
    f("local_ip4", 96, 4, 1),
    f("remote_ip6", 100, 4, 4),
    f("local_ip6", 116, 4, 4),
    f("remote_port", 132, 4, 1),
    f("local_port", 136, 4, 1),
    f("data_meta", 140, 4, 1),
    f("flow_keys", 144, 8, 1),
    f("tstamp", 152, 8, 1),
    f("wire_len", 160, 4, 1),
    f("gso_segs", 164, 4, 1),
    f("sk", 168, 8, 1),
    f("gso_size", 176, 4, 1),
    f("tstamp_type", 180, 1, 1),
    f("hwtstamp", 184, 8, 1),
];
/// `struct xdp_md`.
pub static XDP_MD: &[CtxField] = &[
    f("data", 0, 4, 1),
    f("data_end", 4, 4, 1),
    f("data_meta", 8, 4, 1),
    f("ingress_ifindex", 12, 4, 1),
    f("rx_queue_index", 16, 4, 1),
    f("egress_ifindex", 20, 4, 1),
];
/// `struct bpf_sock`.
pub static BPF_SOCK: &[CtxField] = &[
    f("bound_dev_if", 0, 4, 1),
    f("family", 4, 4, 1),
    f("type", 8, 4, 1),
    f("protocol", 12, 4, 1),
    f("mark", 16, 4, 1),
    f("priority", 20, 4, 1),
    f("src_ip4", 24, 4, 1),
    f("src_ip6", 28, 4, 4),
    f("src_port", 44, 4, 1),
    f("dst_port", 48, 2, 1),
    f("dst_ip4", 52, 4, 1),
    f("dst_ip6", 56, 4, 4),
    f("state", 72, 4, 1),
    f("rx_queue_mapping", 76, 4, 1),
];
/// `struct bpf_sock_addr`.
pub static BPF_SOCK_ADDR: &[CtxField] = &[
    f("user_family", 0, 4, 1),
    f("user_ip4", 4, 4, 1),
    f("user_ip6", 8, 4, 4),
    f("user_port", 24, 4, 1),
    f("family", 28, 4, 1),
    f("type", 32, 4, 1),
    f("protocol", 36, 4, 1),
    f("msg_src_ip4", 40, 4, 1),
    f("msg_src_ip6", 44, 4, 4),
    f("sk", 64, 8, 1),
];
/// `struct bpf_sock_ops`.
pub static BPF_SOCK_OPS: &[CtxField] = &[
    f("op", 0, 4, 1),
    f("args", 4, 4, 4),
    f("reply", 4, 4, 1),
    f("replylong", 4, 4, 4),
    f("family", 20, 4, 1),
    f("remote_ip4", 24, 4, 1),
    f("local_ip4", 28, 4, 1),
    f("remote_ip6", 32, 4, 4),
    f("local_ip6", 48, 4, 4),
    f("remote_port", 64, 4, 1),
    f("local_port", 68, 4, 1),
    f("is_fullsock", 72, 4, 1),
    f("snd_cwnd", 76, 4, 1),
    f("srtt_us", 80, 4, 1),
    f("bpf_sock_ops_cb_flags", 84, 4, 1),
    f("state", 88, 4, 1),
    f("rtt_min", 92, 4, 1),
    f("snd_ssthresh", 96, 4, 1),
    f("rcv_nxt", 100, 4, 1),
    f("snd_nxt", 104, 4, 1),
    f("snd_una", 108, 4, 1),
    f("mss_cache", 112, 4, 1),
    f("ecn_flags", 116, 4, 1),
    f("rate_delivered", 120, 4, 1),
    f("rate_interval_us", 124, 4, 1),
    f("packets_out", 128, 4, 1),
    f("retrans_out", 132, 4, 1),
    f("total_retrans", 136, 4, 1),
    f("segs_in", 140, 4, 1),
    f("data_segs_in", 144, 4, 1),
    f("segs_out", 148, 4, 1),
    f("data_segs_out", 152, 4, 1),
    f("lost_out", 156, 4, 1),
    f("sacked_out", 160, 4, 1),
    f("sk_txhash", 164, 4, 1),
    f("bytes_received", 168, 8, 1),
    f("bytes_acked", 176, 8, 1),
    f("sk", 184, 8, 1),
    f("skb_data", 192, 8, 1),
    f("skb_data_end", 200, 8, 1),
    f("skb_len", 208, 4, 1),
    f("skb_tcp_flags", 212, 4, 1),
];
/// `struct sk_msg_md`.
pub static SK_MSG_MD: &[CtxField] = &[
    f("data", 0, 8, 1),
    f("data_end", 8, 8, 1),
    f("family", 16, 4, 1),
    f("remote_ip4", 20, 4, 1),
    f("local_ip4", 24, 4, 1),
    f("remote_ip6", 28, 4, 4),
    f("local_ip6", 44, 4, 4),
    f("remote_port", 60, 4, 1),
    f("local_port", 64, 4, 1),
    f("size", 68, 4, 1),
    f("sk", 72, 8, 1),
];
/// `struct bpf_sk_lookup`.
pub static BPF_SK_LOOKUP: &[CtxField] = &[
    f("sk", 0, 8, 1),
    f("cookie", 0, 8, 1),
    f("family", 8, 4, 1),
    f("protocol", 12, 4, 1),
    f("remote_ip4", 16, 4, 1),
    f("remote_ip6", 20, 4, 4),
    f("remote_port", 36, 2, 1),
    f("local_ip4", 40, 4, 1),
    f("local_ip6", 44, 4, 4),
    f("local_port", 60, 4, 1),
    f("ingress_ifindex", 64, 4, 1),
];
/// `struct bpf_perf_event_data`.
pub static BPF_PERF_EVENT_DATA: &[CtxField] =
    &[f("sample_period", 168, 8, 1), f("addr", 176, 8, 1)];
