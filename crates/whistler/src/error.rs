//! The one error type of sessions.

use whistler_loader::attach::AttachError;
use whistler_loader::perf_buffer::PerfBufferError;
use whistler_loader::ringbuf::RingBufferError;
use whistler_loader::{LoadError, MapError, ProgramError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Loading the object failed; a verifier rejection carries the log and the Lisp line.
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Map(#[from] MapError),
    #[error(transparent)]
    Program(#[from] ProgramError),
    #[error(transparent)]
    Attach(#[from] AttachError),
    #[error(transparent)]
    RingBuffer(#[from] RingBufferError),
    #[error(transparent)]
    PerfBuffer(#[from] PerfBufferError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("the session has no map named `{0}`")]
    NoSuchMap(String),
    #[error("the session has no program named `{0}`")]
    NoSuchProgram(String),
    #[error("map `{map}`: the {what} is {actual} bytes but the Rust type has {expected}")]
    SizeMismatch {
        map: String,
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error("cgroup v2 is not mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)")]
    NoCgroup2,
    #[error("the session's Lisp did not compile (see the compile errors); nothing to load")]
    NotCompiled,
}

impl Error {
    /// True when the kernel lacks what was asked for (e.g. no kprobes), so that a caller can
    /// fall back to another mechanism.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Attach(e) if e.is_unsupported())
    }
}
