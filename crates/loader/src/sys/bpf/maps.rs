//! Map commands: BPF_MAP_CREATE, element lookup/update/delete/next key, lookup-and-delete,
//! freeze and batch lookup.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::*;

/// Parameters of BPF_MAP_CREATE.
#[derive(Clone, Copy, Debug, Default)]
pub struct MapCreate<'a> {
    /// `BPF_MAP_TYPE_*` number.
    pub map_type: u32,
    /// Bytes per key (0 for keyless types).
    pub key_size: u32,
    /// Bytes per value.
    pub value_size: u32,
    /// The capacity (bytes for a ring buffer).
    pub max_entries: u32,
    /// `BPF_F_*` creation flags.
    pub map_flags: u32,
    /// For map-in-map types: a map like the ones the outer map will hold.
    pub inner_map: Option<BorrowedFd<'a>>,
    /// NUMA node for the memory, with `BPF_F_NUMA_NODE`.
    pub numa_node: u32,
    /// Truncated to 15 bytes; the caller sanitizes it.
    pub name: &'a str,
    /// Offload device (0: none).
    pub map_ifindex: u32,
    /// BTF describing the key and value.
    pub btf: Option<BorrowedFd<'a>>,
    /// The key's type id in `btf`.
    pub btf_key_type_id: u32,
    /// The value's type id in `btf`.
    pub btf_value_type_id: u32,
    /// For struct_ops maps: the value's type id in vmlinux BTF.
    pub btf_vmlinux_value_type_id: u32,
    /// Per-type extra (a bloom filter's hash count).
    pub map_extra: u64,
}

#[repr(C)]
#[derive(Default)]
pub(super) struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; BPF_OBJ_NAME_LEN],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
}

/// BPF_MAP_CREATE.
pub fn map_create(params: &MapCreate<'_>) -> io::Result<OwnedFd> {
    let mut attr = MapCreateAttr {
        map_type: params.map_type,
        key_size: params.key_size,
        value_size: params.value_size,
        max_entries: params.max_entries,
        map_flags: params.map_flags,
        inner_map_fd: fd_or_zero(params.inner_map),
        numa_node: params.numa_node,
        map_name: object_name(params.name),
        map_ifindex: params.map_ifindex,
        btf_fd: fd_or_zero(params.btf),
        btf_key_type_id: params.btf_key_type_id,
        btf_value_type_id: params.btf_value_type_id,
        btf_vmlinux_value_type_id: params.btf_vmlinux_value_type_id,
        map_extra: params.map_extra,
    };
    sys_bpf(cmd::MAP_CREATE, &mut attr).map(owned_fd)
}

#[repr(C)]
#[derive(Default)]
pub(super) struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    /// `value` or `next_key`.
    value: u64,
    flags: u64,
}

fn map_elem(command: u32, map: BorrowedFd<'_>, key: u64, value: u64, flags: u64) -> io::Result<()> {
    let mut attr = MapElemAttr {
        map_fd: map.as_raw_fd() as u32,
        key,
        value,
        flags,
        ..Default::default()
    };
    sys_bpf(command, &mut attr).map(drop)
}

