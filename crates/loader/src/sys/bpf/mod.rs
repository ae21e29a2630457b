//! bpf(2): one function per command, each with its own `#[repr(C)]` attribute struct laid out as
//! the matching member of the kernel's `union bpf_attr`. Callers pass slices and fds; pointers
//! are only formed here, from borrows that outlive the call.

use std::ffi::CStr;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

mod attach;
mod btf;
mod info;
mod maps;
mod pins;
mod programs;

pub use attach::*;
pub use btf::*;
pub use info::*;
pub use maps::*;
pub use pins::*;
pub use programs::*;

/// `BPF_OBJ_NAME_LEN`: names are at most 15 bytes plus the NUL.
pub const BPF_OBJ_NAME_LEN: usize = 16;

/// `enum bpf_cmd`.
mod cmd {
    pub const MAP_CREATE: u32 = 0;
    pub const MAP_LOOKUP_ELEM: u32 = 1;
    pub const MAP_UPDATE_ELEM: u32 = 2;
    pub const MAP_DELETE_ELEM: u32 = 3;
    pub const MAP_GET_NEXT_KEY: u32 = 4;
    pub const PROG_LOAD: u32 = 5;
    pub const OBJ_PIN: u32 = 6;
    pub const OBJ_GET: u32 = 7;
    pub const PROG_ATTACH: u32 = 8;
    pub const PROG_DETACH: u32 = 9;
    pub const PROG_TEST_RUN: u32 = 10;
    pub const PROG_GET_NEXT_ID: u32 = 11;
    pub const MAP_GET_NEXT_ID: u32 = 12;
    pub const PROG_GET_FD_BY_ID: u32 = 13;
    pub const MAP_GET_FD_BY_ID: u32 = 14;
    pub const OBJ_GET_INFO_BY_FD: u32 = 15;
    pub const RAW_TRACEPOINT_OPEN: u32 = 17;
    pub const BTF_LOAD: u32 = 18;
    pub const MAP_LOOKUP_AND_DELETE_ELEM: u32 = 21;
    pub const MAP_FREEZE: u32 = 22;
    pub const MAP_LOOKUP_BATCH: u32 = 24;
    pub const LINK_CREATE: u32 = 28;
    pub const LINK_GET_FD_BY_ID: u32 = 30;
    pub const LINK_GET_NEXT_ID: u32 = 31;
    pub const LINK_DETACH: u32 = 34;
}

/// Runs one bpf(2) command on `attr` and returns the kernel's non-negative result.
///
/// `A` must be one of this module's `#[repr(C)]` attribute structs, whose pointer fields hold
/// addresses of buffers that stay borrowed for the duration of the call.
fn sys_bpf<A>(command: u32, attr: &mut A) -> io::Result<libc::c_long> {
    // The verifier may answer EAGAIN when interrupted by a signal; libbpf retries a few times.
    let mut eagain_retries = if command == cmd::PROG_LOAD { 5 } else { 0 };
    loop {
        // SAFETY: `attr` is a live, exclusively borrowed repr(C) struct of `size_of::<A>()`
        // bytes; the kernel reads at most that many bytes and writes only the output fields of
        // the command inside it. Every pointer field was taken from a borrow held by the caller
        // across this call, with the length the kernel is told.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                command as libc::c_long,
                attr as *mut A as *mut libc::c_void,
                size_of::<A>() as libc::c_long,
            )
        };
        if rc >= 0 {
            return Ok(rc);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) if eagain_retries > 0 => eagain_retries -= 1,
            _ => return Err(err),
        }
    }
}

/// Wraps a file descriptor the kernel just returned.
fn owned_fd(rc: libc::c_long) -> OwnedFd {
    // SAFETY: `rc` is a non-negative fd returned by a successful fd-creating bpf(2) command;
    // nobody else owns it yet, so ownership passes to the `OwnedFd`.
    unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) }
}

fn ptr(bytes: &[u8]) -> u64 {
    if bytes.is_empty() {
        0
    } else {
        bytes.as_ptr() as u64
    }
}

fn ptr_mut(bytes: &mut [u8]) -> u64 {
    if bytes.is_empty() {
        0
    } else {
        bytes.as_mut_ptr() as u64
    }
}

fn fd_or_zero(fd: Option<BorrowedFd<'_>>) -> u32 {
    fd.map_or(0, |fd| fd.as_raw_fd() as u32)
}

fn len_u32(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))
}

/// Copies `name` into a kernel name field, truncated to 15 bytes.
fn object_name(name: &str) -> [u8; BPF_OBJ_NAME_LEN] {
    let mut out = [0u8; BPF_OBJ_NAME_LEN];
    let n = name.len().min(BPF_OBJ_NAME_LEN - 1);
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

fn is_enoent(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ENOENT)
}

/// Raises RLIMIT_MEMLOCK to infinity. Kernels since 5.11 charge BPF memory to the memory cgroup
/// instead, so a refusal (EPERM without CAP_SYS_RESOURCE) is harmless and ignored.
pub fn bump_memlock_rlimit() {
    let limit = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit reads one `rlimit` from a live local; its result is deliberately
    // ignored (see above).
    let _ = unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) };
}

#[cfg(test)]
mod tests {
    use super::attach::LinkCreateAttr;
    use super::btf::BtfLoadAttr;
    use super::maps::{MapBatchAttr, MapCreateAttr, MapElemAttr};
    use super::programs::{ProgLoadAttr, TestRunAttr};
    use super::*;

    #[test]
    fn attribute_sizes_match_the_kernel() {
        assert_eq!(size_of::<MapCreateAttr>(), 72);
        assert_eq!(size_of::<MapElemAttr>(), 32);
        assert_eq!(size_of::<MapBatchAttr>(), 56);
        assert_eq!(size_of::<ProgLoadAttr>(), 144);
        assert_eq!(size_of::<TestRunAttr>(), 80);
        assert_eq!(size_of::<LinkCreateAttr>(), 64);
        assert_eq!(size_of::<ProgInfo>(), 232);
        assert_eq!(size_of::<MapInfo>(), 88);
        assert_eq!(size_of::<BtfLoadAttr>(), 32);
    }

    #[test]
    fn names_are_truncated_to_fifteen_bytes() {
        let n = object_name("a_very_long_program_name");
        assert_eq!(&n[..15], b"a_very_long_pro");
        assert_eq!(n[15], 0);
    }
}
