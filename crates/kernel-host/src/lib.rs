//! The compiler's macro host for the kernel this machine runs: [`macro_host`] is the standard
//! evaluator whose `deftracepoint` reads tracepoint formats from tracefs and whose
//! `import-kernel-struct` reads struct layouts from `/sys/kernel/btf/vmlinux`.
//!
//! [`macro_host_with_btf`] reads another BTF file instead (a kernel without
//! `/sys/kernel/btf/vmlinux`, or another machine's kernel: btfhub-style files); so does
//! [`macro_host`] when the environment variable `WHISTLER_BTF` names one, which is how the
//! `session!` macro, run by cargo, is pointed at one.
//!
//! The compiler does no I/O; this crate is the one place that reads those kernel files for it.
//! It only reads (tracefs must already be mounted, as it is wherever tracing works), so the
//! proc macro, the CLI and the session runner build the same host without pulling in the loader.

use std::io;
use std::path::{Path, PathBuf};
use whistler_lisp::Interp;

/// The running kernel's BTF.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// Where tracefs is usually mounted, in the order we look.
const TRACEFS_MOUNTS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// The variable that names a kernel BTF file to compile against instead of this machine's.
pub const BTF_VARIABLE: &str = "WHISTLER_BTF";

/// The standard macro library with `deftracepoint` and `import-kernel-struct` reading this
/// machine's kernel (its BTF from `$WHISTLER_BTF` when set).
pub fn macro_host() -> Interp {
    macro_host_with_btf(None)
}

/// [`macro_host`] reading kernel types from the BTF file `btf` (when given) instead.
pub fn macro_host_with_btf(btf: Option<&Path>) -> Interp {
    let path = btf_path(btf);
    whistler_compiler::lisp_host::standard_interp_for_kernel(tracepoint_format, move || {
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    })
}

/// The kernel BTF to read: `explicit`, else `$WHISTLER_BTF`, else [`VMLINUX_BTF`].
pub fn btf_path(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(BTF_VARIABLE).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(VMLINUX_BTF))
}

/// The text of tracepoint `category/name`'s format file. Lisp spellings with `-` for `_`
/// (`sched/sched-process-exec`) are found too.
pub fn tracepoint_format(category: &str, name: &str) -> io::Result<String> {
    let valid = |s: &str| !s.is_empty() && !s.contains(['/', '.']);
    let missing = || {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("tracepoint {category}/{name} does not exist"),
        )
    };
    if !valid(category) || !valid(name) {
        return Err(missing());
    }
    let events = tracefs_root()?.join("events");
    let read = |c: &str, n: &str| std::fs::read_to_string(events.join(c).join(n).join("format"));
    read(category, name)
        .or_else(|_| read(&category.replace('-', "_"), &name.replace('-', "_")))
        .map_err(|_| missing())
}

/// The bytes of the running kernel's BTF, undecoded.
pub fn vmlinux_btf() -> io::Result<Vec<u8>> {
    std::fs::read(VMLINUX_BTF)
}

fn tracefs_root() -> io::Result<PathBuf> {
    TRACEFS_MOUNTS
        .iter()
        .map(PathBuf::from)
        .find(|dir| dir.join("events").is_dir())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_events_directory_are_not_tracepoints() {
        for (category, name) in [("..", "x"), ("sched", "../id"), ("", "x"), ("a/b", "c")] {
            let e = tracepoint_format(category, name).unwrap_err();
            assert!(e.to_string().contains("does not exist"), "{e}");
        }
    }

    #[test]
    fn lisp_spellings_find_the_kernels_tracepoint() {
        if !std::path::Path::new("/sys/kernel/tracing/events/sched/sched_process_exec").is_dir() {
            eprintln!("skipped: no sched_process_exec tracepoint in tracefs");
            return;
        }
        let format = tracepoint_format("sched", "sched-process-exec").unwrap();
        assert!(format.contains("field:pid_t pid"), "{format}");
        assert_eq!(
            format,
            tracepoint_format("sched", "sched_process_exec").unwrap()
        );
    }
}
