//! Object information and enumeration: BPF_OBJ_GET_INFO_BY_FD, the GET_NEXT_ID commands and
//! GET_FD_BY_ID.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::*;

#[repr(C)]
#[derive(Default)]
pub(super) struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// BPF_OBJ_GET_INFO_BY_FD into `info`, which must be one of [`ProgInfo`], [`MapInfo`],
/// [`LinkInfo`].
fn obj_info<T: bytemuck::Pod>(fd: BorrowedFd<'_>) -> io::Result<T> {
    let mut info = T::zeroed();
    let bytes = bytemuck::bytes_of_mut(&mut info);
    let mut attr = InfoAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: len_u32(bytes.len())?,
        info: ptr_mut(bytes),
    };
    sys_bpf(cmd::OBJ_GET_INFO_BY_FD, &mut attr)?;
    Ok(info)
}

/// `struct bpf_prog_info` (pointer fields left zero: the kernel fills only the scalars).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ProgInfo {
    pub prog_type: u32,
    pub id: u32,
    pub tag: [u8; 8],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub jited_prog_insns: u64,
    pub xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub map_ids: u64,
    pub name: [u8; BPF_OBJ_NAME_LEN],
    pub ifindex: u32,
    /// Bit 0: gpl_compatible.
    pub gpl_compatible: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub nr_jited_ksyms: u32,
    pub nr_jited_func_lens: u32,
    pub jited_ksyms: u64,
    pub jited_func_lens: u64,
    pub btf_id: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub nr_func_info: u32,
    pub nr_line_info: u32,
    pub line_info: u64,
    pub jited_line_info: u64,
    pub nr_jited_line_info: u32,
    pub line_info_rec_size: u32,
    pub jited_line_info_rec_size: u32,
    pub nr_prog_tags: u32,
    pub prog_tags: u64,
    pub run_time_ns: u64,
    pub run_cnt: u64,
    pub recursion_misses: u64,
    pub verified_insns: u32,
    pub attach_btf_obj_id: u32,
    pub attach_btf_id: u32,
    pub _pad: u32,
}

/// `struct bpf_map_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MapInfo {
    pub map_type: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; BPF_OBJ_NAME_LEN],
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub _pad: u32,
    pub map_extra: u64,
}

/// `struct bpf_link_info`: the common header and the type-specific union as raw words (pointer
/// members such as a raw tracepoint's name buffer are left zero, so the kernel copies no string).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LinkInfo {
    /// `BPF_LINK_TYPE_*`.
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    pub _pad: u32,
    pub extra: [u64; 8],
}

/// BPF_OBJ_GET_INFO_BY_FD on a program.
pub fn prog_info(prog: BorrowedFd<'_>) -> io::Result<ProgInfo> {
    obj_info(prog)
}

/// BPF_OBJ_GET_INFO_BY_FD on a map.
pub fn map_info(map: BorrowedFd<'_>) -> io::Result<MapInfo> {
    obj_info(map)
}

/// BPF_OBJ_GET_INFO_BY_FD on a link.
pub fn link_info(link: BorrowedFd<'_>) -> io::Result<LinkInfo> {
    obj_info(link)
}

#[repr(C)]
#[derive(Default)]
pub(super) struct IdAttr {
    /// `start_id` for GET_NEXT_ID, the object's id for GET_FD_BY_ID.
    id: u32,
    next_id: u32,
    open_flags: u32,
}

fn next_id(command: u32, start: u32) -> io::Result<Option<u32>> {
    let mut attr = IdAttr {
        id: start,
        ..Default::default()
    };
    match sys_bpf(command, &mut attr) {
        Ok(_) => Ok(Some(attr.next_id)),
        Err(e) if is_enoent(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn fd_by_id(command: u32, id: u32) -> io::Result<OwnedFd> {
    let mut attr = IdAttr {
        id,
        ..Default::default()
    };
    sys_bpf(command, &mut attr).map(owned_fd)
}

/// BPF_PROG_GET_NEXT_ID: the next loaded program id after `start` (0 for the first).
pub fn prog_get_next_id(start: u32) -> io::Result<Option<u32>> {
    next_id(cmd::PROG_GET_NEXT_ID, start)
}

/// BPF_MAP_GET_NEXT_ID.
pub fn map_get_next_id(start: u32) -> io::Result<Option<u32>> {
    next_id(cmd::MAP_GET_NEXT_ID, start)
}

/// BPF_LINK_GET_NEXT_ID.
pub fn link_get_next_id(start: u32) -> io::Result<Option<u32>> {
    next_id(cmd::LINK_GET_NEXT_ID, start)
}

/// BPF_PROG_GET_FD_BY_ID (ENOENT when the program went away meanwhile).
pub fn prog_get_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    fd_by_id(cmd::PROG_GET_FD_BY_ID, id)
}

/// BPF_MAP_GET_FD_BY_ID.
pub fn map_get_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    fd_by_id(cmd::MAP_GET_FD_BY_ID, id)
}

/// BPF_LINK_GET_FD_BY_ID.
pub fn link_get_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    fd_by_id(cmd::LINK_GET_FD_BY_ID, id)
}
