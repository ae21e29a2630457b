//! bpf(2): one function per command, each with its own `#[repr(C)]` attribute struct laid out as
//! the matching member of the kernel's `union bpf_attr`. Callers pass slices and fds; pointers
//! are only formed here, from borrows that outlive the call.

use std::ffi::CStr;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `BPF_OBJ_NAME_LEN`: names are at most 15 bytes plus the NUL.
pub const BPF_OBJ_NAME_LEN: usize = 16;

/// `enum bpf_cmd`.
mod cmd {
    pub const MAP_CREATE: u32 = 0;
    pub const MAP_LOOKUP_ELEM: u32 = 1;
    pub const MAP_UPDATE_ELEM: u32 = 2;
    pub const MAP_DELETE_ELEM: u32 = 3;
    pub const MAP_GET_NEXT_KEY: u32 = 4;
    pub const PROG_LOAD: u32 = 5;
    pub const OBJ_PIN: u32 = 6;
    pub const OBJ_GET: u32 = 7;
    pub const PROG_ATTACH: u32 = 8;
    pub const PROG_DETACH: u32 = 9;
    pub const PROG_TEST_RUN: u32 = 10;
    pub const PROG_GET_NEXT_ID: u32 = 11;
    pub const MAP_GET_NEXT_ID: u32 = 12;
    pub const PROG_GET_FD_BY_ID: u32 = 13;
    pub const MAP_GET_FD_BY_ID: u32 = 14;
    pub const OBJ_GET_INFO_BY_FD: u32 = 15;
    pub const RAW_TRACEPOINT_OPEN: u32 = 17;
    pub const BTF_LOAD: u32 = 18;
    pub const MAP_LOOKUP_AND_DELETE_ELEM: u32 = 21;
    pub const MAP_FREEZE: u32 = 22;
    pub const MAP_LOOKUP_BATCH: u32 = 24;
    pub const LINK_CREATE: u32 = 28;
    pub const LINK_GET_FD_BY_ID: u32 = 30;
    pub const LINK_GET_NEXT_ID: u32 = 31;
    pub const LINK_DETACH: u32 = 34;
}

/// Runs one bpf(2) command on `attr` and returns the kernel's non-negative result.
///
/// `A` must be one of this module's `#[repr(C)]` attribute structs, whose pointer fields hold
/// addresses of buffers that stay borrowed for the duration of the call.
fn sys_bpf<A>(command: u32, attr: &mut A) -> io::Result<libc::c_long> {
    // The verifier may answer EAGAIN when interrupted by a signal; libbpf retries a few times.
    let mut eagain_retries = if command == cmd::PROG_LOAD { 5 } else { 0 };
    loop {
        // SAFETY: `attr` is a live, exclusively borrowed repr(C) struct of `size_of::<A>()`
        // bytes; the kernel reads at most that many bytes and writes only the output fields of
        // the command inside it. Every pointer field was taken from a borrow held by the caller
        // across this call, with the length the kernel is told.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                command as libc::c_long,
                attr as *mut A as *mut libc::c_void,
                size_of::<A>() as libc::c_long,
            )
        };
        if rc >= 0 {
            return Ok(rc);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) if eagain_retries > 0 => eagain_retries -= 1,
            _ => return Err(err),
        }
    }
}

/// Wraps a file descriptor the kernel just returned.
fn owned_fd(rc: libc::c_long) -> OwnedFd {
    // SAFETY: `rc` is a non-negative fd returned by a successful fd-creating bpf(2) command;
    // nobody else owns it yet, so ownership passes to the `OwnedFd`.
    unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) }
}

fn ptr(bytes: &[u8]) -> u64 {
    if bytes.is_empty() {
        0
    } else {
        bytes.as_ptr() as u64
    }
}

fn ptr_mut(bytes: &mut [u8]) -> u64 {
    if bytes.is_empty() {
        0
    } else {
        bytes.as_mut_ptr() as u64
    }
}

