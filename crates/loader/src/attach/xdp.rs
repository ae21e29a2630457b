//! XDP: a BPF link on the interface (BPF_LINK_CREATE with BPF_XDP), else the legacy rtnetlink
//! IFLA_XDP attachment, which outlives the process and so is undone by the link's drop (fd -1
//! with the same mode flags, only if our program is still the one attached).

use std::os::fd::{AsRawFd, BorrowedFd};
use whistler_bpf::AttachType;

use super::{link_create, AttachApi, AttachError, InterfaceMode, XdpMode};
use crate::link::{Attachment, Link};
use crate::sys::netlink::{
    RouteSocket, XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE, XDP_FLAGS_UPDATE_IF_NOEXIST,
};

pub(super) fn attach(
    prog: BorrowedFd<'_>,
    interface: &str,
    mode: InterfaceMode,
) -> Result<Link, AttachError> {
    let ifindex = super::tc::ifindex(interface)?;
    let mode_flags = match mode.xdp {
        XdpMode::Default => 0,
        XdpMode::Native => XDP_FLAGS_DRV_MODE,
        XdpMode::Generic => XDP_FLAGS_SKB_MODE,
    };
    match mode.api {
        AttachApi::Link => link(prog, ifindex, mode_flags),
        AttachApi::Netlink => netlink(prog, ifindex, mode_flags),
        AttachApi::Auto => {
            match link_create(prog, ifindex as u32, AttachType::XDP as u32, mode_flags) {
                Ok(fd) => Ok(Link::new(Attachment::BpfLink(fd))),
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL)) => {
                    netlink(prog, ifindex, mode_flags)
                }
                Err(e) => Err(AttachError::syscall("BPF_LINK_CREATE (xdp)", e)),
            }
        }
    }
}

fn link(prog: BorrowedFd<'_>, ifindex: i32, mode_flags: u32) -> Result<Link, AttachError> {
    let fd = link_create(prog, ifindex as u32, AttachType::XDP as u32, mode_flags)
        .map_err(|e| AttachError::syscall("BPF_LINK_CREATE (xdp)", e))?;
    Ok(Link::new(Attachment::BpfLink(fd)))
}

fn netlink(prog: BorrowedFd<'_>, ifindex: i32, mode_flags: u32) -> Result<Link, AttachError> {
    let netlink_error = |source| AttachError::Netlink {
        what: "attaching XDP",
        source,
    };
    let mut socket = RouteSocket::open().map_err(|e| netlink_error(e.into()))?;
    let flags = mode_flags | XDP_FLAGS_UPDATE_IF_NOEXIST;
    socket
        .xdp_set(ifindex, prog.as_raw_fd(), flags, None)
        .map_err(netlink_error)?;
    let prog = prog
        .try_clone_to_owned()
        .map_err(|e| AttachError::syscall("dup", e))?;
    Ok(Link::new(Attachment::NetlinkXdp {
        socket,
        ifindex,
        mode_flags,
        prog,
    }))
}
