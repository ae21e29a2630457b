//! BPF maps: creating one from a definition, pinning and reusing pins, and untyped byte access
//! (lookup, update, delete, per-CPU values, queue/stack push/pop, freeze). Iteration lives in
//! `iter.rs`, the typed layer over `bytemuck::Pod` keys and values in `typed.rs`.

mod iter;
mod typed;

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use whistler_bpf::MapType;

use crate::cpus::possible_cpu_count;
use crate::error::MapError;
use crate::sys::bpf;

pub use iter::{BatchBuffers, Entries, Entry, Keys};
pub use typed::{PerCpuMap, TypedMap};

pub use whistler_bpf::consts::{BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG};

/// How an update treats an existing entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpdateFlags {
    /// `BPF_ANY`: create or replace.
    #[default]
    #[doc(alias = "BPF_ANY")]
    Any,
    /// `BPF_NOEXIST`: only create.
    #[doc(alias = "BPF_NOEXIST")]
    NoExist,
    /// `BPF_EXIST`: only replace.
    #[doc(alias = "BPF_EXIST")]
    Exist,
}

impl UpdateFlags {
    fn bits(self) -> u64 {
        match self {
            UpdateFlags::Any => 0,
            UpdateFlags::NoExist => 1,
            UpdateFlags::Exist => 2,
        }
    }
}

/// What a map is, as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInfo {
    /// The kernel-side name (at most 15 bytes).
    pub name: String,
    /// `BPF_MAP_TYPE_*` number; see [`MapInfo::kind`].
    pub map_type: u32,
    /// Bytes per key (0 for keyless maps: queues, stacks, ring buffers, bloom filters).
    pub key_size: u32,
    /// Bytes per value (per CPU for per-CPU maps).
    pub value_size: u32,
    /// The capacity: entries, or bytes for a ring buffer.
    pub max_entries: u32,
    /// `BPF_F_*` flags the map was created with.
    pub map_flags: u32,
    /// The kernel's id of the map.
    pub id: u32,
}

impl MapInfo {
    /// The map type, when this crate knows its number.
    pub fn kind(&self) -> Option<MapType> {
        MapType::from_u32(self.map_type)
    }

    /// True when programs can only read the map (`BPF_F_RDONLY_PROG`): constants such as an
    /// object's `.rodata`, never a program's results.
    pub fn read_only_for_programs(&self) -> bool {
        self.map_flags & whistler_bpf::consts::BPF_F_RDONLY_PROG != 0
    }

    fn kind_name(&self) -> String {
        self.kind().map_or_else(
            || format!("map type {}", self.map_type),
            |k| k.kernel_name().into(),
        )
    }

    fn from_kernel(info: &bpf::MapInfo) -> MapInfo {
        MapInfo {
            name: kernel_name(&info.name),
            map_type: info.map_type,
            key_size: info.key_size,
            value_size: info.value_size,
            max_entries: info.max_entries,
            map_flags: info.map_flags,
            id: info.id,
        }
    }
}

/// Reads a NUL-padded kernel name.
pub(crate) fn kernel_name(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// What to create. `name` is the user's name (kept whole in [`Map::name`]); the kernel gets a
/// sanitized, truncated copy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapDefinition {
    /// The map's name in the object.
    pub name: String,
    /// `BPF_MAP_TYPE_*` number.
    pub map_type: u32,
    /// Bytes per key (0 for keyless types).
    pub key_size: u32,
    /// Bytes per value.
    pub value_size: u32,
    /// 0 for perf_event_array means one entry per possible CPU.
    pub max_entries: u32,
    /// `BPF_F_*` creation flags (`BPF_F_NO_PREALLOC` for LPM tries, say).
    pub map_flags: u32,
    /// Bloom filter hash count and other per-type extras.
    pub map_extra: u64,
}

/// Extras of [`Map::create_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CreateOptions<'a> {
    /// BTF describing the key and value (both ids in it).
    pub btf: Option<BorrowedFd<'a>>,
    /// The key's type id in `btf` (0: none).
    pub btf_key_type_id: u32,
    /// The value's type id in `btf` (0: none).
    pub btf_value_type_id: u32,
    /// For array_of_maps / hash_of_maps: a map like the ones the outer map will hold.
    pub inner_map: Option<BorrowedFd<'a>>,
}

