//! perf_event_open(2) and the perf ioctls the attach code needs (`struct perf_event_attr`,
//! PERF_EVENT_IOC_ENABLE/DISABLE/SET_BPF).

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `PERF_TYPE_HARDWARE`: the CPU's generalized counters (`PERF_COUNT_HW_*`), when the machine
/// exposes a PMU.
pub const PERF_TYPE_HARDWARE: u32 = 0;
/// `PERF_TYPE_SOFTWARE`: the kernel's software events (dynamic PMUs such as kprobe/uprobe read
/// their type from sysfs).
pub const PERF_TYPE_SOFTWARE: u32 = 1;
/// `PERF_TYPE_TRACEPOINT`: `config` is a tracefs event id.
pub const PERF_TYPE_TRACEPOINT: u32 = 2;

/// `PERF_COUNT_SW_CPU_CLOCK`: a timer on CPU time (perf_event programs sample on it).
pub const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;
/// `PERF_COUNT_SW_BPF_OUTPUT`: the event `bpf_perf_event_output` writes samples to.
pub const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;

/// `PERF_SAMPLE_RAW`.
pub const PERF_SAMPLE_RAW: u64 = 1 << 10;

/// `PERF_RECORD_LOST`: a ring record counting samples dropped because the ring was full.
pub const PERF_RECORD_LOST: u32 = 2;
/// `PERF_RECORD_SAMPLE`: a ring record holding one sample.
pub const PERF_RECORD_SAMPLE: u32 = 9;

/// `disabled` bit of `perf_event_attr`'s flags: the event starts off until enabled.
pub const FLAG_DISABLED: u64 = 1 << 0;
/// `freq` bit: `sample_period_or_freq` is a frequency.
pub const FLAG_FREQ: u64 = 1 << 10;
/// `watermark` bit: `wakeup` counts bytes, not events.
pub const FLAG_WATERMARK: u64 = 1 << 14;

const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;

/// `struct perf_event_attr` (PERF_ATTR_SIZE_VER8, 136 bytes). Union members are named after the
/// use we make of them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PerfEventAttr {
    /// `PERF_TYPE_*`, or a dynamic PMU's type from sysfs.
    pub type_: u32,
    /// The structure's size, for the kernel's versioning.
    pub size: u32,
    /// Which event of the type (`PERF_COUNT_SW_*`, a tracepoint id, a retprobe bit).
    pub config: u64,
    /// `sample_period` or, with [`FLAG_FREQ`], `sample_freq`.
    pub sample_period_or_freq: u64,
    /// `PERF_SAMPLE_*` bits: what each sample record holds.
    pub sample_type: u64,
    /// `PERF_FORMAT_*` bits for read(2) of the counter.
    pub read_format: u64,
    /// The bit field of `disabled`, `freq`, `watermark`...: see the `FLAG_*` constants.
    pub flags: u64,
    /// `wakeup_events` or, with [`FLAG_WATERMARK`], `wakeup_watermark`.
    pub wakeup: u32,
    /// Breakpoint type (unused here).
    pub bp_type: u32,
    /// `kprobe_func` / `uprobe_path` (a pointer to a NUL-terminated string) or `bp_addr`.
    pub config1: u64,
    /// `probe_offset` / `kprobe_addr` or `bp_len`.
    pub config2: u64,
    /// Branch sampling bits (unused here).
    pub branch_sample_type: u64,
    /// User registers to sample (unused here).
    pub sample_regs_user: u64,
    /// User stack bytes to sample (unused here).
    pub sample_stack_user: u32,
    /// The clock of timestamps, with `use_clockid`.
    pub clockid: i32,
    /// Interrupt registers to sample (unused here).
    pub sample_regs_intr: u64,
    /// AUX area wakeup watermark (unused here).
    pub aux_watermark: u32,
    /// Maximum callchain depth (unused here).
    pub sample_max_stack: u16,
    /// Reserved, zero.
    pub reserved_2: u16,
    /// AUX sample size (unused here).
    pub aux_sample_size: u32,
    /// Reserved, zero.
    pub reserved_3: u32,
    /// User data for signals (unused here).
    pub sig_data: u64,
    /// Extra configuration of some PMUs (unused here).
    pub config3: u64,
}

