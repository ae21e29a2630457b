//! Every kernel helper with its id from include/uapi/linux/bpf.h (`__BPF_FUNC_MAPPER`), argument
//! count and whether it returns a pointer. Ids follow the kernel header exactly (checked in the
//! tests against the three that Whistler got wrong).

/// One kernel helper function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Helper {
    /// `BPF_FUNC_*` number.
    pub id: u32,
    /// The kernel's name without the `bpf_` prefix, e.g. `map_lookup_elem`.
    pub kernel_name: &'static str,
    pub arg_count: u8,
    /// True when the helper returns a pointer (which may be NULL).
    pub returns_pointer: bool,
}

impl Helper {
    /// The Lisp name: the kernel name with `_` turned into `-` (`get-current-pid-tgid`).
    pub fn lisp_name(&self) -> String {
        self.kernel_name.replace('_', "-")
    }
}

/// Ids of the helpers the compiler calls itself (the rows of the table below use them).
pub mod ids {
    pub const MAP_LOOKUP_ELEM: u32 = 1;
    pub const MAP_UPDATE_ELEM: u32 = 2;
    pub const MAP_DELETE_ELEM: u32 = 3;
    pub const TAIL_CALL: u32 = 12;
    pub const FOR_EACH_MAP_ELEM: u32 = 164;
    pub const RINGBUF_RESERVE: u32 = 131;
    pub const RINGBUF_SUBMIT: u32 = 132;
}

const fn h(id: u32, kernel_name: &'static str, arg_count: u8, returns_pointer: bool) -> Helper {
    Helper {
        id,
        kernel_name,
        arg_count,
        returns_pointer,
    }
}

/// True for helpers that only read kernel state: a call whose result is unused can be removed
/// without changing what the program does (`map_lookup_elem`, `ktime_get_ns`,
/// `get_current_pid_tgid`...).
pub fn side_effect_free(id: u32) -> bool {
    const READ_ONLY: [&str; 13] = [
        "map_lookup_elem",
        "ktime_get_ns",
        "get_smp_processor_id",
        "get_current_pid_tgid",
        "get_current_uid_gid",
        "get_current_task",
        "get_numa_node_id",
        "get_current_cgroup_id",
        "jiffies64",
        "ktime_get_boot_ns",
        "get_current_task_btf",
        "ktime_get_coarse_ns",
        "ktime_get_tai_ns",
    ];
    by_id(id).is_some_and(|h| READ_ONLY.contains(&h.kernel_name))
}

/// How many bytes a helper reads through one of its pointer arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadSize {
    /// The value of another argument, by index (`skb_store_bytes`'s `len`).
    Arg(u8),
    /// The key size of the map in argument 0.
    MapKey,
    /// The value size of the map in argument 0.
    MapValue,
}

/// The pointer arguments a helper only reads, by index, with how many bytes it reads through
/// each; empty for helpers not described here (they may read or write anything they are
/// given).
pub fn read_buffers(id: u32) -> &'static [(u8, ReadSize)] {
    match id {
        ids::MAP_LOOKUP_ELEM | ids::MAP_DELETE_ELEM => &[(1, ReadSize::MapKey)],
        ids::MAP_UPDATE_ELEM => &[(1, ReadSize::MapKey), (2, ReadSize::MapValue)],
        // map_push_elem, skb_store_bytes, perf_event_output, ringbuf_output
        87 => &[(1, ReadSize::MapValue)],
        9 => &[(2, ReadSize::Arg(3))],
        25 => &[(3, ReadSize::Arg(4))],
        130 => &[(1, ReadSize::Arg(2))],
        _ => &[],
    }
}

/// The pointer arguments a helper fills without reading them, by index, with the index of the
/// argument giving their length: it writes all of those bytes, zeroes on failure
/// (`skb_load_bytes`, `probe_read_kernel`, `get_current_comm`...).
pub fn write_buffers(id: u32) -> &'static [(u8, u8)] {
    match id {
        // probe_read, get_current_comm, skb_load_bytes, probe_read_user, probe_read_kernel
        4 | 16 | 112 | 113 => &[(0, 1)],
        26 => &[(2, 3)],
        _ => &[],
    }
}

