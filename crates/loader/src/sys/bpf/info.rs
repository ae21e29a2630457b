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
    /// `BPF_PROG_TYPE_*` number.
    pub prog_type: u32,
    /// The kernel's id of the program (what bpftool shows).
    pub id: u32,
    /// SHA-1 prefix of the instructions as loaded, before rewriting.
    pub tag: [u8; 8],
    /// Bytes of JIT-compiled machine code.
    pub jited_prog_len: u32,
    /// Bytes of instructions after the verifier's rewriting.
    pub xlated_prog_len: u32,
    /// User buffer for the machine code (left 0 here).
    pub jited_prog_insns: u64,
    /// User buffer for the rewritten instructions (left 0 here).
    pub xlated_prog_insns: u64,
    /// When it was loaded, in nanoseconds since boot.
    pub load_time: u64,
    /// The uid of the process that loaded it.
    pub created_by_uid: u32,
    /// How many maps it uses.
    pub nr_map_ids: u32,
    /// User buffer for their ids (left 0 here).
    pub map_ids: u64,
    /// The kernel-side name, NUL-padded.
    pub name: [u8; BPF_OBJ_NAME_LEN],
    /// The device it is offloaded to (0: none).
    pub ifindex: u32,
    /// Bit 0: gpl_compatible.
    pub gpl_compatible: u32,
    /// Device of the offload device's network namespace.
    pub netns_dev: u64,
    /// Inode of the offload device's network namespace.
    pub netns_ino: u64,
    /// How many kernel symbols its JIT-compiled functions have.
    pub nr_jited_ksyms: u32,
    /// How many JIT-compiled function lengths there are.
    pub nr_jited_func_lens: u32,
    /// User buffer for the symbols' addresses (left 0 here).
    pub jited_ksyms: u64,
    /// User buffer for the functions' lengths (left 0 here).
    pub jited_func_lens: u64,
    /// The id of the BTF it was loaded with (0: none).
    pub btf_id: u32,
    /// Size of one func_info record.
    pub func_info_rec_size: u32,
    /// User buffer for func_info records (left 0 here).
    pub func_info: u64,
    /// How many func_info records it has.
    pub nr_func_info: u32,
    /// How many line_info records it has.
    pub nr_line_info: u32,
    /// User buffer for line_info records (left 0 here).
    pub line_info: u64,
    /// User buffer for line_info in machine-code addresses (left 0 here).
    pub jited_line_info: u64,
    /// How many machine-code line_info records it has.
    pub nr_jited_line_info: u32,
    /// Size of one line_info record.
    pub line_info_rec_size: u32,
    /// Size of one machine-code line_info record.
    pub jited_line_info_rec_size: u32,
    /// How many function tags it has.
    pub nr_prog_tags: u32,
    /// User buffer for the tags (left 0 here).
    pub prog_tags: u64,
    /// Total run time in nanoseconds while `kernel.bpf_stats_enabled` is on.
    pub run_time_ns: u64,
    /// Number of runs while `kernel.bpf_stats_enabled` is on.
    pub run_cnt: u64,
    /// Runs skipped because the program was already running on that CPU.
    pub recursion_misses: u64,
    /// Instructions the verifier processed.
    pub verified_insns: u32,
    /// The id of the BTF object holding the attach target (vmlinux or a module).
    pub attach_btf_obj_id: u32,
    /// The attach target's type id in that BTF (tracing programs).
    pub attach_btf_id: u32,
    /// Padding to the kernel's size.
    pub _pad: u32,
}

/// `struct bpf_map_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MapInfo {
    /// `BPF_MAP_TYPE_*` number.
    pub map_type: u32,
    /// The kernel's id of the map.
    pub id: u32,
    /// Bytes per key.
    pub key_size: u32,
    /// Bytes per value.
    pub value_size: u32,
    /// The capacity (bytes for a ring buffer).
    pub max_entries: u32,
    /// `BPF_F_*` creation flags.
    pub map_flags: u32,
    /// The kernel-side name, NUL-padded.
    pub name: [u8; BPF_OBJ_NAME_LEN],
    /// The device it is offloaded to (0: none).
    pub ifindex: u32,
    /// For struct_ops maps: the value's type id in vmlinux BTF.
    pub btf_vmlinux_value_type_id: u32,
    /// Device of the offload device's network namespace.
    pub netns_dev: u64,
    /// Inode of the offload device's network namespace.
    pub netns_ino: u64,
    /// The id of the BTF describing key and value (0: none).
    pub btf_id: u32,
    /// The key's type id in that BTF.
    pub btf_key_type_id: u32,
    /// The value's type id in that BTF.
    pub btf_value_type_id: u32,
    /// Padding to the kernel's layout.
    pub _pad: u32,
    /// Per-type extra (a bloom filter's hash count).
    pub map_extra: u64,
}

/// `struct bpf_link_info`: the common header and the type-specific union as raw words (pointer
/// members such as a raw tracepoint's name buffer are left zero, so the kernel copies no string).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LinkInfo {
    /// `BPF_LINK_TYPE_*`.
    pub link_type: u32,
    /// The kernel's id of the link.
    pub id: u32,
    /// The id of the program it runs.
    pub prog_id: u32,
    /// Padding to the kernel's layout.
    pub _pad: u32,
    /// The type-specific part (cgroup id, ifindex, attach type...) as raw words.
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
