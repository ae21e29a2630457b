//! Program commands: BPF_PROG_LOAD and BPF_PROG_TEST_RUN.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::*;

/// Parameters of BPF_PROG_LOAD. Slices are borrowed for the call; `log` receives the verifier
/// log when `log_level` is non-zero.
#[derive(Debug, Default)]
pub struct ProgLoad<'a> {
    /// `BPF_PROG_TYPE_*` number.
    pub prog_type: u32,
    /// Encoded instructions, 8 bytes each.
    pub insns: &'a [u8],
    /// The license string; GPL-only helpers need a GPL-compatible one.
    pub license: &'a CStr,
    /// Verifier log level (0: none, 1: the log, 2: every state).
    pub log_level: u32,
    /// The buffer for the verifier log.
    pub log: Option<&'a mut [u8]>,
    /// `LINUX_VERSION_CODE` (checked only by very old kernels for kprobes).
    pub kern_version: u32,
    /// `BPF_F_*` load flags (`BPF_F_SLEEPABLE`...).
    pub prog_flags: u32,
    /// Truncated to 15 bytes; the caller sanitizes it.
    pub name: &'a str,
    /// Offload device (0: none).
    pub prog_ifindex: u32,
    /// `enum bpf_attach_type`, for the types whose hook must be known at load.
    pub expected_attach_type: u32,
    /// The object's BTF, which `func_info` and `line_info` refer to.
    pub prog_btf: Option<BorrowedFd<'a>>,
    /// `struct bpf_func_info` records (8 bytes each).
    pub func_info: &'a [u8],
    /// Size of one func_info record.
    pub func_info_rec_size: u32,
    /// `struct bpf_line_info` records (16 bytes each).
    pub line_info: &'a [u8],
    /// Size of one line_info record.
    pub line_info_rec_size: u32,
    /// The attach target's BTF type id (fentry/fexit/lsm/tp_btf).
    pub attach_btf_id: u32,
    /// `attach_prog_fd` (freplace/fentry on a BPF program) or `attach_btf_obj_fd` (a module's
    /// BTF); both share one field.
    pub attach_fd: Option<BorrowedFd<'a>>,
    /// fds that `BPF_PSEUDO_MAP_IDX`/kfunc `off` fields index.
    pub fd_array: &'a [i32],
}

#[repr(C)]
#[derive(Default)]
pub(super) struct ProgLoadAttr {
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
pub(super) struct TestRunAttr {
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
    /// The input packet (or other input data).
    pub data_in: &'a [u8],
    /// Receives the output packet.
    pub data_out: &'a mut [u8],
    /// The input context (an `__sk_buff`, say); empty for the kernel's default.
    pub ctx_in: &'a [u8],
    /// Receives the output context.
    pub ctx_out: &'a mut [u8],
    /// Runs (0 and 1 both mean once).
    pub repeat: u32,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// The CPU to run on, with `BPF_F_TEST_RUN_ON_CPU`.
    pub cpu: u32,
}

/// What BPF_PROG_TEST_RUN returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value.
    pub retval: u32,
    /// Average run time in nanoseconds.
    pub duration: u32,
    /// Bytes the program's output packet holds (may exceed the buffer given).
    pub data_size_out: u32,
    /// Bytes of the output context.
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
