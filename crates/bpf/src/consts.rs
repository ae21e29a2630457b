//! The one table of named kernel constants (`XDP_PASS`, `TC_ACT_SHOT`, `BPF_ANY`, ...): BPF
//! programs use them by name ([`by_name`]), the compiler installs them into the Lisp evaluator
//! as `+xdp-pass+`..., and the loader takes the flags it sets from here.

/// `BPF_F_NO_PREALLOC`: entries are allocated on update (lpm_trie requires it).
pub const BPF_F_NO_PREALLOC: u32 = 1;
/// `BPF_NOEXIST`: a map update that only inserts (fails when the key exists).
pub const BPF_NOEXIST: u32 = 1;
/// `BPF_F_RDONLY_PROG`: programs may only read the map (`.rodata`).
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_MMAPABLE`: the map's values can be mmap()ed.
pub const BPF_F_MMAPABLE: u32 = 1 << 10;

/// (name, value). Names are the kernel's, upper-case.
pub static CONSTANTS: &[(&str, i64)] = &[
    // XDP actions
    ("XDP_ABORTED", 0),
    ("XDP_DROP", 1),
    ("XDP_PASS", 2),
    ("XDP_TX", 3),
    ("XDP_REDIRECT", 4),
    // tc actions
    ("TC_ACT_UNSPEC", -1),
    ("TC_ACT_OK", 0),
    ("TC_ACT_RECLASSIFY", 1),
    ("TC_ACT_SHOT", 2),
    ("TC_ACT_PIPE", 3),
    ("TC_ACT_STOLEN", 4),
    ("TC_ACT_QUEUED", 5),
    ("TC_ACT_REPEAT", 6),
    ("TC_ACT_REDIRECT", 7),
    // sk_* verdicts
    ("SK_DROP", 0),
    ("SK_PASS", 1),
    // map update flags and map creation flags
    ("BPF_ANY", 0),
    ("BPF_NOEXIST", BPF_NOEXIST as i64),
    ("BPF_EXIST", 2),
    ("BPF_F_LOCK", 4),
    ("BPF_F_NO_PREALLOC", BPF_F_NO_PREALLOC as i64),
    ("BPF_F_NO_COMMON_LRU", 2),
    ("BPF_F_NUMA_NODE", 4),
    ("BPF_F_RDONLY", 8),
    ("BPF_F_WRONLY", 16),
    ("BPF_F_RDONLY_PROG", BPF_F_RDONLY_PROG as i64),
    ("BPF_F_WRONLY_PROG", 256),
    ("BPF_F_MMAPABLE", BPF_F_MMAPABLE as i64),
    // helper flags
    ("BPF_F_INGRESS", 1),
    ("BPF_F_CURRENT_CPU", 0xffff_ffff),
    ("BPF_F_INDEX_MASK", 0xffff_ffff),
    ("BPF_F_USER_STACK", 256),
    ("BPF_F_FAST_STACK_CMP", 512),
    ("BPF_F_REUSE_STACKID", 1024),
    ("BPF_F_RECOMPUTE_CSUM", 1),
    ("BPF_F_INVALIDATE_HASH", 2),
    ("BPF_F_HDR_FIELD_MASK", 15),
    ("BPF_F_PSEUDO_HDR", 16),
    ("BPF_F_MARK_MANGLED_0", 32),
    ("BPF_F_MARK_ENFORCE", 64),
    // ring buffer flags and queries
    ("BPF_RB_NO_WAKEUP", 1),
    ("BPF_RB_FORCE_WAKEUP", 2),
    ("BPF_RB_AVAIL_DATA", 0),
    ("BPF_RB_RING_SIZE", 1),
    ("BPF_RB_CONS_POS", 2),
    ("BPF_RB_PROD_POS", 3),
    // sock_ops callbacks
    ("BPF_SOCK_OPS_TCP_CONNECT_CB", 3),
    ("BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB", 4),
    ("BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB", 5),
    ("BPF_SOCK_OPS_TIMEOUT_INIT", 1),
    ("BPF_SOCK_OPS_RWND_INIT", 2),
    ("BPF_SOCK_OPS_NEEDS_ECN", 6),
    ("BPF_SOCK_OPS_BASE_RTT", 7),
    ("BPF_SOCK_OPS_RTO_CB", 8),
    ("BPF_SOCK_OPS_RETRANS_CB", 9),
    ("BPF_SOCK_OPS_STATE_CB", 10),
    ("BPF_SOCK_OPS_TCP_LISTEN_CB", 11),
    // sk_lookup flags
    ("BPF_SK_LOOKUP_F_REPLACE", 1),
    ("BPF_SK_LOOKUP_F_NO_REUSEPORT", 2),
    // Ethernet
    ("ETH_P_IP", 0x0800),
    ("ETH_P_ARP", 0x0806),
    ("ETH_P_8021Q", 0x8100),
    ("ETH_P_IPV6", 0x86dd),
    ("ETH_HLEN", 14),
    ("ETH_ALEN", 6),
    ("ETH_P_ALL", 3),
    // IP protocols
    ("IPPROTO_ICMP", 1),
    ("IPPROTO_TCP", 6),
    ("IPPROTO_UDP", 17),
    ("IPPROTO_ICMPV6", 58),
    ("IPPROTO_IP", 0),
    ("IPPROTO_IPIP", 4),
    ("IPPROTO_IPV6", 41),
    ("IPPROTO_GRE", 47),
    ("IPPROTO_ESP", 50),
    ("IPPROTO_SCTP", 132),
    // sockets
    ("AF_INET", 2),
    ("AF_INET6", 10),
    ("SOCK_STREAM", 1),
    ("SOCK_DGRAM", 2),
    // packet types (skb->pkt_type)
    ("PACKET_HOST", 0),
    ("PACKET_BROADCAST", 1),
    ("PACKET_MULTICAST", 2),
    ("PACKET_OTHERHOST", 3),
];

/// Looks a constant up case-insensitively; `-` and `_` are interchangeable, and the
/// `+name+` spelling is accepted (`xdp_pass`, `XDP-PASS`, `+xdp-pass+`).
pub fn by_name(name: &str) -> Option<i64> {
    let name = name
        .strip_prefix('+')
        .and_then(|n| n.strip_suffix('+'))
        .unwrap_or(name);
    CONSTANTS
        .iter()
        .find(|(n, _)| {
            n.len() == name.len()
                && n.bytes()
                    .zip(name.bytes())
                    .all(|(a, b)| a.eq_ignore_ascii_case(&b) || (a == b'_' && b == b'-'))
        })
        .map(|&(_, v)| v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn spellings() {
        assert_eq!(super::by_name("xdp_pass"), Some(2));
        assert_eq!(super::by_name("+xdp-drop+"), Some(1));
        assert_eq!(super::by_name("TC_ACT_UNSPEC"), Some(-1));
        assert_eq!(super::by_name("xdp_nope"), None);
    }
}