impl PerfEventAttr {
    /// An attribute of `type_` and `config` with `size` set and everything else zero.
    pub fn new(type_: u32, config: u64) -> PerfEventAttr {
        PerfEventAttr {
            type_,
            size: std::mem::size_of::<PerfEventAttr>() as u32,
            config,
            ..PerfEventAttr::default()
        }
    }
}

/// Which task and CPU an event watches: `pid == -1` means every task (then `cpu` must be a CPU);
/// `cpu == -1` means every CPU (then `pid` must be a task).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerfScope {
    /// The task, or -1 for every task.
    pub pid: i32,
    /// The CPU, or -1 for every CPU.
    pub cpu: i32,
}

/// perf_event_open(2) with PERF_FLAG_FD_CLOEXEC and no group.
pub fn perf_event_open(attr: &PerfEventAttr, scope: PerfScope) -> io::Result<OwnedFd> {
    perf_event_open_with_path(attr, scope, None)
}

/// perf_event_open(2) where `config1` must point at `path` (uprobe PMU: the binary's path;
/// kprobe PMU: the function name). The pointer is written here so it cannot dangle.
pub fn perf_event_open_with_path(
    attr: &PerfEventAttr,
    scope: PerfScope,
    path: Option<&CStr>,
) -> io::Result<OwnedFd> {
    let mut attr = *attr;
    if let Some(path) = path {
        attr.config1 = path.as_ptr() as u64;
    }
    // SAFETY: `attr` is a valid, fully initialised perf_event_attr whose `size` matches its
    // layout; `config1`, when set, points at `path`, which outlives the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            scope.pid,
            scope.cpu,
            -1 as libc::c_int,
            libc::c_ulong::from(PERF_FLAG_FD_CLOEXEC),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this fd to us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

const PERF_FLAG_FD_CLOEXEC: u32 = 1 << 3;

fn perf_ioctl(perf: BorrowedFd<'_>, request: libc::c_ulong, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the perf ioctls used here take an integer argument (or none); `perf` is a live fd.
    let rc = unsafe { libc::ioctl(perf.as_raw_fd(), request, arg) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// PERF_EVENT_IOC_ENABLE.
pub fn perf_event_enable(perf: BorrowedFd<'_>) -> io::Result<()> {
    perf_ioctl(perf, PERF_EVENT_IOC_ENABLE, 0)
}

/// PERF_EVENT_IOC_DISABLE.
pub fn perf_event_disable(perf: BorrowedFd<'_>) -> io::Result<()> {
    perf_ioctl(perf, PERF_EVENT_IOC_DISABLE, 0)
}

/// PERF_EVENT_IOC_SET_BPF: runs `prog` on every event of `perf` (the legacy attachment; it ends
/// when the perf fd closes).
pub fn perf_event_set_bpf(perf: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    perf_ioctl(
        perf,
        PERF_EVENT_IOC_SET_BPF,
        prog.as_raw_fd() as libc::c_ulong,
    )
}

/// Mounts tracefs at `target` (an existing empty directory such as /sys/kernel/tracing).
pub fn mount_tracefs(target: &std::path::Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let target = std::ffi::CString::new(target.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let fs = c"tracefs";
    // SAFETY: every pointer is a valid NUL-terminated string living across the call; no data
    // argument is passed.
    let rc = unsafe {
        libc::mount(
            fs.as_ptr(),
            target.as_ptr(),
            fs.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_layout_matches_the_kernel() {
        assert_eq!(std::mem::size_of::<PerfEventAttr>(), 136);
        assert_eq!(std::mem::offset_of!(PerfEventAttr, config1), 56);
        assert_eq!(std::mem::offset_of!(PerfEventAttr, config2), 64);
        assert_eq!(std::mem::offset_of!(PerfEventAttr, sig_data), 120);
    }
}