/// BPF_MAP_LOOKUP_ELEM into `value` (which must be the map's value size, times the number of
/// possible CPUs rounded to 8 bytes each for per-CPU maps). An empty `key` is passed as NULL
/// (queues and stacks: peek). Returns false when the key is absent.
pub fn map_lookup_elem(
    map: BorrowedFd<'_>,
    key: &[u8],
    value: &mut [u8],
    flags: u64,
) -> io::Result<bool> {
    match map_elem(cmd::MAP_LOOKUP_ELEM, map, ptr(key), ptr_mut(value), flags) {
        Ok(()) => Ok(true),
        Err(e) if is_enoent(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// BPF_MAP_UPDATE_ELEM with `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST` (and `BPF_F_LOCK`) in `flags`.
/// An empty `key` is passed as NULL (queues and stacks: push).
pub fn map_update_elem(
    map: BorrowedFd<'_>,
    key: &[u8],
    value: &[u8],
    flags: u64,
) -> io::Result<()> {
    map_elem(cmd::MAP_UPDATE_ELEM, map, ptr(key), ptr(value), flags)
}

/// BPF_MAP_DELETE_ELEM.
pub fn map_delete_elem(map: BorrowedFd<'_>, key: &[u8]) -> io::Result<()> {
    map_elem(cmd::MAP_DELETE_ELEM, map, ptr(key), 0, 0)
}

/// BPF_MAP_GET_NEXT_KEY: the key after `key` (the first key when `None`) into `next_key`.
/// Returns false when there is none.
pub fn map_get_next_key(
    map: BorrowedFd<'_>,
    key: Option<&[u8]>,
    next_key: &mut [u8],
) -> io::Result<bool> {
    let key = key.map_or(0, ptr);
    match map_elem(cmd::MAP_GET_NEXT_KEY, map, key, ptr_mut(next_key), 0) {
        Ok(()) => Ok(true),
        Err(e) if is_enoent(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// BPF_MAP_LOOKUP_AND_DELETE_ELEM (queue and stack pop with an empty `key`; hash maps on newer
/// kernels). Returns false when there was nothing to take.
pub fn map_lookup_and_delete_elem(
    map: BorrowedFd<'_>,
    key: &[u8],
    value: &mut [u8],
    flags: u64,
) -> io::Result<bool> {
    let command = cmd::MAP_LOOKUP_AND_DELETE_ELEM;
    match map_elem(command, map, ptr(key), ptr_mut(value), flags) {
        Ok(()) => Ok(true),
        Err(e) if is_enoent(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

#[repr(C)]
#[derive(Default)]
pub(super) struct MapFreezeAttr {
    map_fd: u32,
}

/// BPF_MAP_FREEZE: the map becomes read-only for user space.
pub fn map_freeze(map: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = MapFreezeAttr {
        map_fd: map.as_raw_fd() as u32,
    };
    sys_bpf(cmd::MAP_FREEZE, &mut attr).map(drop)
}

#[repr(C)]
#[derive(Default)]
pub(super) struct MapBatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
    flags: u64,
}

/// Buffers of one BPF_MAP_LOOKUP_BATCH call. `keys` and `values` hold room for `count` entries;
/// the batch tokens are `key_size` bytes for hash maps and 4 bytes for arrays (use the larger).
pub struct LookupBatch<'a> {
    /// `None` to start from the beginning.
    pub in_batch: Option<&'a [u8]>,
    /// Receives the token to pass as `in_batch` for the next call.
    pub out_batch: &'a mut [u8],
    /// Receives the keys, `key_size` bytes each.
    pub keys: &'a mut [u8],
    /// Receives the values, `value_size` bytes each (per CPU: rounded to 8, times the CPU count).
    pub values: &'a mut [u8],
    /// How many entries the buffers have room for.
    pub count: u32,
}

/// What a BPF_MAP_LOOKUP_BATCH call returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchResult {
    /// Entries written to `keys`/`values`.
    pub count: u32,
    /// True when the map has no entries after these.
    pub done: bool,
}

/// BPF_MAP_LOOKUP_BATCH.
pub fn map_lookup_batch(
    map: BorrowedFd<'_>,
    batch: LookupBatch<'_>,
    elem_flags: u64,
) -> io::Result<BatchResult> {
    let mut attr = MapBatchAttr {
        in_batch: batch.in_batch.map_or(0, ptr),
        out_batch: ptr_mut(batch.out_batch),
        keys: ptr_mut(batch.keys),
        values: ptr_mut(batch.values),
        count: batch.count,
        map_fd: map.as_raw_fd() as u32,
        elem_flags,
        flags: 0,
    };
    match sys_bpf(cmd::MAP_LOOKUP_BATCH, &mut attr) {
        Ok(_) => Ok(BatchResult {
            count: attr.count,
            done: false,
        }),
        Err(e) if is_enoent(&e) => Ok(BatchResult {
            count: attr.count,
            done: true,
        }),
        Err(e) => Err(e),
    }
}
