//! Registering an fd with tokio's reactor (feature `tokio`): `AsyncFd`'s constructors are
//! `unsafe` because the fd must stay open and the same while registered, which an `OwnedFd`
//! moved into the `AsyncFd` guarantees.

use std::os::fd::OwnedFd;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// `fd` registered with the current tokio runtime's reactor for readability.
pub fn register_readable(fd: OwnedFd) -> std::io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: the AsyncFd owns `fd`, an `OwnedFd` whose `as_raw_fd` always returns the same open
    // descriptor until it is dropped, and nothing else can close it meanwhile.
    unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }.map_err(|e| e.into())
}
