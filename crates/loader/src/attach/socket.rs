//! Programs attached to a socket (SO_ATTACH_BPF, detached with SO_DETACH_BPF) or to a sockmap
//! (BPF_PROG_ATTACH with the sk_skb/sk_msg attach type, detached with BPF_PROG_DETACH).

use std::os::fd::{AsFd, BorrowedFd};

use super::{AttachError, AttachTarget};
use crate::link::{Attachment, Link};
use crate::sys::socket;

pub(super) fn attach_filter(
    prog: BorrowedFd<'_>,
    target: AttachTarget,
) -> Result<Link, AttachError> {
    let AttachTarget::Socket(fd) = target else {
        unreachable!("attach() dispatches only AttachTarget::Socket here")
    };
    socket::attach_bpf(fd.as_fd(), prog).map_err(|e| AttachError::syscall("SO_ATTACH_BPF", e))?;
    Ok(Link::new(Attachment::SocketFilter { socket: fd }))
}

pub(super) fn attach_sockmap(
    prog: BorrowedFd<'_>,
    attach_type: u32,
    target: AttachTarget,
) -> Result<Link, AttachError> {
    let AttachTarget::SockMap(map) = target else {
        unreachable!("attach() dispatches only AttachTarget::SockMap here")
    };
    super::prog_attach(prog, map, attach_type, 0, "BPF_PROG_ATTACH (sockmap)")
}
