//! Socket options that run a BPF program on a socket: SO_ATTACH_BPF and SO_DETACH_BPF.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

const SO_ATTACH_BPF: libc::c_int = 50;
/// SO_DETACH_BPF is SO_DETACH_FILTER.
const SO_DETACH_BPF: libc::c_int = 27;

/// Runs `prog` (a socket filter program) on every packet `socket` receives.
pub fn attach_bpf(socket: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    let prog_fd: libc::c_int = prog.as_raw_fd();
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `&prog_fd`, which lives across
    // the call; `socket` is a live fd borrowed for the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_ATTACH_BPF,
            (&prog_fd as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Removes the socket's filter program.
pub fn detach_bpf(socket: BorrowedFd<'_>) -> io::Result<()> {
    let unused: libc::c_int = 0;
    // SAFETY: as in `attach_bpf`; the kernel ignores the value for SO_DETACH_BPF.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_DETACH_BPF,
            (&unused as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
