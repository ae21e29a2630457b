//! Attaching: BPF_PROG_ATTACH/DETACH, BPF_RAW_TRACEPOINT_OPEN, BPF_LINK_CREATE/DETACH.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::*;

#[repr(C)]
#[derive(Default)]
pub(super) struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// BPF_PROG_ATTACH (`BPF_F_ALLOW_OVERRIDE`/`BPF_F_ALLOW_MULTI`/`BPF_F_REPLACE` in `flags`).
pub fn prog_attach(
    target: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    attach_type: u32,
    flags: u32,
    replace: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: target.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type,
        attach_flags: flags,
        replace_bpf_fd: fd_or_zero(replace),
    };
    sys_bpf(cmd::PROG_ATTACH, &mut attr).map(drop)
}

/// BPF_PROG_DETACH of `prog` from `target`.
pub fn prog_detach(
    target: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    attach_type: u32,
) -> io::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: target.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type,
        ..Default::default()
    };
    sys_bpf(cmd::PROG_DETACH, &mut attr).map(drop)
}

#[repr(C)]
#[derive(Default)]
pub(super) struct RawTracepointAttr {
    name: u64,
    prog_fd: u32,
    _pad: u32,
}

/// BPF_RAW_TRACEPOINT_OPEN: `name` is the tracepoint (None for tp_btf/fentry/fexit/lsm
/// programs, whose target was given at load time). Returns the link fd.
pub fn raw_tracepoint_open(name: Option<&CStr>, prog: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut attr = RawTracepointAttr {
        name: name.map_or(0, |n| n.as_ptr() as u64),
        prog_fd: prog.as_raw_fd() as u32,
        _pad: 0,
    };
    sys_bpf(cmd::RAW_TRACEPOINT_OPEN, &mut attr).map(owned_fd)
}

/// The attach-type-specific part of BPF_LINK_CREATE.
#[derive(Clone, Copy, Debug, Default)]
pub enum LinkExtra<'a> {
    /// Nothing beyond the common fields.
    #[default]
    None,
    /// `target_btf_id` (freplace on a BPF program's function).
    TargetBtfId(u32),
    /// BPF_PERF_EVENT: the `bpf_get_attach_cookie()` value.
    PerfEvent {
        /// The cookie.
        bpf_cookie: u64,
    },
    /// Tracing programs (fentry/fexit/lsm/tp_btf) with a cookie.
    Tracing {
        /// The target's BTF id (0: the one given at load).
        target_btf_id: u32,
        /// The `bpf_get_attach_cookie()` value.
        cookie: u64,
    },
    /// BPF_TRACE_KPROBE_MULTI (attach type 42): kprobes on the kernel functions `syms`.
    KprobeMulti {
        /// The kernel functions' names.
        syms: &'a [&'a CStr],
        /// One per symbol, or empty.
        cookies: &'a [u64],
        /// `BPF_F_KPROBE_MULTI_RETURN` (1) for return probes.
        flags: u32,
    },
    /// BPF_TRACE_UPROBE_MULTI (attach type 48): probes at file `offsets` of `path`.
    UprobeMulti {
        /// The binary.
        path: &'a CStr,
        /// File offsets of the probed instructions.
        offsets: &'a [u64],
        /// File offsets of USDT semaphores, one per probe (empty: none).
        ref_ctr_offsets: &'a [u64],
        /// One `bpf_get_attach_cookie()` value per probe (empty: none).
        cookies: &'a [u64],
        /// `BPF_F_UPROBE_MULTI_RETURN` (1) for return probes.
        flags: u32,
        /// 0 for every process.
        pid: u32,
    },
    /// BPF_TCX_INGRESS/EGRESS: placement relative to another program or link (0 for none).
    Tcx {
        /// The program or link to place before or after, by fd or id per the flags.
        relative_fd_or_id: u32,
        /// Fail unless the hook's program list still has this revision (0: do not check).
        expected_revision: u64,
    },
}

