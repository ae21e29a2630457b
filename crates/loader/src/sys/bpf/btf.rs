//! BPF_BTF_LOAD.

use std::io;
use std::os::fd::OwnedFd;

use super::*;

#[repr(C)]
#[derive(Default)]
pub(super) struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    _pad: u32,
}

/// BPF_BTF_LOAD of raw `.BTF` bytes; `log` receives the kernel's BTF log when given.
pub fn btf_load(btf: &[u8], log: Option<&mut [u8]>) -> io::Result<OwnedFd> {
    let (log_buf, log_size) = match log {
        Some(log) if !log.is_empty() => {
            log[0] = 0;
            (ptr_mut(log), len_u32(log.len())?)
        }
        _ => (0, 0),
    };
    let mut attr = BtfLoadAttr {
        btf: ptr(btf),
        btf_log_buf: log_buf,
        btf_size: len_u32(btf.len())?,
        btf_log_size: log_size,
        btf_log_level: u32::from(log_size != 0),
        _pad: 0,
    };
    sys_bpf(cmd::BTF_LOAD, &mut attr).map(owned_fd)
}
