//! tc programs (sched_cls): a tcx link (BPF_LINK_CREATE with BPF_TCX_INGRESS/EGRESS) where the
//! kernel has tcx, else a clsact qdisc plus a cls_bpf filter in direct-action mode over rtnetlink.
//! The netlink filter outlives the process, so the link deletes it on drop, and the clsact qdisc
//! too when this process created it and no filter remains under it.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::{Mutex, MutexGuard};

use whistler_bpf::section::Section;
use whistler_bpf::AttachType;

use super::{link_create, AttachApi, AttachError, AttachProgramInfo, InterfaceMode, TcDirection};
use crate::link::{Attachment, Link};
use crate::sys::netlink::{
    interface_index, RouteSocket, TcFilterId, TC_PARENT_EGRESS, TC_PARENT_INGRESS,
};

pub(super) fn attach(
    prog: BorrowedFd<'_>,
    info: &AttachProgramInfo,
    section: &Section<'_>,
    interface: &str,
    mode: InterfaceMode,
) -> Result<Link, AttachError> {
    let ifindex = ifindex(interface)?;
    let direction = mode.direction.unwrap_or_else(|| section_direction(section));
    match mode.api {
        AttachApi::Link => tcx(prog, ifindex, direction),
        AttachApi::Netlink => netlink(prog, info, ifindex, direction),
        AttachApi::Auto => match tcx(prog, ifindex, direction) {
            Err(AttachError::Syscall { source, .. })
                if matches!(source.raw_os_error(), Some(libc::EINVAL)) =>
            {
                netlink(prog, info, ifindex, direction)
            }
            other => other,
        },
    }
}

/// Resolves an interface name in the calling thread's network namespace.
pub(super) fn ifindex(name: &str) -> Result<i32, AttachError> {
    interface_index(name).map_err(|source| AttachError::NoSuchInterface {
        name: name.to_owned(),
        source,
    })
}

/// `tc/egress`, `tcx/egress` and `classifier/egress`-style names mean egress; all else ingress.
fn section_direction(section: &Section<'_>) -> TcDirection {
    let egress = section.def.expected_attach_type == Some(AttachType::TCX_EGRESS)
        || section.target == "egress";
    if egress {
        TcDirection::Egress
    } else {
        TcDirection::Ingress
    }
}

fn tcx(prog: BorrowedFd<'_>, ifindex: i32, direction: TcDirection) -> Result<Link, AttachError> {
    let attach_type = match direction {
        TcDirection::Ingress => AttachType::TCX_INGRESS,
        TcDirection::Egress => AttachType::TCX_EGRESS,
    };
    let fd = link_create(prog, ifindex as u32, attach_type as u32, 0)
        .map_err(|e| AttachError::syscall("BPF_LINK_CREATE (tcx)", e))?;
    Ok(Link::new(Attachment::BpfLink(fd)))
}

fn netlink(
    prog: BorrowedFd<'_>,
    info: &AttachProgramInfo,
    ifindex: i32,
    direction: TcDirection,
) -> Result<Link, AttachError> {
    let error = |what| move |source| AttachError::Netlink { what, source };
    let clsact = ClsactKey::new(ifindex)?;
    let mut socket = RouteSocket::open().map_err(|e| error("opening rtnetlink")(e.into()))?;
    let created = socket
        .clsact_create(ifindex)
        .map_err(error("adding the clsact qdisc"))?;
    if created {
        clsacts_we_created().push(clsact);
    }
    let parent = match direction {
        TcDirection::Ingress => TC_PARENT_INGRESS,
        TcDirection::Egress => TC_PARENT_EGRESS,
    };
    let name = if info.name.is_empty() {
        "whistler"
    } else {
        &info.name
    };
    match socket.tc_filter_add(ifindex, parent, 0, 0, prog.as_raw_fd(), name) {
        Ok(filter) => Ok(Link::new(Attachment::NetlinkTc {
            socket,
            filter,
            clsact,
        })),
        Err(e) => {
            let _ = remove_clsact_if_unused(&mut socket, clsact);
            Err(error("adding the cls_bpf filter")(e))
        }
    }
}

/// A clsact qdisc, named by its network namespace (device and inode of the nsfs file) and
/// interface index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClsactKey {
    netns: (u64, u64),
    ifindex: i32,
}

impl ClsactKey {
    /// The clsact of `ifindex` in the calling thread's network namespace.
    fn new(ifindex: i32) -> Result<ClsactKey, AttachError> {
        let path = "/proc/thread-self/ns/net";
        let stat = rustix::fs::stat(path).map_err(|e| AttachError::Open {
            path: path.into(),
            source: e.into(),
        })?;
        Ok(ClsactKey {
            netns: (stat.st_dev as u64, stat.st_ino as u64),
            ifindex,
        })
    }
}

/// The clsact qdiscs this process added. Only those are ever removed, and only once no filter
/// is left under them, whichever of our links detaches last.
fn clsacts_we_created() -> MutexGuard<'static, Vec<ClsactKey>> {
    static CREATED: Mutex<Vec<ClsactKey>> = Mutex::new(Vec::new());
    CREATED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Deletes a filter added by [`netlink`], then the clsact qdisc if we added it and it is empty.
pub(crate) fn detach_netlink(
    mut socket: RouteSocket,
    filter: TcFilterId,
    clsact: ClsactKey,
) -> Result<(), AttachError> {
    socket
        .tc_filter_delete(filter)
        .map_err(|source| AttachError::Netlink {
            what: "deleting the tc filter",
            source,
        })?;
    remove_clsact_if_unused(&mut socket, clsact)
}

fn remove_clsact_if_unused(socket: &mut RouteSocket, clsact: ClsactKey) -> Result<(), AttachError> {
    let error = |what| move |source| AttachError::Netlink { what, source };
    let mut created = clsacts_we_created();
    let Some(position) = created.iter().position(|k| *k == clsact) else {
        return Ok(());
    };
    let ifindex = clsact.ifindex;
    let ingress = socket.tc_filter_count(ifindex, TC_PARENT_INGRESS);
    let egress = socket.tc_filter_count(ifindex, TC_PARENT_EGRESS);
    let remaining = ingress
        .and_then(|i| Ok(i + egress?))
        .map_err(error("listing tc filters"))?;
    if remaining == 0 {
        created.remove(position);
        socket
            .clsact_delete(ifindex)
            .map_err(error("deleting the clsact qdisc"))?;
    }
    Ok(())
}
