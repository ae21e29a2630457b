//! Errors of loading (objects, maps, programs, BTF) and of using maps and programs, with the
//! kernel's error numbers explained in words.

use std::io;
use std::path::PathBuf;

/// Why an object, map or program could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "{what}: permission denied (EPERM). Loading BPF needs CAP_BPF (run as root: \
         kernel.unprivileged_bpf_disabled forbids it otherwise); kernel lockdown or a security \
         module may also refuse it, and some kernels refuse trampoline programs \
         (fentry/fexit/lsm) outright"
    )]
    PermissionDenied {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "{what}: the kernel rejected the arguments (EINVAL): it may lack this map or program \
         type, flag or attach type, or a name, size or BTF id is invalid"
    )]
    InvalidArgument {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "{what}: too big or not supported by this kernel (E2BIG): an attribute the kernel does \
         not know was set, or a size is over its limit"
    )]
    TooBig {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("{what}: {source}")]
    Syscall {
        what: String,
        #[source]
        source: io::Error,
    },
    /// The verifier refused a program. `log` is the full verifier log (level 1).
    #[error("the verifier rejected program `{program}`: {summary}")]
    Verifier {
        program: String,
        log: String,
        summary: String,
    },
    #[error("the kernel rejected the object's BTF even after sanitizing it: {log}")]
    Btf { log: String },
    #[error("cannot read the object: {0}")]
    Object(String),
    #[error(
        "program `{program}` is in section `{section}`, whose program type is unknown: give \
         one with LoadOptions::program_types"
    )]
    UnknownSection { program: String, section: String },
    #[error("program `{program}`: {message}")]
    Relocation { program: String, message: String },
    #[error("program `{program}`: CO-RE relocation #{index}: {message}")]
    Core {
        program: String,
        index: usize,
        message: String,
    },
    /// A CO-RE read of a field the running kernel does not have, not guarded by a check the
    /// verifier could prove false.
    #[error(
        "program `{program}` reads `{field}`, which the running kernel does not have{location}"
    )]
    MissingKernelField {
        program: String,
        field: String,
        /// ` at FILE:LINE:COL: TEXT` when the object has line info.
        location: String,
    },
    #[error("the object has no program named `{0}`")]
    NoSuchProgram(String),
    #[error("the object has no map named `{0}`")]
    NoSuchMap(String),
    #[error("rodata override `{symbol}`: {message}")]
    RodataOverride { symbol: String, message: String },
    #[error("map `{map}`: {source}")]
    Map {
        map: String,
        #[source]
        source: MapError,
    },
    #[error("cannot read kernel BTF from {path}: {message}")]
    KernelBtf { path: PathBuf, message: String },
}

impl LoadError {
    /// Turns a failed syscall into the variant that explains its error number.
    pub fn from_syscall(what: impl Into<String>, source: io::Error) -> LoadError {
        let what = what.into();
        match source.raw_os_error() {
            Some(libc::EPERM) => LoadError::PermissionDenied { what, source },
            Some(libc::EINVAL) => LoadError::InvalidArgument { what, source },
            Some(libc::E2BIG) => LoadError::TooBig { what, source },
            _ => LoadError::Syscall { what, source },
        }
    }
}

/// Why a map operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("map `{map}` has {expected}-byte {what}s, got {got} bytes")]
    WrongSize {
        map: String,
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("map `{map}` is a {map_type}, which does not support {operation}")]
    Unsupported {
        map: String,
        map_type: String,
        operation: &'static str,
    },
    #[error("{operation} on map `{map}`: {source}")]
    Syscall {
        map: String,
        operation: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("creating map `{map}`: {}", create_reason(.source))]
    Create {
        map: String,
        #[source]
        source: io::Error,
    },
    #[error("{operation} on map `{map}`: the entry already exists (BPF_NOEXIST)")]
    AlreadyExists {
        map: String,
        operation: &'static str,
    },
    #[error("{operation} on map `{map}`: the map is full")]
    Full {
        map: String,
        operation: &'static str,
    },
    #[error("pinning at {path}: {source}")]
    Pin {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot count the possible CPUs: {0}")]
    Cpus(#[source] io::Error),
}

impl MapError {
    pub(crate) fn syscall(map: &str, operation: &'static str, source: io::Error) -> MapError {
        let map = map.to_string();
        let creating = operation == "BPF_MAP_CREATE";
        match source.raw_os_error() {
            _ if creating => MapError::Create { map, source },
            Some(libc::EEXIST) => MapError::AlreadyExists { map, operation },
            Some(libc::E2BIG) => MapError::Full { map, operation },
            _ => MapError::Syscall {
                map,
                operation,
                source,
            },
        }
    }
}

/// Words for the error numbers of BPF_MAP_CREATE.
fn create_reason(source: &io::Error) -> String {
    let why = match source.raw_os_error() {
        Some(libc::EPERM) => "permission denied: creating maps needs CAP_BPF (run as root)",
        Some(libc::EINVAL) => {
            "the kernel rejected the definition: unknown map type or flag for this kernel, or \
             sizes that type does not allow (lpm_trie keys, ring buffer page multiples, ...)"
        }
        Some(libc::E2BIG) => "a size is over the kernel's limit",
        Some(libc::ENOMEM) => "out of memory (the memory cgroup limit may be reached)",
        _ => return source.to_string(),
    };
    format!("{why} ({source})")
}

/// Why running or pinning a loaded program failed.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    #[error(
        "BPF_PROG_TEST_RUN of `{program}`: {source} (tracepoint, kprobe and some other program \
         types cannot be test-run)"
    )]
    TestRun {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("pinning program `{program}` at {path}: {source}")]
    Pin {
        program: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("program `{program}`: {source}")]
    Syscall {
        program: String,
        #[source]
        source: io::Error,
    },
}
