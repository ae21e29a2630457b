//! uprobe/uretprobe: a perf event on the uprobe PMU (config1 = the binary's path, config2 = the
//! file offset of the probed instruction), else tracefs `uprobe_events`. ONE event per probe:
//! pid -1 on CPU 0 for every process, or the given pid on every CPU; one event per CPU would make
//! every call count once per CPU.

use std::ffi::CString;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::perf_event::{attach_to_event, open_disabled};
use super::pmu::ProbePmu;
use super::tracefs::{self, DynamicProbe};
use super::tracepoint::ALL_TASKS;
use super::AttachError;
use crate::elf_symbols::symbol_file_offset;
use crate::link::Link;
use crate::sys::perf::{PerfEventAttr, PerfScope, PERF_TYPE_TRACEPOINT};

/// Where a uprobe goes.
pub(super) struct UprobeLocation<'a> {
    pub binary: &'a Path,
    pub symbol: Option<&'a str>,
    pub offset: u64,
    pub pid: Option<i32>,
}

/// Directories searched for a library or program named without a slash.
const SEARCH_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
];

pub(super) fn attach(
    prog: BorrowedFd<'_>,
    at: UprobeLocation<'_>,
    retprobe: bool,
) -> Result<Link, AttachError> {
    let binary = resolve_binary(at.binary)?;
    let offset = match at.symbol {
        Some(symbol) => symbol_file_offset(&binary, symbol)? + at.offset,
        None => at.offset,
    };
    let scope = match at.pid {
        Some(pid) => PerfScope { pid, cpu: -1 },
        None => ALL_TASKS,
    };
    if let Some(pmu) = ProbePmu::find("uprobe") {
        let path = CString::new(binary.as_os_str().as_bytes()).map_err(|_| bad_path(&binary))?;
        let mut attr = PerfEventAttr::new(pmu.type_, pmu.config(retprobe));
        attr.config2 = offset;
        let event = open_disabled(attr, scope, Some(&path))?;
        return attach_to_event(prog, event, None);
    }
    if tracefs::has_events_file("uprobe_events") {
        let spec = format!("{}:{offset:#x}", binary.display());
        let probe = DynamicProbe::create("uprobe_events", retprobe, &spec)?;
        let event = open_disabled(
            PerfEventAttr::new(PERF_TYPE_TRACEPOINT, probe.id()?),
            scope,
            None,
        )?;
        return attach_to_event(prog, event, Some(probe));
    }
    Err(AttachError::NoUprobeSupport)
}

fn bad_path(binary: &Path) -> AttachError {
    AttachError::Open {
        path: binary.to_owned(),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    }
}

/// An absolute path for `binary`: as given when it has a slash, else the first match in the
/// usual library and program directories.
pub(super) fn resolve_binary(binary: &Path) -> Result<PathBuf, AttachError> {
    let found = if binary.as_os_str().as_bytes().contains(&b'/') {
        binary.exists().then(|| binary.to_owned())
    } else {
        SEARCH_DIRS
            .iter()
            .map(|d| Path::new(d).join(binary))
            .find(|p| p.exists())
    };
    let found = found.ok_or_else(|| AttachError::Open {
        path: binary.to_owned(),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })?;
    std::fs::canonicalize(&found).map_err(|source| AttachError::Open {
        path: found,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_library_names_are_searched() {
        if Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6").exists() {
            let path = resolve_binary(Path::new("libc.so.6")).unwrap();
            assert!(path.is_absolute());
        }
        assert!(resolve_binary(Path::new("/no/such/binary")).is_err());
    }
}
