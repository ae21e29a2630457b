//! The one error type of sessions.

use whistler_loader::attach::AttachError;
use whistler_loader::perf_buffer::PerfBufferError;
use whistler_loader::ringbuf::RingBufferError;
use whistler_loader::{LoadError, MapError, ProgramError};

/// What every fallible call of a session returns.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in a session: loading, a map or program call, attaching, reading a ring buffer,
/// or a session declaration that does not fit the compiled object.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Loading the object failed; a verifier rejection carries the log and the Lisp line.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A map operation failed (lookup, update, delete, iteration).
    #[error(transparent)]
    Map(#[from] MapError),
    /// A program operation failed (test run, pinning, querying it).
    #[error(transparent)]
    Program(#[from] ProgramError),
    /// Attaching a program failed: the target is missing, wrong for the section, or unsupported.
    #[error(transparent)]
    Attach(#[from] AttachError),
    /// Setting up or polling a ring buffer consumer failed.
    #[error(transparent)]
    RingBuffer(#[from] RingBufferError),
    /// A perf event array could not be opened or read.
    #[error(transparent)]
    PerfBuffer(#[from] PerfBufferError),
    /// A file-system or system call outside the loader failed (finding the cgroup mount, say).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The loaded object has no map of this name (the session was built from other Lisp).
    #[error("the session has no map named `{0}`")]
    NoSuchMap(String),
    /// The loaded object has no program of this name.
    #[error("the session has no program named `{0}`")]
    NoSuchProgram(String),
    /// A Rust type's size differs from the map's key or value size in the object.
    #[error("map `{map}`: the {what} is {actual} bytes but the Rust type has {expected}")]
    SizeMismatch {
        /// The map's name.
        map: String,
        /// `"key"` or `"value"`.
        what: &'static str,
        /// The size of the Rust type.
        expected: usize,
        /// The size the object declares.
        actual: usize,
    },
    /// No cgroup v2 hierarchy is mounted, so [`cgroup2_root`](crate::cgroup2_root) has nothing to return.
    #[error("cgroup v2 is not mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)")]
    NoCgroup2,
    /// The session's Lisp had compile errors; they were reported when the crate was built.
    #[error("the session's Lisp did not compile (see the compile errors); nothing to load")]
    NotCompiled,
    /// The object's `.whistler.metrics` section could not be read.
    #[cfg(feature = "metrics")]
    #[error(transparent)]
    Object(#[from] whistler_object::ReadError),
    /// A declared metric cannot be served (see `whistler::metrics`).
    #[cfg(feature = "metrics")]
    #[error(transparent)]
    Metrics(#[from] whistler_metrics::DeclarationError),
}

impl Error {
    /// True when the kernel lacks what was asked for (e.g. no kprobes), so that a caller can
    /// fall back to another mechanism.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Attach(e) if e.is_unsupported())
    }
}