fn fd_or_zero(fd: Option<BorrowedFd<'_>>) -> u32 {
    fd.map_or(0, |fd| fd.as_raw_fd() as u32)
}

fn len_u32(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))
}

/// Copies `name` into a kernel name field, truncated to 15 bytes.
fn object_name(name: &str) -> [u8; BPF_OBJ_NAME_LEN] {
    let mut out = [0u8; BPF_OBJ_NAME_LEN];
    let n = name.len().min(BPF_OBJ_NAME_LEN - 1);
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

fn is_enoent(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ENOENT)
}

// ---------------------------------------------------------------------------------------------
// Maps

/// Parameters of BPF_MAP_CREATE.
#[derive(Clone, Copy, Debug, Default)]
pub struct MapCreate<'a> {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map: Option<BorrowedFd<'a>>,
    pub numa_node: u32,
    /// Truncated to 15 bytes; the caller sanitizes it.
    pub name: &'a str,
    pub map_ifindex: u32,
    pub btf: Option<BorrowedFd<'a>>,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub map_extra: u64,
}

#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
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
struct MapElemAttr {
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
struct MapFreezeAttr {
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
struct MapBatchAttr {
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
    pub out_batch: &'a mut [u8],
    pub keys: &'a mut [u8],
    pub values: &'a mut [u8],
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

// ---------------------------------------------------------------------------------------------
// Programs

/// Parameters of BPF_PROG_LOAD. Slices are borrowed for the call; `log` receives the verifier
/// log when `log_level` is non-zero.
#[derive(Debug, Default)]
pub struct ProgLoad<'a> {
    pub prog_type: u32,
    /// Encoded instructions, 8 bytes each.
    pub insns: &'a [u8],
    pub license: &'a CStr,
    pub log_level: u32,
    pub log: Option<&'a mut [u8]>,
    pub kern_version: u32,
    pub prog_flags: u32,
    /// Truncated to 15 bytes; the caller sanitizes it.
    pub name: &'a str,
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf: Option<BorrowedFd<'a>>,
    /// `struct bpf_func_info` records (8 bytes each).
    pub func_info: &'a [u8],
    pub func_info_rec_size: u32,
    /// `struct bpf_line_info` records (16 bytes each).
    pub line_info: &'a [u8],
    pub line_info_rec_size: u32,
    pub attach_btf_id: u32,
    /// `attach_prog_fd` (freplace/fentry on a BPF program) or `attach_btf_obj_fd` (a module's
    /// BTF); both share one field.
    pub attach_fd: Option<BorrowedFd<'a>>,
    /// fds that `BPF_PSEUDO_MAP_IDX`/kfunc `off` fields index.
    pub fd_array: &'a [i32],
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; BPF_OBJ_NAME_LEN],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_prog_fd: u32,
    core_relo_cnt: u32,
    fd_array: u64,
    core_relos: u64,
    core_relo_rec_size: u32,
    _pad: u32,
}

fn record_count(bytes: &[u8], rec_size: u32) -> io::Result<u32> {
    if bytes.is_empty() || rec_size == 0 {
        return Ok(0);
    }
    len_u32(bytes.len() / rec_size as usize)
}

/// BPF_PROG_LOAD.
pub fn prog_load(params: ProgLoad<'_>) -> io::Result<OwnedFd> {
    let (log_buf, log_size) = match params.log {
        Some(log) if params.log_level != 0 => {
            if let Some(first) = log.first_mut() {
                *first = 0;
            }
            (ptr_mut(log), len_u32(log.len())?)
        }
        _ => (0, 0),
    };
    let mut attr = ProgLoadAttr {
        prog_type: params.prog_type,
        insn_cnt: len_u32(params.insns.len() / 8)?,
        insns: ptr(params.insns),
        license: params.license.as_ptr() as u64,
        log_level: if log_size == 0 { 0 } else { params.log_level },
        log_size,
        log_buf,
        kern_version: params.kern_version,
        prog_flags: params.prog_flags,
        prog_name: object_name(params.name),
        prog_ifindex: params.prog_ifindex,
        expected_attach_type: params.expected_attach_type,
        prog_btf_fd: fd_or_zero(params.prog_btf),
        func_info_rec_size: params.func_info_rec_size,
        func_info: ptr(params.func_info),
        func_info_cnt: record_count(params.func_info, params.func_info_rec_size)?,
        line_info_rec_size: params.line_info_rec_size,
        line_info: ptr(params.line_info),
        line_info_cnt: record_count(params.line_info, params.line_info_rec_size)?,
        attach_btf_id: params.attach_btf_id,
        attach_prog_fd: fd_or_zero(params.attach_fd),
        fd_array: if params.fd_array.is_empty() {
            0
        } else {
            params.fd_array.as_ptr() as u64
        },
        ..Default::default()
    };
    if attr.func_info_cnt == 0 {
        attr.func_info_rec_size = 0;
    }
    if attr.line_info_cnt == 0 {
        attr.line_info_rec_size = 0;
    }
    sys_bpf(cmd::PROG_LOAD, &mut attr).map(owned_fd)
}

#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}

/// Buffers of BPF_PROG_TEST_RUN. Output buffers may be empty (not requested).
#[derive(Debug, Default)]
pub struct TestRun<'a> {
    pub data_in: &'a [u8],
    pub data_out: &'a mut [u8],
    pub ctx_in: &'a [u8],
    pub ctx_out: &'a mut [u8],
    pub repeat: u32,
    pub flags: u32,
    pub cpu: u32,
}

