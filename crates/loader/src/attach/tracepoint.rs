//! Tracepoint programs: a perf event of type PERF_TYPE_TRACEPOINT whose config is the tracepoint's
//! id from tracefs. One event (pid -1, CPU 0) fires on every CPU: the program runs before perf's
//! per-CPU filtering, so one event per CPU would count every hit once per CPU.

use std::os::fd::BorrowedFd;

use super::perf_event::{attach_to_event, open_disabled};
use super::{tracefs, AttachError};
use crate::link::Link;
use crate::sys::perf::{PerfEventAttr, PerfScope, PERF_TYPE_TRACEPOINT};

/// Every task, reported on CPU 0 (tracepoints fire the program whatever the CPU).
pub(super) const ALL_TASKS: PerfScope = PerfScope { pid: -1, cpu: 0 };

pub(super) fn attach(
    prog: BorrowedFd<'_>,
    category: &str,
    name: &str,
) -> Result<Link, AttachError> {
    let id = tracefs::tracepoint_id(category, name)?;
    let event = open_disabled(
        PerfEventAttr::new(PERF_TYPE_TRACEPOINT, id),
        ALL_TASKS,
        None,
    )?;
    attach_to_event(prog, event, None)
}
