//! Running a program on a perf event (BPF_LINK_CREATE with BPF_PERF_EVENT, else
//! PERF_EVENT_IOC_SET_BPF), shared by tracepoints, kprobes and uprobes; and perf_event programs
//! sampling a software or hardware counter on every online CPU.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use whistler_bpf::AttachType;

use super::tracefs::DynamicProbe;
use super::{fd_target, link_create, AttachError, PerfCounter, PerfSampling};
use crate::link::{Attachment, Link};
use crate::perf_buffer::online_cpus;
use crate::sys::perf::{self, PerfEventAttr, PerfScope};

/// Attaches `prog` to the (disabled) perf event `event`, then enables it. `probe` is the tracefs
/// probe behind the event, if any, removed when the link drops.
pub(super) fn attach_to_event(
    prog: BorrowedFd<'_>,
    event: OwnedFd,
    probe: Option<DynamicProbe>,
) -> Result<Link, AttachError> {
    let link = match link_create(
        prog,
        fd_target(event.as_fd()),
        AttachType::PERF_EVENT as u32,
        0,
    ) {
        Ok(link) => Some(link),
        Err(_) => {
            // Kernels before 5.15 have no perf links: the legacy ioctl does the same job.
            perf::perf_event_set_bpf(event.as_fd(), prog)
                .map_err(|e| AttachError::syscall("PERF_EVENT_IOC_SET_BPF", e))?;
            None
        }
    };
    perf::perf_event_enable(event.as_fd())
        .map_err(|e| AttachError::syscall("PERF_EVENT_IOC_ENABLE", e))?;
    Ok(Link::new(Attachment::PerfEvent { event, link, probe }))
}

/// Opens a perf event, disabled, naming the call in the error.
pub(super) fn open_disabled(
    mut attr: PerfEventAttr,
    scope: PerfScope,
    path: Option<&std::ffi::CStr>,
) -> Result<OwnedFd, AttachError> {
    attr.flags |= perf::FLAG_DISABLED;
    perf::perf_event_open_with_path(&attr, scope, path)
        .map_err(|e| AttachError::syscall("perf_event_open", e))
}

/// A perf_event program on `counter` of every online CPU, as one link.
pub(super) fn attach_sampling(
    prog: BorrowedFd<'_>,
    counter: PerfCounter,
    sampling: PerfSampling,
) -> Result<Link, AttachError> {
    let (type_, config) = counter.type_and_config();
    let mut attr = PerfEventAttr::new(type_, config);
    match sampling {
        PerfSampling::Frequency(hz) => {
            attr.sample_period_or_freq = hz;
            attr.flags |= perf::FLAG_FREQ;
        }
        PerfSampling::Period(period) => attr.sample_period_or_freq = period,
    }
    let cpus = online_cpus().map_err(|e| AttachError::Open {
        path: "/sys/devices/system/cpu/online".into(),
        source: e,
    })?;
    let mut links = Vec::with_capacity(cpus.len());
    for cpu in cpus {
        let scope = PerfScope {
            pid: -1,
            cpu: cpu as i32,
        };
        let event = open_disabled(attr, scope, None).map_err(|e| no_pmu(counter, e))?;
        links.push(attach_to_event(prog, event, None)?);
    }
    Ok(Link::new(Attachment::Group(links)))
}

/// Whether this machine counts `counter`: opens it for this thread, counting only, and
/// closes it. The error for a hardware counter without a PMU is
/// [`AttachError::NoHardwareCounter`].
pub fn counter_available(counter: PerfCounter) -> Result<(), AttachError> {
    let (type_, config) = counter.type_and_config();
    let this_thread = PerfScope { pid: 0, cpu: -1 };
    open_disabled(PerfEventAttr::new(type_, config), this_thread, None)
        .map(drop)
        .map_err(|e| no_pmu(counter, e))
}

/// perf_event_open answers ENOENT for a hardware event no PMU takes, EOPNOTSUPP when the PMU
/// cannot sample it, ENODEV when it has no such counter.
fn no_pmu(counter: PerfCounter, error: AttachError) -> AttachError {
    match error {
        AttachError::Syscall { source, .. }
            if counter.is_hardware()
                && matches!(
                    source.raw_os_error(),
                    Some(libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV)
                ) =>
        {
            AttachError::NoHardwareCounter { counter, source }
        }
        other => other,
    }
}
