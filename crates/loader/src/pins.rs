//! Pinning in a bpffs: making a program, map or link outlive its fds under a path, and opening
//! what is pinned at a path, checked to be the kind of object the caller expects.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::sys::bpf;

/// What a BPF object fd refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// A loaded program.
    Program,
    /// A map.
    Map,
    /// A BPF link (an attachment).
    Link,
}

impl ObjectKind {
    fn name(self) -> &'static str {
        match self {
            ObjectKind::Program => "program",
            ObjectKind::Map => "map",
            ObjectKind::Link => "link",
        }
    }

    /// The kind of a BPF fd, from the name of its anonymous inode (`anon_inode:bpf-prog`...).
    pub fn of(fd: BorrowedFd<'_>) -> io::Result<ObjectKind> {
        let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))?;
        match target.as_os_str().as_bytes() {
            b"anon_inode:bpf-prog" => Ok(ObjectKind::Program),
            b"anon_inode:bpf-map" => Ok(ObjectKind::Map),
            b"anon_inode:bpf-link" => Ok(ObjectKind::Link),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a BPF object ({})", String::from_utf8_lossy(other)),
            )),
        }
    }
}

/// The path as the kernel takes it.
fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

/// Pins `fd` at `path` (BPF_OBJ_PIN); the object then lives until the file is removed.
pub(crate) fn pin(fd: BorrowedFd<'_>, path: &Path) -> io::Result<()> {
    bpf::obj_pin(fd, &c_path(path)?)
}

/// Opens the object pinned at `path` (BPF_OBJ_GET) and checks that it is a `kind`.
pub(crate) fn open(path: &Path, kind: ObjectKind) -> io::Result<OwnedFd> {
    let fd = bpf::obj_get(&c_path(path)?, 0)?;
    let found = ObjectKind::of(fd.as_fd())?;
    if found != kind {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a BPF {} is pinned there, not a {}",
                found.name(),
                kind.name()
            ),
        ));
    }
    Ok(fd)
}