/// What BPF_PROG_TEST_RUN returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestRunResult {
    pub retval: u32,
    /// Average run time in nanoseconds.
    pub duration: u32,
    /// Bytes the program's output packet holds (may exceed the buffer given).
    pub data_size_out: u32,
    pub ctx_size_out: u32,
}

/// BPF_PROG_TEST_RUN.
pub fn prog_test_run(prog: BorrowedFd<'_>, run: TestRun<'_>) -> io::Result<TestRunResult> {
    let mut attr = TestRunAttr {
        prog_fd: prog.as_raw_fd() as u32,
        data_size_in: len_u32(run.data_in.len())?,
        data_size_out: len_u32(run.data_out.len())?,
        data_in: ptr(run.data_in),
        data_out: ptr_mut(run.data_out),
        repeat: run.repeat,
        ctx_size_in: len_u32(run.ctx_in.len())?,
        ctx_size_out: len_u32(run.ctx_out.len())?,
        ctx_in: ptr(run.ctx_in),
        ctx_out: ptr_mut(run.ctx_out),
        flags: run.flags,
        cpu: run.cpu,
        ..Default::default()
    };
    sys_bpf(cmd::PROG_TEST_RUN, &mut attr)?;
    Ok(TestRunResult {
        retval: attr.retval,
        duration: attr.duration,
        data_size_out: attr.data_size_out,
        ctx_size_out: attr.ctx_size_out,
    })
}

// ---------------------------------------------------------------------------------------------
// Pinning

#[repr(C)]
#[derive(Default)]
struct ObjAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
}

/// BPF_OBJ_PIN: pins a map, program or link at `path` in a bpffs.
pub fn obj_pin(fd: BorrowedFd<'_>, path: &CStr) -> io::Result<()> {
    let mut attr = ObjAttr {
        pathname: path.as_ptr() as u64,
        bpf_fd: fd.as_raw_fd() as u32,
        file_flags: 0,
    };
    sys_bpf(cmd::OBJ_PIN, &mut attr).map(drop)
}

/// BPF_OBJ_GET: opens the object pinned at `path` (`file_flags`: 0, `BPF_F_RDONLY`,
/// `BPF_F_WRONLY`).
pub fn obj_get(path: &CStr, file_flags: u32) -> io::Result<OwnedFd> {
    let mut attr = ObjAttr {
        pathname: path.as_ptr() as u64,
        bpf_fd: 0,
        file_flags,
    };
    sys_bpf(cmd::OBJ_GET, &mut attr).map(owned_fd)
}

