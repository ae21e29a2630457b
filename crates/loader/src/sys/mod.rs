//! Every kernel call of the workspace: the only module where `unsafe` is allowed.
#![allow(unsafe_code)] // this module is the workspace's one boundary to raw syscalls and mmap

#[cfg(feature = "tokio")]
pub mod async_fd;
pub mod bpf;
pub(crate) mod kernel_file;
pub(crate) mod mmap;
pub mod netlink;
pub mod perf;
pub mod socket;