/// A map the process holds an fd of. Dropping it closes the fd; the map itself lives on while a
/// program or pin still refers to it.
#[derive(Debug)]
pub struct Map {
    fd: OwnedFd,
    /// The user's name (the object's, not truncated).
    name: String,
    info: MapInfo,
    pinned: Option<PathBuf>,
}

/// Makes a name the kernel accepts: `[A-Za-z0-9_.]`, other bytes become `_`, at most 15 bytes.
pub fn sanitize_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(15)
        .collect()
}

impl Map {
    /// Creates a map. perf_event_array with `max_entries == 0` gets one entry per possible CPU;
    /// lpm_trie always gets `BPF_F_NO_PREALLOC`.
    pub fn create(def: &MapDefinition) -> Result<Map, MapError> {
        Map::create_with(def, &CreateOptions::default())
    }

    /// Creates a map with BTF key/value types or an inner map template.
    pub fn create_with(def: &MapDefinition, options: &CreateOptions<'_>) -> Result<Map, MapError> {
        let mut def = def.clone();
        if def.map_type == MapType::PERF_EVENT_ARRAY as u32 && def.max_entries == 0 {
            def.max_entries = possible_cpu_count().map_err(MapError::Cpus)? as u32;
        }
        if def.map_type == MapType::LPM_TRIE as u32 {
            def.map_flags |= BPF_F_NO_PREALLOC;
        }
        let kernel_name = sanitize_name(&def.name);
        let params = bpf::MapCreate {
            map_type: def.map_type,
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries: def.max_entries,
            map_flags: def.map_flags,
            inner_map: options.inner_map,
            name: &kernel_name,
            btf: options.btf,
            btf_key_type_id: options.btf_key_type_id,
            btf_value_type_id: options.btf_value_type_id,
            map_extra: def.map_extra,
            ..Default::default()
        };
        let fd = bpf::map_create(&params)
            .map_err(|e| MapError::syscall(&def.name, "BPF_MAP_CREATE", e))?;
        Map::from_fd(fd, &def.name)
    }

    /// Wraps an fd of an existing map, reading its description from the kernel.
    pub fn from_fd(fd: OwnedFd, name: &str) -> Result<Map, MapError> {
        let info = bpf::map_info(fd.as_fd())
            .map_err(|e| MapError::syscall(name, "BPF_OBJ_GET_INFO_BY_FD", e))?;
        Ok(Map {
            fd,
            name: name.to_string(),
            info: MapInfo::from_kernel(&info),
            pinned: None,
        })
    }

    /// Opens a map pinned at `path` in a bpffs (an error if something else is pinned there).
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Map, MapError> {
        let path = path.as_ref();
        let fd = crate::pins::open(path, crate::pins::ObjectKind::Map).map_err(|source| {
            MapError::Pin {
                path: path.to_path_buf(),
                source,
            }
        })?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut map = Map::from_fd(fd, &name)?;
        map.pinned = Some(path.to_path_buf());
        Ok(map)
    }

    /// Pins the map at `path` (in a mounted bpffs). The pin outlives the process until
    /// [`Map::unpin`] or removal of the file.
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<(), MapError> {
        let path = path.as_ref();
        bpf::obj_pin(self.fd.as_fd(), &path_cstring(path)?).map_err(|source| MapError::Pin {
            path: path.to_path_buf(),
            source,
        })?;
        self.pinned = Some(path.to_path_buf());
        Ok(())
    }

    /// Removes the pin made by [`Map::pin`] or opened by [`Map::from_pin`].
    pub fn unpin(&mut self) -> Result<(), MapError> {
        if let Some(path) = self.pinned.take() {
            std::fs::remove_file(&path).map_err(|source| MapError::Pin { path, source })?;
        }
        Ok(())
    }

    /// Where the map is pinned ([`Map::pin`] or [`Map::from_pin`]).
    pub fn pinned_path(&self) -> Option<&Path> {
        self.pinned.as_deref()
    }

