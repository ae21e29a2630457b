//! Raw tracepoint programs: BPF_RAW_TRACEPOINT_OPEN with the tracepoint's name (no tracefs).

use std::ffi::CString;
use std::os::fd::BorrowedFd;

use super::AttachError;
use crate::link::{Attachment, Link};
use crate::sys::bpf;

pub(super) fn attach(prog: BorrowedFd<'_>, name: &str) -> Result<Link, AttachError> {
    let name = CString::new(name).map_err(|_| AttachError::BadTarget {
        section: "raw_tracepoint".to_owned(),
        problem: format!("tracepoint name {name:?} contains a NUL byte"),
    })?;
    let link = bpf::raw_tracepoint_open(Some(&name), prog)
        .map_err(|e| AttachError::syscall("BPF_RAW_TRACEPOINT_OPEN", e))?;
    Ok(Link::new(Attachment::BpfLink(link)))
}
