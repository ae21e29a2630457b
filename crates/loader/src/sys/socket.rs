//! Socket options that run a BPF program on a socket: SO_ATTACH_BPF and SO_DETACH_BPF.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

const SO_ATTACH_BPF: libc::c_int = 50;
/// SO_DETACH_BPF is SO_DETACH_FILTER.
const SO_DETACH_BPF: libc::c_int = 27;

/// Runs `prog` (a socket filter program) on every packet `socket` receives.
pub fn attach_bpf(socket: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    set_int_option(socket, SO_ATTACH_BPF, prog.as_raw_fd())
}

/// Removes the socket's filter program.
pub fn detach_bpf(socket: BorrowedFd<'_>) -> io::Result<()> {
    // The kernel ignores the value for SO_DETACH_BPF.
    set_int_option(socket, SO_DETACH_BPF, 0)
}

/// setsockopt(2) at `SOL_SOCKET` of an option whose value is a C int.
fn set_int_option(
    socket: BorrowedFd<'_>,
    option: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `&value`, which lives across
    // the call; `socket` is a live fd borrowed for the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