    pub(crate) fn set_pinned_path(&mut self, path: PathBuf) {
        self.pinned = Some(path);
    }

    /// The name the map was created or opened with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The map's type, sizes, flags and id as the kernel reported them at creation or open.
    pub fn info(&self) -> &MapInfo {
        &self.info
    }

    /// Bytes of one whole value as the syscalls read and write it: per-CPU maps hold one value
    /// per possible CPU, each rounded up to 8 bytes.
    pub fn syscall_value_size(&self) -> Result<usize, MapError> {
        let size = self.info.value_size as usize;
        if self.is_per_cpu() {
            let cpus = possible_cpu_count().map_err(MapError::Cpus)?;
            Ok(size.next_multiple_of(8) * cpus)
        } else {
            Ok(size)
        }
    }

    /// True for per-CPU hash and array maps.
    pub fn is_per_cpu(&self) -> bool {
        self.info.kind().is_some_and(MapType::is_per_cpu)
    }

    fn check_size(&self, what: &'static str, expected: usize, got: usize) -> Result<(), MapError> {
        if expected == got {
            return Ok(());
        }
        Err(MapError::WrongSize {
            map: self.name.clone(),
            what,
            expected,
            got,
        })
    }

    fn check_key(&self, key: &[u8]) -> Result<(), MapError> {
        self.check_size("key", self.info.key_size as usize, key.len())
    }