// ---------------------------------------------------------------------------------------------
// Attaching

#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// BPF_PROG_ATTACH (`BPF_F_ALLOW_OVERRIDE`/`BPF_F_ALLOW_MULTI`/`BPF_F_REPLACE` in `flags`).
pub fn prog_attach(
    target: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    attach_type: u32,
    flags: u32,
    replace: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: target.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type,
        attach_flags: flags,
        replace_bpf_fd: fd_or_zero(replace),
    };
    sys_bpf(cmd::PROG_ATTACH, &mut attr).map(drop)
}

/// BPF_PROG_DETACH of `prog` from `target`.
pub fn prog_detach(
    target: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    attach_type: u32,
) -> io::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: target.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type,
        ..Default::default()
    };
    sys_bpf(cmd::PROG_DETACH, &mut attr).map(drop)
}

#[repr(C)]
#[derive(Default)]
struct RawTracepointAttr {
    name: u64,
    prog_fd: u32,
    _pad: u32,
}

/// BPF_RAW_TRACEPOINT_OPEN: `name` is the tracepoint (None for tp_btf/fentry/fexit/lsm
/// programs, whose target was given at load time). Returns the link fd.
pub fn raw_tracepoint_open(name: Option<&CStr>, prog: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut attr = RawTracepointAttr {
        name: name.map_or(0, |n| n.as_ptr() as u64),
        prog_fd: prog.as_raw_fd() as u32,
        _pad: 0,
    };
    sys_bpf(cmd::RAW_TRACEPOINT_OPEN, &mut attr).map(owned_fd)
}

/// The attach-type-specific part of BPF_LINK_CREATE.
#[derive(Clone, Copy, Debug, Default)]
pub enum LinkExtra<'a> {
    #[default]
    None,
    /// `target_btf_id` (freplace on a BPF program's function).
    TargetBtfId(u32),
    /// BPF_PERF_EVENT: the `bpf_get_attach_cookie()` value.
    PerfEvent { bpf_cookie: u64 },
    /// Tracing programs (fentry/fexit/lsm/tp_btf) with a cookie.
    Tracing { target_btf_id: u32, cookie: u64 },
    /// BPF_TRACE_UPROBE_MULTI (attach type 48): probes at file `offsets` of `path`.
    UprobeMulti {
        path: &'a CStr,
        offsets: &'a [u64],
        ref_ctr_offsets: &'a [u64],
        cookies: &'a [u64],
        /// `BPF_F_UPROBE_MULTI_RETURN` (1) for return probes.
        flags: u32,
        /// 0 for every process.
        pid: u32,
    },
    /// BPF_TCX_INGRESS/EGRESS: placement relative to another program or link (0 for none).
    Tcx {
        relative_fd_or_id: u32,
        expected_revision: u64,
    },
}

/// Parameters of BPF_LINK_CREATE. `target` is a target fd (cgroup, netns, perf event, program)
/// or, for XDP and tcx, an interface index.
#[derive(Clone, Copy, Debug)]
pub struct LinkCreate<'a> {
    pub prog: BorrowedFd<'a>,
    pub target_fd_or_ifindex: u32,
    pub attach_type: u32,
    pub flags: u32,
    pub extra: LinkExtra<'a>,
}

#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target: u32,
    attach_type: u32,
    flags: u32,
    /// The union that follows, as 8-byte words (uprobe_multi is the largest member: 48 bytes).
    extra: [u64; 6],
}

