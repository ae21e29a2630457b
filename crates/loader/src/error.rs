//! Errors of loading (objects, maps, programs, BTF) and of using maps and programs, with the
//! kernel's error numbers explained in words.

use std::io;
use std::path::PathBuf;

/// Why an object, map or program could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// EPERM: the process lacks CAP_BPF, or lockdown or a security module refused.
    #[error(
        "{what}: permission denied (EPERM). Loading BPF needs CAP_BPF (run as root: \
         kernel.unprivileged_bpf_disabled forbids it otherwise); kernel lockdown or a security \
         module may also refuse it, and some kernels refuse trampoline programs \
         (fentry/fexit/lsm) outright"
    )]
    PermissionDenied {
        /// What was being done: the syscall and the map or program it was for.
        what: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// EINVAL: the kernel does not know a type, flag or attach type, or an argument is invalid.
    #[error(
        "{what}: the kernel rejected the arguments (EINVAL): it may lack this map or program \
         type, flag or attach type, or a name, size or BTF id is invalid"
    )]
    InvalidArgument {
        /// What was being done: the syscall and the map or program it was for.
        what: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// E2BIG: an attribute this kernel does not know was set, or a size is over its limit.
    #[error(
        "{what}: too big or not supported by this kernel (E2BIG): an attribute the kernel does \
         not know was set, or a size is over its limit"
    )]
    TooBig {
        /// What was being done: the syscall and the map or program it was for.
        what: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// Any other failed system call.
    #[error("{what}: {source}")]
    Syscall {
        /// What was being done: the syscall and the map or program it was for.
        what: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// The verifier refused a program. `log` is the full verifier log (level 1).
    #[error("the verifier rejected program `{program}`: {summary}")]
    Verifier {
        /// The program's name in the object.
        program: String,
        /// The verifier's log.
        log: String,
        /// The line of the log that says why, with the instruction and, from the object's line
        /// info, the source position that produced it.
        summary: String,
    },
    /// The kernel refused the object's BTF even with the parts it does not know removed.
    #[error("the kernel rejected the object's BTF even after sanitizing it: {log}")]
    Btf {
        /// The kernel's BTF log.
        log: String,
    },
    /// The bytes are not a BPF ELF object the loader can read; the text says what is wrong.
    #[error("cannot read the object: {0}")]
    Object(String),
    /// The section name does not say the program type, and no override gave one.
    #[error(
        "program `{program}` is in section `{section}`, whose program type is unknown: give \
         one with LoadOptions::program_types"
    )]
    UnknownSection {
        /// The program's name.
        program: String,
        /// The ELF section it is in.
        section: String,
    },
    /// A relocation of the program (a map reference, a call, global data) cannot be applied.
    #[error("program `{program}`: {message}")]
    Relocation {
        /// The program's name.
        program: String,
        /// What is wrong with the relocation.
        message: String,
    },
    /// A CO-RE relocation cannot be resolved against the running kernel's BTF.
    #[error("program `{program}`: CO-RE relocation #{index}: {message}")]
    Core {
        /// The program's name.
        program: String,
        /// The relocation's place among the program's CO-RE relocations in `.BTF.ext`.
        index: usize,
        /// Why it does not resolve.
        message: String,
    },
    /// A CO-RE read of a field the running kernel does not have, not guarded by a check the
    /// verifier could prove false.
    #[error(
        "program `{program}` reads `{field}`, which the running kernel does not have{location}"
    )]
    MissingKernelField {
        /// The program's name.
        program: String,
        /// `struct.member` as the object names it.
        field: String,
        /// ` at FILE:LINE:COL: TEXT` when the object has line info.
        location: String,
    },
    /// A name given (a load option, a program array slot) is not a program of the object.
    #[error("the object has no program named `{0}`")]
    NoSuchProgram(String),
    /// A name given (a load option, a program array slot) is not a map of the object.
    #[error("the object has no map named `{0}`")]
    NoSuchMap(String),
    /// A read-only data override does not fit the object (unknown symbol, wrong size).
    #[error("rodata override `{symbol}`: {message}")]
    RodataOverride {
        /// The global variable's symbol.
        symbol: String,
        /// What does not fit.
        message: String,
    },
    /// Creating, reusing or filling one of the object's maps failed.
    #[error("map `{map}`: {source}")]
    Map {
        /// The map's name in the object.
        map: String,
        /// The map operation's error.
        #[source]
        source: MapError,
    },
    /// The kernel's BTF (for CO-RE, kernel fields and trampoline targets) cannot be read.
    #[error("cannot read kernel BTF from {path}: {message}")]
    KernelBtf {
        /// Where it was read from (`/sys/kernel/btf/vmlinux` unless overridden).
        path: PathBuf,
        /// Why it cannot be read.
        message: String,
    },
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
    /// A key or value given has another size than the map's.
    #[error("map `{map}` has {expected}-byte {what}s, got {got} bytes")]
    WrongSize {
        /// The map's name.
        map: String,
        /// `"key"` or `"value"`.
        what: &'static str,
        /// The map's size for it.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// The operation does not apply to this map type (a lookup on a ring buffer, say).
    #[error("map `{map}` is a {map_type}, which does not support {operation}")]
    Unsupported {
        /// The map's name.
        map: String,
        /// The map's kernel type name.
        map_type: String,
        /// The operation asked for.
        operation: &'static str,
    },
    /// A map system call failed for another reason.
    #[error("{operation} on map `{map}`: {source}")]
    Syscall {
        /// The map's name.
        map: String,
        /// The bpf(2) command (`BPF_MAP_UPDATE_ELEM`...).
        operation: &'static str,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// BPF_MAP_CREATE failed; the message explains the error number.
    #[error("creating map `{map}`: {}", create_reason(.source))]
    Create {
        /// The map's name.
        map: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// An update with `UpdateFlags::NoExist` found the key present.
    #[error("{operation} on map `{map}`: the entry already exists (BPF_NOEXIST)")]
    AlreadyExists {
        /// The map's name.
        map: String,
        /// The bpf(2) command.
        operation: &'static str,
    },
    /// The map has `max_entries` entries already (E2BIG), or a queue is full.
    #[error("{operation} on map `{map}`: the map is full")]
    Full {
        /// The map's name.
        map: String,
        /// The bpf(2) command.
        operation: &'static str,
    },
    /// Pinning the map in a bpffs, or opening a pinned one, failed.
    #[error("pinning at {path}: {source}")]
    Pin {
        /// The pin's path.
        path: PathBuf,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// `/sys/devices/system/cpu/possible` cannot be read, so per-CPU values cannot be sized.
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
    /// BPF_PROG_TEST_RUN failed: the program type cannot be test-run, or the input is wrong
    /// for it.
    #[error(
        "BPF_PROG_TEST_RUN of `{program}`: {source} (tracepoint, kprobe and some other program \
         types cannot be test-run)"
    )]
    TestRun {
        /// The program's name.
        program: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// Pinning the program in a bpffs failed.
    #[error("pinning program `{program}` at {path}: {source}")]
    Pin {
        /// The program's name.
        program: String,
        /// The pin's path.
        path: PathBuf,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// Another system call on the program failed (querying its info, say).
    #[error("program `{program}`: {source}")]
    Syscall {
        /// The program's name.
        program: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
}