    fn syscall_error(
        &self,
        operation: &'static str,
    ) -> impl FnOnce(std::io::Error) -> MapError + '_ {
        move |e| MapError::syscall(&self.name, operation, e)
    }

    fn unsupported(&self, operation: &'static str) -> MapError {
        MapError::Unsupported {
            map: self.name.clone(),
            map_type: self.info.kind_name(),
            operation,
        }
    }

    /// The value stored under `key`, `None` when absent. For per-CPU maps this is every CPU's
    /// value back to back (see [`Map::lookup_per_cpu`]).
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        self.check_key(key)?;
        let mut value = vec![0u8; self.syscall_value_size()?];
        let found = bpf::map_lookup_elem(self.fd.as_fd(), key, &mut value, 0)
            .map_err(self.syscall_error("BPF_MAP_LOOKUP_ELEM"))?;
        Ok(found.then_some(value))
    }

    /// One value per possible CPU, `None` when the key is absent.
    pub fn lookup_per_cpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>, MapError> {
        if !self.is_per_cpu() {
            return Err(self.unsupported("per-CPU lookup"));
        }
        Ok(self.lookup(key)?.map(|raw| self.split_per_cpu(&raw)))
    }

    /// Splits a per-CPU map's whole value (as [`Map::lookup`] and [`Map::lookup_batch`] return
    /// it) into one value per CPU.
    pub fn split_per_cpu(&self, raw: &[u8]) -> Vec<Vec<u8>> {
        self.per_cpu_values(raw).map(<[u8]>::to_vec).collect()
    }

    /// Each CPU's value in a per-CPU map's whole value, without copying them.
    pub fn per_cpu_values<'a>(
        &self,
        raw: &'a [u8],
    ) -> impl Iterator<Item = &'a [u8]> + Clone + use<'a> {
        let size = self.info.value_size as usize;
        let stride = size.next_multiple_of(8).max(1);
        raw.chunks(stride).map(move |c| &c[..size.min(c.len())])
    }

    /// Stores `value` under `key`. For per-CPU maps `value` is every CPU's value, each padded
    /// to 8 bytes (see [`Map::update_per_cpu`]).
    pub fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), MapError> {
        self.check_key(key)?;
        self.check_size("value", self.syscall_value_size()?, value.len())?;
        bpf::map_update_elem(self.fd.as_fd(), key, value, flags.bits())
            .map_err(self.syscall_error("BPF_MAP_UPDATE_ELEM"))
    }

    /// Stores one value per possible CPU under `key`.
    pub fn update_per_cpu(
        &self,
        key: &[u8],
        values: &[Vec<u8>],
        flags: UpdateFlags,
    ) -> Result<(), MapError> {
        if !self.is_per_cpu() {
            return Err(self.unsupported("per-CPU update"));
        }
        let cpus = possible_cpu_count().map_err(MapError::Cpus)?;
        self.check_size("per-CPU value list", cpus, values.len())?;
        let size = self.info.value_size as usize;
        let stride = size.next_multiple_of(8);
        let mut raw = vec![0u8; stride * cpus];
        for (slot, value) in raw.chunks_mut(stride).zip(values) {
            self.check_size("value", size, value.len())?;
            slot[..size].copy_from_slice(value);
        }
        self.update(key, &raw, flags)
    }

    /// Removes `key`; returns false when it was not there.
    pub fn delete(&self, key: &[u8]) -> Result<bool, MapError> {
        self.check_key(key)?;
        match bpf::map_delete_elem(self.fd.as_fd(), key) {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(e) => Err(self.syscall_error("BPF_MAP_DELETE_ELEM")(e)),
        }
    }

    fn check_queue(&self, operation: &'static str) -> Result<(), MapError> {
        match self.info.kind() {
            Some(MapType::QUEUE | MapType::STACK) => Ok(()),
            Some(MapType::BLOOM_FILTER) if operation != "pop" => Ok(()),
            _ => Err(self.unsupported(operation)),
        }
    }

    /// Pushes onto a queue or stack (or adds to a bloom filter). With [`UpdateFlags::Exist`] a
    /// full queue drops its oldest element instead of failing (`BPF_EXIST`).
    pub fn push(&self, value: &[u8], flags: UpdateFlags) -> Result<(), MapError> {
        self.check_queue("push")?;
        self.check_size("value", self.info.value_size as usize, value.len())?;
        bpf::map_update_elem(self.fd.as_fd(), &[], value, flags.bits())
            .map_err(self.syscall_error("push (BPF_MAP_UPDATE_ELEM)"))
    }

    /// Takes the next element off a queue (oldest) or stack (newest).
    pub fn pop(&self) -> Result<Option<Vec<u8>>, MapError> {
        self.check_queue("pop")?;
        let mut value = vec![0u8; self.info.value_size as usize];
        let found = bpf::map_lookup_and_delete_elem(self.fd.as_fd(), &[], &mut value, 0)
            .map_err(self.syscall_error("pop (BPF_MAP_LOOKUP_AND_DELETE_ELEM)"))?;
        Ok(found.then_some(value))
    }

    /// The element [`Map::pop`] would take, left in place. For a bloom filter, whether
    /// `value` may be in the set is asked with [`Map::contains`] instead.
    pub fn peek(&self) -> Result<Option<Vec<u8>>, MapError> {
        self.check_queue("peek")?;
        let mut value = vec![0u8; self.info.value_size as usize];
        let found = bpf::map_lookup_elem(self.fd.as_fd(), &[], &mut value, 0)
            .map_err(self.syscall_error("peek (BPF_MAP_LOOKUP_ELEM)"))?;
        Ok(found.then_some(value))
    }

    /// For a bloom filter: false when `value` was certainly never pushed.
    pub fn contains(&self, value: &[u8]) -> Result<bool, MapError> {
        if self.info.kind() != Some(MapType::BLOOM_FILTER) {
            return Err(self.unsupported("contains"));
        }
        let mut probe = value.to_vec();
        bpf::map_lookup_elem(self.fd.as_fd(), &[], &mut probe, 0)
            .map_err(self.syscall_error("BPF_MAP_LOOKUP_ELEM"))
    }

    /// Makes the map read-only for user space from now on (programs still write it unless it
    /// was created with `BPF_F_RDONLY_PROG`).
    pub fn freeze(&self) -> Result<(), MapError> {
        bpf::map_freeze(self.fd.as_fd()).map_err(self.syscall_error("BPF_MAP_FREEZE"))
    }

    /// Gives up the map's fd.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

pub(crate) fn path_cstring(path: &Path) -> Result<CString, MapError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| MapError::Pin {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains NUL"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized() {
        assert_eq!(sanitize_name("pkt-count"), "pkt_count");
        assert_eq!(sanitize_name("a.b:c/d"), "a.b_c_d");
        assert_eq!(
            sanitize_name("a_very_long_map_name_here"),
            "a_very_long_map"
        );
    }
}