/// True for helpers documented to return 0 on success or a negative error number
/// (`-MAX_ERRNO..=-1`) on failure, and nothing else: their result is never positive, so
/// `result == 0` and `result >= 0` (signed) are the same test.
pub fn returns_zero_or_errno(id: u32) -> bool {
    const ZERO_OR_ERRNO: [&str; 13] = [
        "map_update_elem",
        "map_delete_elem",
        "map_push_elem",
        "map_pop_elem",
        "map_peek_elem",
        "probe_read",
        "probe_read_user",
        "probe_read_kernel",
        "skb_load_bytes",
        "skb_store_bytes",
        "get_current_comm",
        "perf_event_output",
        "ringbuf_output",
    ];
    by_id(id).is_some_and(|h| ZERO_OR_ERRNO.contains(&h.kernel_name))
}

/// Looks a helper up by its Lisp name (`ktime-get-ns`) or kernel name (`ktime_get_ns`,
/// `bpf_ktime_get_ns`).
pub fn by_name(name: &str) -> Option<&'static Helper> {
    let name = name
        .strip_prefix("bpf-")
        .or_else(|| name.strip_prefix("bpf_"))
        .unwrap_or(name);
    HELPERS.iter().find(|h| {
        h.kernel_name.len() == name.len()
            && h.kernel_name
                .bytes()
                .zip(name.bytes())
                .all(|(a, b)| a == b || (a == b'_' && b == b'-'))
    })
}

pub fn by_id(id: u32) -> Option<&'static Helper> {
    HELPERS
        .get((id as usize).wrapping_sub(1))
        .filter(|h| h.id == id)
}

