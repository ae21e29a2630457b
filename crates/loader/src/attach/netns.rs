//! Programs attached to a network namespace (sk_lookup, flow_dissector): a BPF link on the
//! namespace's file, e.g. `/proc/thread-self/ns/net` or `/run/netns/NAME`.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use super::{fd_target, link_create, AttachError};
use crate::link::{Attachment, Link};

pub(super) fn attach(
    prog: BorrowedFd<'_>,
    attach_type: u32,
    netns: &Path,
) -> Result<Link, AttachError> {
    let flags = rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC;
    let ns = rustix::fs::open(netns, flags, rustix::fs::Mode::empty()).map_err(|e| {
        AttachError::Open {
            path: netns.to_owned(),
            source: e.into(),
        }
    })?;
    let link = link_create(prog, fd_target(ns.as_fd()), attach_type, 0)
        .map_err(|e| AttachError::syscall("BPF_LINK_CREATE (netns)", e))?;
    Ok(Link::new(Attachment::BpfLink(link)))
}