fn link_extra_words(extra: &LinkExtra<'_>) -> io::Result<[u64; 6]> {
    let mut w = [0u64; 6];
    match *extra {
        LinkExtra::None => {}
        LinkExtra::TargetBtfId(id) => w[0] = u64::from(id),
        LinkExtra::PerfEvent { bpf_cookie } => w[0] = bpf_cookie,
        LinkExtra::Tracing {
            target_btf_id,
            cookie,
        } => {
            w[0] = u64::from(target_btf_id);
            w[1] = cookie;
        }
        LinkExtra::UprobeMulti {
            path,
            offsets,
            ref_ctr_offsets,
            cookies,
            flags,
            pid,
        } => {
            let count = offsets.len();
            if (!ref_ctr_offsets.is_empty() && ref_ctr_offsets.len() != count)
                || (!cookies.is_empty() && cookies.len() != count)
            {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            w[0] = path.as_ptr() as u64;
            w[1] = offsets.as_ptr() as u64;
            w[2] = if ref_ctr_offsets.is_empty() {
                0
            } else {
                ref_ctr_offsets.as_ptr() as u64
            };
            w[3] = if cookies.is_empty() {
                0
            } else {
                cookies.as_ptr() as u64
            };
            w[4] = u64::from(len_u32(count)?) | (u64::from(flags) << 32);
            w[5] = u64::from(pid);
        }
        LinkExtra::Tcx {
            relative_fd_or_id,
            expected_revision,
        } => {
            w[0] = u64::from(relative_fd_or_id);
            w[1] = expected_revision;
        }
    }
    Ok(w)
}

/// BPF_LINK_CREATE. Returns the link fd; the attachment lasts while it (or a pin) is open.
pub fn link_create(params: &LinkCreate<'_>) -> io::Result<OwnedFd> {
    let mut attr = LinkCreateAttr {
        prog_fd: params.prog.as_raw_fd() as u32,
        target: params.target_fd_or_ifindex,
        attach_type: params.attach_type,
        flags: params.flags,
        extra: link_extra_words(&params.extra)?,
    };
    sys_bpf(cmd::LINK_CREATE, &mut attr).map(owned_fd)
}

#[repr(C)]
#[derive(Default)]
struct LinkDetachAttr {
    link_fd: u32,
}

/// BPF_LINK_DETACH: detaches the link's program now, even while other fds keep the link open.
pub fn link_detach(link: BorrowedFd<'_>) -> io::Result<()> {
    let mut attr = LinkDetachAttr {
        link_fd: link.as_raw_fd() as u32,
    };
    sys_bpf(cmd::LINK_DETACH, &mut attr).map(drop)
}

// ---------------------------------------------------------------------------------------------
// BTF

#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
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

// ---------------------------------------------------------------------------------------------
// Object information and enumeration

#[repr(C)]
#[derive(Default)]
struct InfoAttr {
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
struct IdAttr {
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

// ---------------------------------------------------------------------------------------------
// Resource limits

/// Raises RLIMIT_MEMLOCK to infinity. Kernels since 5.11 charge BPF memory to the memory cgroup
/// instead, so a refusal (EPERM without CAP_SYS_RESOURCE) is harmless and ignored.
pub fn bump_memlock_rlimit() {
    let limit = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit reads one `rlimit` from a live local; its result is deliberately
    // ignored (see above).
    let _ = unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_sizes_match_the_kernel() {
        assert_eq!(size_of::<MapCreateAttr>(), 72);
        assert_eq!(size_of::<MapElemAttr>(), 32);
        assert_eq!(size_of::<MapBatchAttr>(), 56);
        assert_eq!(size_of::<ProgLoadAttr>(), 144);
        assert_eq!(size_of::<TestRunAttr>(), 80);
        assert_eq!(size_of::<LinkCreateAttr>(), 64);
        assert_eq!(size_of::<ProgInfo>(), 232);
        assert_eq!(size_of::<MapInfo>(), 88);
        assert_eq!(size_of::<BtfLoadAttr>(), 32);
    }

    #[test]
    fn names_are_truncated_to_fifteen_bytes() {
        let n = object_name("a_very_long_program_name");
        assert_eq!(&n[..15], b"a_very_long_pro");
        assert_eq!(n[15], 0);
    }
}