/// Parameters of BPF_LINK_CREATE. `target` is a target fd (cgroup, netns, perf event, program)
/// or, for XDP and tcx, an interface index.
#[derive(Clone, Copy, Debug)]
pub struct LinkCreate<'a> {
    /// The program to attach.
    pub prog: BorrowedFd<'a>,
    /// The target's fd, or the interface index for XDP and tcx.
    pub target_fd_or_ifindex: u32,
    /// `enum bpf_attach_type` number.
    pub attach_type: u32,
    /// Link flags (`XDP_FLAGS_*` for XDP, `BPF_F_BEFORE`/`AFTER`... for tcx).
    pub flags: u32,
    /// The attach-type-specific part.
    pub extra: LinkExtra<'a>,
}

#[repr(C)]
#[derive(Default)]
pub(super) struct LinkCreateAttr {
    prog_fd: u32,
    target: u32,
    attach_type: u32,
    flags: u32,
    /// The union that follows, as 8-byte words (uprobe_multi is the largest member: 48 bytes).
    extra: [u64; 6],
}

/// The union words of `extra`; `symbol_pointers` holds the array of string pointers that
/// kprobe_multi's `syms` points at, so it must outlive the syscall.
fn link_extra_words(extra: &LinkExtra<'_>, symbol_pointers: &mut Vec<u64>) -> io::Result<[u64; 6]> {
    let mut w = [0u64; 6];
    match *extra {
        LinkExtra::None => {}
        LinkExtra::TargetBtfId(id) => w[0] = u64::from(id),
        LinkExtra::PerfEvent { bpf_cookie } => w[0] = bpf_cookie,
        LinkExtra::Tracing {
            target_btf_id,
            cookie,
        } => {
            w[0] = u64::from(target_btf_id);
            w[1] = cookie;
        }
        LinkExtra::KprobeMulti {
            syms,
            cookies,
            flags,
        } => {
            if !cookies.is_empty() && cookies.len() != syms.len() {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            *symbol_pointers = syms.iter().map(|s| s.as_ptr() as u64).collect();
            w[0] = u64::from(flags) | (u64::from(len_u32(syms.len())?) << 32);
            w[1] = symbol_pointers.as_ptr() as u64;
            w[3] = if cookies.is_empty() {
                0
            } else {
                cookies.as_ptr() as u64
            };
        }
        LinkExtra::UprobeMulti {
            path,
            offsets,
            ref_ctr_offsets,
            cookies,
            flags,
            pid,
        } => {
            let count = offsets.len();
            if (!ref_ctr_offsets.is_empty() && ref_ctr_offsets.len() != count)
                || (!cookies.is_empty() && cookies.len() != count)
            {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            w[0] = path.as_ptr() as u64;
            w[1] = offsets.as_ptr() as u64;
            w[2] = if ref_ctr_offsets.is_empty() {
                0
            } else {
                ref_ctr_offsets.as_ptr() as u64
            };
            w[3] = if cookies.is_empty() {
                0
            } else {
                cookies.as_ptr() as u64
            };
            w[4] = u64::from(len_u32(count)?) | (u64::from(flags) << 32);
            w[5] = u64::from(pid);
        }
        LinkExtra::Tcx {
            relative_fd_or_id,
            expected_revision,
        } => {
            w[0] = u64::from(relative_fd_or_id);
            w[1] = expected_revision;
        }
    }
    Ok(w)
}

/// BPF_LINK_CREATE. Returns the link fd; the attachment lasts while it (or a pin) is open.
pub fn link_create(params: &LinkCreate<'_>) -> io::Result<OwnedFd> {
    let mut symbol_pointers = Vec::new();
    let mut attr = LinkCreateAttr {
        prog_fd: params.prog.as_raw_fd() as u32,
        target: params.target_fd_or_ifindex,
        attach_type: params.attach_type,
        flags: params.flags,
        extra: link_extra_words(&params.extra, &mut symbol_pointers)?,
    };
    sys_bpf(cmd::LINK_CREATE, &mut attr).map(owned_fd)
}

#[repr(C)]
#[derive(Default)]
pub(super) struct LinkDetachAttr {
    link_fd: u32,
}

/// BPF_LINK_DETACH: detaches the link's program now, even while other fds keep the link open.
pub fn link_detach(link: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = LinkDetachAttr {
        link_fd: link.as_raw_fd() as u32,
    };
    sys_bpf(cmd::LINK_DETACH, &mut attr).map(drop)
}