/// All helpers, ordered by id starting at 1.
pub static HELPERS: &[Helper] = &[
    h(ids::MAP_LOOKUP_ELEM, "map_lookup_elem", 2, true),
    h(ids::MAP_UPDATE_ELEM, "map_update_elem", 4, false),
    h(ids::MAP_DELETE_ELEM, "map_delete_elem", 2, false),
    h(4, "probe_read", 3, false),
    h(5, "ktime_get_ns", 0, false),
    h(6, "trace_printk", 3, false),
    h(7, "get_prandom_u32", 0, false),
    h(8, "get_smp_processor_id", 0, false),
    h(9, "skb_store_bytes", 5, false),
    h(10, "l3_csum_replace", 5, false),
    h(11, "l4_csum_replace", 5, false),
    h(ids::TAIL_CALL, "tail_call", 3, false),
    h(13, "clone_redirect", 3, false),
    h(14, "get_current_pid_tgid", 0, false),
    h(15, "get_current_uid_gid", 0, false),
    h(16, "get_current_comm", 2, false),
    h(17, "get_cgroup_classid", 1, false),
    h(18, "skb_vlan_push", 3, false),
    h(19, "skb_vlan_pop", 1, false),
    h(20, "skb_get_tunnel_key", 4, false),
    h(21, "skb_set_tunnel_key", 4, false),
    h(22, "perf_event_read", 2, false),
    h(23, "redirect", 2, false),
    h(24, "get_route_realm", 1, false),
    h(25, "perf_event_output", 5, false),
    h(26, "skb_load_bytes", 4, false),
    h(27, "get_stackid", 3, false),
    h(28, "csum_diff", 5, false),
    h(29, "skb_get_tunnel_opt", 3, false),
    h(30, "skb_set_tunnel_opt", 3, false),
    h(31, "skb_change_proto", 3, false),
    h(32, "skb_change_type", 2, false),
    h(33, "skb_under_cgroup", 3, false),
    h(34, "get_hash_recalc", 1, false),
    h(35, "get_current_task", 0, false),
    h(36, "probe_write_user", 3, false),
    h(37, "current_task_under_cgroup", 2, false),
    h(38, "skb_change_tail", 3, false),
    h(39, "skb_pull_data", 2, false),
    h(40, "csum_update", 2, false),
    h(41, "set_hash_invalid", 1, false),
    h(42, "get_numa_node_id", 0, false),
    h(43, "skb_change_head", 3, false),
    h(44, "xdp_adjust_head", 2, false),
    h(45, "probe_read_str", 3, false),
    h(46, "get_socket_cookie", 1, false),
    h(47, "get_socket_uid", 1, false),
    h(48, "set_hash", 2, false),
    h(49, "setsockopt", 5, false),
    h(50, "skb_adjust_room", 4, false),
    h(51, "redirect_map", 3, false),
    h(52, "sk_redirect_map", 4, false),
    h(53, "sock_map_update", 4, false),
    h(54, "xdp_adjust_meta", 2, false),
    h(55, "perf_event_read_value", 4, false),
    h(56, "perf_prog_read_value", 3, false),
    h(57, "getsockopt", 5, false),
    h(58, "override_return", 2, false),
    h(59, "sock_ops_cb_flags_set", 2, false),
    h(60, "msg_redirect_map", 4, false),
    h(61, "msg_apply_bytes", 2, false),
    h(62, "msg_cork_bytes", 2, false),
    h(63, "msg_pull_data", 4, false),
    h(64, "bind", 3, false),
    h(65, "xdp_adjust_tail", 2, false),
    h(66, "skb_get_xfrm_state", 5, false),
    h(67, "get_stack", 4, false),
    h(68, "skb_load_bytes_relative", 5, false),
    h(69, "fib_lookup", 4, false),
    h(70, "sock_hash_update", 4, false),
    h(71, "msg_redirect_hash", 4, false),
    h(72, "sk_redirect_hash", 4, false),
    h(73, "lwt_push_encap", 4, false),
    h(74, "lwt_seg6_store_bytes", 4, false),
    h(75, "lwt_seg6_adjust_srh", 3, false),
    h(76, "lwt_seg6_action", 4, false),
    h(77, "rc_repeat", 1, false),
    h(78, "rc_keydown", 4, false),
    h(79, "skb_cgroup_id", 1, false),
    h(80, "get_current_cgroup_id", 0, false),
    h(81, "get_local_storage", 2, true),
    h(82, "sk_select_reuseport", 4, false),
    h(83, "skb_ancestor_cgroup_id", 2, false),
    h(84, "sk_lookup_tcp", 5, true),
    h(85, "sk_lookup_udp", 5, true),
    h(86, "sk_release", 1, false),
    h(87, "map_push_elem", 3, false),
    h(88, "map_pop_elem", 2, false),
    h(89, "map_peek_elem", 2, false),
    h(90, "msg_push_data", 4, false),
    h(91, "msg_pop_data", 4, false),
    h(92, "rc_pointer_rel", 3, false),
    h(93, "spin_lock", 1, false),
    h(94, "spin_unlock", 1, false),
    h(95, "sk_fullsock", 1, true),
    h(96, "tcp_sock", 1, true),
    h(97, "skb_ecn_set_ce", 1, false),
    h(98, "get_listener_sock", 1, true),
    h(99, "skc_lookup_tcp", 5, true),
    h(100, "tcp_check_syncookie", 5, false),
    h(101, "sysctl_get_name", 4, false),
    h(102, "sysctl_get_current_value", 3, false),
    h(103, "sysctl_get_new_value", 3, false),
    h(104, "sysctl_set_new_value", 3, false),
    h(105, "strtol", 4, false),
    h(106, "strtoul", 4, false),
    h(107, "sk_storage_get", 4, true),
    h(108, "sk_storage_delete", 2, false),
    h(109, "send_signal", 1, false),
    h(110, "tcp_gen_syncookie", 5, false),
    h(111, "skb_output", 5, false),
    h(112, "probe_read_user", 3, false),
    h(113, "probe_read_kernel", 3, false),
    h(114, "probe_read_user_str", 3, false),
    h(115, "probe_read_kernel_str", 3, false),
    h(116, "tcp_send_ack", 2, false),
    h(117, "send_signal_thread", 1, false),
    h(118, "jiffies64", 0, false),
    h(119, "read_branch_records", 4, false),
    h(120, "get_ns_current_pid_tgid", 4, false),
    h(121, "xdp_output", 5, false),
    h(122, "get_netns_cookie", 1, false),
    h(123, "get_current_ancestor_cgroup_id", 1, false),
    h(124, "sk_assign", 3, false),
    h(125, "ktime_get_boot_ns", 0, false),
    h(126, "seq_printf", 5, false),
    h(127, "seq_write", 3, false),
    h(128, "sk_cgroup_id", 1, false),
    h(129, "sk_ancestor_cgroup_id", 2, false),
    h(130, "ringbuf_output", 4, false),
    h(ids::RINGBUF_RESERVE, "ringbuf_reserve", 3, true),
    h(ids::RINGBUF_SUBMIT, "ringbuf_submit", 2, false),
    h(133, "ringbuf_discard", 2, false),
    h(134, "ringbuf_query", 2, false),
    h(135, "csum_level", 2, false),
    h(136, "skc_to_tcp6_sock", 1, true),
    h(137, "skc_to_tcp_sock", 1, true),
    h(138, "skc_to_tcp_timewait_sock", 1, true),
    h(139, "skc_to_tcp_request_sock", 1, true),
    h(140, "skc_to_udp6_sock", 1, true),
    h(141, "get_task_stack", 4, false),
    h(142, "load_hdr_opt", 4, false),
    h(143, "store_hdr_opt", 4, false),
    h(144, "reserve_hdr_opt", 3, false),
    h(145, "inode_storage_get", 4, true),
    h(146, "inode_storage_delete", 2, false),
    h(147, "d_path", 3, false),
    h(148, "copy_from_user", 3, false),
    h(149, "snprintf_btf", 5, false),
    h(150, "seq_printf_btf", 4, false),
    h(151, "skb_cgroup_classid", 1, false),
    h(152, "redirect_neigh", 4, false),
    h(153, "per_cpu_ptr", 2, true),
    h(154, "this_cpu_ptr", 1, true),
    h(155, "redirect_peer", 2, false),
    h(156, "task_storage_get", 4, true),
    h(157, "task_storage_delete", 2, false),
    h(158, "get_current_task_btf", 0, true),
    h(159, "bprm_opts_set", 2, false),
    h(160, "ktime_get_coarse_ns", 0, false),
    h(161, "ima_inode_hash", 3, false),
    h(162, "sock_from_file", 1, true),
    h(163, "check_mtu", 5, false),
    h(164, "for_each_map_elem", 4, false),
    h(165, "snprintf", 5, false),
    h(166, "sys_bpf", 3, false),
    h(167, "btf_find_by_name_kind", 4, false),
    h(168, "sys_close", 1, false),
    h(169, "timer_init", 3, false),
    h(170, "timer_set_callback", 2, false),
    h(171, "timer_start", 3, false),
    h(172, "timer_cancel", 1, false),
    h(173, "get_func_ip", 1, false),
    h(174, "get_attach_cookie", 1, false),
    h(175, "task_pt_regs", 1, false),
    h(176, "get_branch_snapshot", 3, false),
    h(177, "trace_vprintk", 4, false),
    h(178, "skc_to_unix_sock", 1, true),
    h(179, "kallsyms_lookup_name", 4, false),
    h(180, "find_vma", 5, false),
    h(181, "loop", 4, false),
    h(182, "strncmp", 3, false),
    h(183, "get_func_arg", 3, false),
    h(184, "get_func_ret", 2, false),
    h(185, "get_func_arg_cnt", 1, false),
    h(186, "get_retval", 0, false),
    h(187, "set_retval", 1, false),
    h(188, "xdp_get_buff_len", 1, false),
    h(189, "xdp_load_bytes", 4, false),
    h(190, "xdp_store_bytes", 4, false),
    h(191, "copy_from_user_task", 5, false),
    h(192, "skb_set_tstamp", 3, false),
    h(193, "ima_file_hash", 3, false),
    h(194, "kptr_xchg", 2, true),
    h(195, "map_lookup_percpu_elem", 3, true),
    h(196, "skc_to_mptcp_sock", 1, true),
    h(197, "dynptr_from_mem", 4, false),
    h(198, "ringbuf_reserve_dynptr", 4, false),
    h(199, "ringbuf_submit_dynptr", 2, false),
    h(200, "ringbuf_discard_dynptr", 2, false),
    h(201, "dynptr_read", 5, false),
    h(202, "dynptr_write", 5, false),
    h(203, "dynptr_data", 3, true),
    h(204, "tcp_raw_gen_syncookie_ipv4", 3, false),
    h(205, "tcp_raw_gen_syncookie_ipv6", 3, false),
    h(206, "tcp_raw_check_syncookie_ipv4", 2, false),
    h(207, "tcp_raw_check_syncookie_ipv6", 2, false),
    h(208, "ktime_get_tai_ns", 0, false),
    h(209, "user_ringbuf_drain", 4, false),
    h(210, "cgrp_storage_get", 4, true),
    h(211, "cgrp_storage_delete", 2, false),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_the_kernel_header() {
        for (i, h) in HELPERS.iter().enumerate() {
            assert_eq!(h.id as usize, i + 1);
        }
        assert_eq!(by_name("get-current-task-btf").unwrap().id, 158);
        assert_eq!(by_name("ktime-get-coarse-ns").unwrap().id, 160);
        assert_eq!(by_name("ktime_get_tai_ns").unwrap().id, 208);
        assert_eq!(by_name("bpf_map_lookup_elem").unwrap().id, 1);
        assert_eq!(by_name("ringbuf-reserve").unwrap().arg_count, 3);
        assert!(by_name("map-lookup-elem").unwrap().returns_pointer);
        assert_eq!(by_id(6).unwrap().kernel_name, "trace_printk");
        assert!(by_name("no-such-helper").is_none());
    }
}
