//! Pinning in a bpffs: BPF_OBJ_PIN and BPF_OBJ_GET.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::*;

#[repr(C)]
#[derive(Default)]
pub(super) struct ObjAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
}

/// BPF_OBJ_PIN: pins a map, program or link at `path` in a bpffs.
pub fn obj_pin(fd: BorrowedFd<'_>, path: &CStr) -> io::Result<()> {
    let mut attr = ObjAttr {
        pathname: path.as_ptr() as u64,
        bpf_fd: fd.as_raw_fd() as u32,
        file_flags: 0,
    };
    sys_bpf(cmd::OBJ_PIN, &mut attr).map(drop)
}

/// BPF_OBJ_GET: opens the object pinned at `path` (`file_flags`: 0, `BPF_F_RDONLY`,
/// `BPF_F_WRONLY`).
pub fn obj_get(path: &CStr, file_flags: u32) -> io::Result<OwnedFd> {
    let mut attr = ObjAttr {
        pathname: path.as_ptr() as u64,
        bpf_fd: 0,
        file_flags,
    };
    sys_bpf(cmd::OBJ_GET, &mut attr).map(owned_fd)
}
