//! `Link`: an owned attachment of a program that detaches when dropped, whatever its kind.
//!
//! Link-based attachments (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN) end when their fd closes.
//! The legacy kinds outlive the process unless undone explicitly: netlink XDP, tc filters,
//! BPF_PROG_ATTACH and SO_ATTACH_BPF. Each keeps here what it needs to undo itself.
//!
//! A link with a BPF link fd can be pinned in a bpffs ([`Link::pin`]): the attachment then
//! outlives the process until the pin is removed, so dropping a pinned link (or one opened with
//! [`Link::from_pin`]) only closes our fds. [`Link::unpin`] makes it an ordinary link again.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::attach::tc::{self, ClsactKey};
use crate::attach::tracefs::DynamicProbe;
use crate::attach::AttachError;
use crate::sys::netlink::{RouteSocket, TcFilterId};
use crate::sys::{bpf, perf, socket};

/// What kind of attachment a [`Link`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// A BPF link fd (BPF_LINK_CREATE or BPF_RAW_TRACEPOINT_OPEN).
    BpfLink,
    /// A perf event running the program (tracepoints, kprobes, uprobes, perf_event programs).
    PerfEvent,
    /// Several links that act as one (a perf_event program on every CPU).
    Group,
    /// XDP set through rtnetlink.
    NetlinkXdp,
    /// A cls_bpf filter under a clsact qdisc, set through rtnetlink.
    NetlinkTc,
    /// BPF_PROG_ATTACH on a cgroup, sockmap or network namespace.
    ProgAttach,
    /// SO_ATTACH_BPF on a socket.
    SocketFilter,
}

/// An attached program; dropping it detaches the program.
#[derive(Debug)]
#[must_use = "dropping a Link detaches the program at once"]
#[doc(alias = "bpf_link")]
pub struct Link {
    /// Always `Some` until `detach` or `drop` takes it.
    attachment: Option<Attachment>,
    /// Where the link is pinned: dropping it then leaves the attachment in place.
    pinned: Option<PathBuf>,
}

#[derive(Debug)]
pub(crate) enum Attachment {
    BpfLink(OwnedFd),
    PerfEvent {
        event: OwnedFd,
        link: Option<OwnedFd>,
        probe: Option<DynamicProbe>,
    },
    Group(Vec<Link>),
    NetlinkXdp {
        socket: RouteSocket,
        ifindex: i32,
        mode_flags: u32,
        prog: OwnedFd,
    },
    NetlinkTc {
        socket: RouteSocket,
        filter: TcFilterId,
        clsact: ClsactKey,
    },
    ProgAttach {
        target: OwnedFd,
        prog: OwnedFd,
        attach_type: u32,
    },
    SocketFilter {
        socket: OwnedFd,
    },
}

impl Link {
    pub(crate) fn new(attachment: Attachment) -> Link {
        Link {
            attachment: Some(attachment),
            pinned: None,
        }
    }

