//! Running a program on a perf event (BPF_LINK_CREATE with BPF_PERF_EVENT, else
//! PERF_EVENT_IOC_SET_BPF), shared by tracepoints, kprobes and uprobes; and perf_event programs
//! sampling software cpu-clock events on every online CPU.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use whistler_bpf::AttachType;

use super::tracefs::DynamicProbe;
use super::{fd_target, link_create, AttachError, PerfSampling};
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

/// A perf_event program on a software cpu-clock event of every online CPU, as one link.
pub(super) fn attach_sampling(
    prog: BorrowedFd<'_>,
    sampling: PerfSampling,
) -> Result<Link, AttachError> {
    let mut attr = PerfEventAttr::new(perf::PERF_TYPE_SOFTWARE, perf::PERF_COUNT_SW_CPU_CLOCK);
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
        let event = open_disabled(attr, scope, None)?;
        links.push(attach_to_event(prog, event, None)?);
    }
    Ok(Link::new(Attachment::Group(links)))
}
