//! kprobe/kretprobe: a perf event on the kprobe PMU (config1 = the function name, config2 = the
//! offset into it), else a probe added to tracefs `kprobe_events` and opened as a tracepoint.

use std::ffi::CString;
use std::os::fd::BorrowedFd;

use super::perf_event::{attach_to_event, open_disabled};
use super::pmu::ProbePmu;
use super::target::parse_u64;
use super::tracefs::{self, DynamicProbe};
use super::tracepoint::ALL_TASKS;
use super::{AttachError, AttachProgramInfo};
use crate::link::Link;
use crate::sys::perf::{PerfEventAttr, PERF_TYPE_TRACEPOINT};

pub(super) fn attach(
    prog: BorrowedFd<'_>,
    info: &AttachProgramInfo,
    function: &str,
    retprobe: bool,
) -> Result<Link, AttachError> {
    let (name, offset) = split_offset(function).ok_or_else(|| AttachError::BadTarget {
        section: info.section.clone(),
        problem: format!("bad kernel function `{function}` (want NAME or NAME+OFFSET)"),
    })?;
    if let Some(pmu) = ProbePmu::find("kprobe") {
        return attach_pmu(prog, pmu, name, offset, retprobe);
    }
    if has_kprobe_events() {
        return attach_tracefs(prog, name, offset, retprobe);
    }
    Err(AttachError::NoKprobeSupport)
}

/// Attaches through tracefs `kprobe_events` even when the kprobe PMU exists (the path kernels
/// before 4.17 need). `function` is `NAME` or `NAME+OFFSET`. The probe is deleted from
/// `kprobe_events` when the link drops.
pub fn attach_kprobe_tracefs(
    prog: BorrowedFd<'_>,
    function: &str,
    retprobe: bool,
) -> Result<Link, AttachError> {
    let (name, offset) = split_offset(function).ok_or_else(|| AttachError::BadTarget {
        section: "kprobe".to_owned(),
        problem: format!("bad kernel function `{function}` (want NAME or NAME+OFFSET)"),
    })?;
    if !has_kprobe_events() {
        return Err(AttachError::NoKprobeSupport);
    }
    attach_tracefs(prog, name, offset, retprobe)
}

fn attach_tracefs(
    prog: BorrowedFd<'_>,
    name: &str,
    offset: u64,
    retprobe: bool,
) -> Result<Link, AttachError> {
    let spec = if offset == 0 {
        name.to_owned()
    } else {
        format!("{name}+{offset}")
    };
    let probe = DynamicProbe::create("kprobe_events", retprobe, &spec)?;
    let attr = PerfEventAttr::new(PERF_TYPE_TRACEPOINT, probe.id()?);
    let event = open_disabled(attr, ALL_TASKS, None)?;
    attach_to_event(prog, event, Some(probe))
}

fn attach_pmu(
    prog: BorrowedFd<'_>,
    pmu: ProbePmu,
    name: &str,
    offset: u64,
    retprobe: bool,
) -> Result<Link, AttachError> {
    let function = CString::new(name).map_err(|_| AttachError::BadTarget {
        section: "kprobe".to_owned(),
        problem: format!("function name {name:?} contains a NUL byte"),
    })?;
    let mut attr = PerfEventAttr::new(pmu.type_, pmu.config(retprobe));
    attr.config2 = offset;
    let event = open_disabled(attr, ALL_TASKS, Some(&function))?;
    attach_to_event(prog, event, None)
}

fn has_kprobe_events() -> bool {
    tracefs::has_events_file("kprobe_events")
}

/// `name` or `name+offset`.
fn split_offset(function: &str) -> Option<(&str, u64)> {
    match function.split_once('+') {
        Some((name, offset)) if !name.is_empty() => Some((name, parse_u64(offset)?)),
        Some(_) => None,
        None if function.is_empty() => None,
        None => Some((function, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_and_offset() {
        assert_eq!(split_offset("do_sys_openat2"), Some(("do_sys_openat2", 0)));
        assert_eq!(split_offset("tcp_connect+0x10"), Some(("tcp_connect", 16)));
        assert_eq!(split_offset("+4"), None);
        assert_eq!(split_offset("f+zz"), None);
    }
}
