//! BTF-based programs whose target was fixed at load time through attach_btf_id: tp_btf, fentry,
//! fexit, fmod_ret, lsm and iter. A BPF_LINK_CREATE with the program's attach type, else (kernels
//! before 5.13) BPF_RAW_TRACEPOINT_OPEN without a name, which does the same for these types.

use std::os::fd::BorrowedFd;

use whistler_bpf::section::Section;

use super::{attach_type_of, link_create, AttachError, AttachProgramInfo};
use crate::link::{Attachment, Link};
use crate::sys::bpf;

pub(super) fn attach(
    prog: BorrowedFd<'_>,
    info: &AttachProgramInfo,
    section: &Section<'_>,
) -> Result<Link, AttachError> {
    let attach_type = attach_type_of(info, section);
    let link = match link_create(prog, 0, attach_type, 0) {
        Ok(link) => link,
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL)) => {
            bpf::raw_tracepoint_open(None, prog)
                .map_err(|e| AttachError::syscall("BPF_RAW_TRACEPOINT_OPEN", e))?
        }
        Err(e) => return Err(AttachError::syscall("BPF_LINK_CREATE (tracing)", e)),
    };
    Ok(Link::new(Attachment::BpfLink(link)))
}