    /// Opens the link pinned at `path` (an error if something else is pinned there). Dropping
    /// it leaves the attachment in place; [`Link::unpin`] first to end it.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Link, AttachError> {
        let path = path.as_ref();
        let fd = crate::pins::open(path, crate::pins::ObjectKind::Link)
            .map_err(|source| pin_error(path, source))?;
        Ok(Link {
            attachment: Some(Attachment::BpfLink(fd)),
            pinned: Some(path.to_path_buf()),
        })
    }

    /// Pins the link at `path` in a bpffs: the attachment outlives this process until the pin is
    /// removed. Only links with a BPF link fd ([`Link::bpf_link_fd`]) can be pinned.
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<(), AttachError> {
        let path = path.as_ref();
        let pinnable = !matches!(
            self.attachment(),
            Attachment::PerfEvent { probe: Some(_), .. }
        );
        let fd = match self.bpf_link_fd() {
            Some(fd) if pinnable => fd,
            _ => return Err(AttachError::NotPinnable(self.kind())),
        };
        crate::pins::pin(fd, path).map_err(|source| pin_error(path, source))?;
        self.pinned = Some(path.to_path_buf());
        Ok(())
    }

    /// Removes the pin; dropping the link then detaches it again.
    pub fn unpin(&mut self) -> Result<(), AttachError> {
        if let Some(path) = self.pinned.take() {
            std::fs::remove_file(&path).map_err(|source| pin_error(&path, source))?;
        }
        Ok(())
    }

    /// Where the link is pinned.
    pub fn pinned_path(&self) -> Option<&Path> {
        self.pinned.as_deref()
    }

    fn attachment(&self) -> &Attachment {
        self.attachment
            .as_ref()
            .expect("a Link holds its attachment until detach() or drop takes it")
    }

    /// How the attachment was made, which says how dropping the link undoes it.
    pub fn kind(&self) -> LinkKind {
        match self.attachment() {
            Attachment::BpfLink(_) => LinkKind::BpfLink,
            Attachment::PerfEvent { .. } => LinkKind::PerfEvent,
            Attachment::Group(_) => LinkKind::Group,
            Attachment::NetlinkXdp { .. } => LinkKind::NetlinkXdp,
            Attachment::NetlinkTc { .. } => LinkKind::NetlinkTc,
            Attachment::ProgAttach { .. } => LinkKind::ProgAttach,
            Attachment::SocketFilter { .. } => LinkKind::SocketFilter,
        }
    }

    /// The BPF link fd, for the kinds that have one (to pin it or query BPF_OBJ_GET_INFO_BY_FD).
    pub fn bpf_link_fd(&self) -> Option<BorrowedFd<'_>> {
        match self.attachment() {
            Attachment::BpfLink(fd) => Some(fd.as_fd()),
            Attachment::PerfEvent { link, .. } => link.as_ref().map(|l| l.as_fd()),
            _ => None,
        }
    }

    /// The links inside a group (empty for the other kinds).
    pub fn members(&self) -> &[Link] {
        match self.attachment() {
            Attachment::Group(links) => links,
            _ => &[],
        }
    }

    /// Detaches now and reports failures (dropping detaches too but cannot report). A pinned
    /// link is only closed: its pin keeps it attached.
    pub fn detach(mut self) -> Result<(), AttachError> {
        match (self.attachment.take(), &self.pinned) {
            (Some(attachment), None) => detach(attachment),
            _ => Ok(()),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let (Some(attachment), None) = (self.attachment.take(), &self.pinned) {
            let _ = detach(attachment);
        }
    }
}

fn pin_error(path: &Path, source: std::io::Error) -> AttachError {
    AttachError::Pin {
        path: path.to_path_buf(),
        source,
    }
}

fn detach(attachment: Attachment) -> Result<(), AttachError> {
    match attachment {
        Attachment::BpfLink(fd) => detach_bpf_link(fd),
        Attachment::PerfEvent { event, link, probe } => detach_perf_event(event, link, probe)?,
        Attachment::Group(links) => detach_group(links)?,
        Attachment::NetlinkXdp {
            mut socket,
            ifindex,
            mode_flags,
            prog,
        } => socket
            .xdp_set(ifindex, -1, mode_flags, Some(prog.as_raw_fd()))
            .map_err(|source| AttachError::Netlink {
                what: "detaching XDP",
                source,
            })?,
        Attachment::NetlinkTc {
            socket,
            filter,
            clsact,
        } => tc::detach_netlink(socket, filter, clsact)?,
        Attachment::ProgAttach {
            target,
            prog,
            attach_type,
        } => bpf::prog_detach(target.as_fd(), prog.as_fd(), attach_type)
            .map_err(|source| AttachError::syscall("BPF_PROG_DETACH", source))?,
        Attachment::SocketFilter { socket } => socket::detach_bpf(socket.as_fd())
            .map_err(|source| AttachError::syscall("SO_DETACH_BPF", source))?,
    }
    Ok(())
}

/// BPF_LINK_DETACH, then close. Closing alone detaches only once every copy of the fd is closed,
/// and a child forked by another thread holds copies until its exec; an explicit detach ends the
/// attachment now. Link types without a detach operation (raw tracepoint, tracing, perf event)
/// answer EOPNOTSUPP and end with the close.
fn detach_bpf_link(fd: OwnedFd) {
    let _ = bpf::link_detach(fd.as_fd());
    drop(fd);
}

/// Disables the event, closes link and event, then removes the tracefs probe (which the kernel
/// refuses to remove while an event still uses it).
fn detach_perf_event(
    event: OwnedFd,
    link: Option<OwnedFd>,
    probe: Option<DynamicProbe>,
) -> Result<(), AttachError> {
    let _ = perf::perf_event_disable(event.as_fd());
    if let Some(link) = link {
        detach_bpf_link(link);
    }
    drop(event);
    match probe {
        Some(probe) => probe.remove(),
        None => Ok(()),
    }
}

fn detach_group(links: Vec<Link>) -> Result<(), AttachError> {
    let mut first_error = None;
    for link in links {
        if let Err(e) = link.detach() {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_and_sync<T: Send + Sync>() {}

    #[test]
    fn links_move_between_threads() {
        send_and_sync::<Link>();
    }
}
