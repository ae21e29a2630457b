//! What the evaluator may ask of the world: files, directories, clocks, the environment and
//! standard input. The evaluator itself does no I/O besides writing its output: every such
//! request goes through the [`Host`] the embedding program installs with
//! [`crate::Interp::set_host`].
//!
//! The default host ([`NoHost`]) refuses everything, so the compiler's macros stay pure: a
//! macro that calls `open` or `get-universal-time` fails with a clear error unless the program
//! that embeds the compiler supplied a host (the CLI and the session runner supply one that
//! reads files at compile time; the session runner's user code gets the whole operating system).

use std::io::Write;
use std::time::Duration;

/// Why a host request failed: the message and the Lisp condition type to signal
/// (`file-error`, `stream-error`, `error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    pub condition: &'static str,
    pub message: String,
}

impl HostError {
    /// The error for a request this host does not serve (`what`: "file access", "the clock").
    pub fn unavailable(what: &str) -> HostError {
        HostError {
            condition: "error",
            message: format!(
                "{what} is not available at compile time: macros run without access to the \
                 system unless the program that embeds the compiler allows it (`whistler run` \
                 and `whistler compile` allow reading files)"
            ),
        }
    }
    /// A `file-error` about `path`.
    pub fn file(path: &str, error: impl std::fmt::Display) -> HostError {
        HostError {
            condition: "file-error",
            message: format!("{path}: {error}"),
        }
    }
}

/// How an output file is opened (`open`'s `:if-exists` and `:if-does-not-exist`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteMode {
    /// Keep what the file holds and write at its end (`:append`); otherwise start empty.
    pub append: bool,
    /// Fail when the file exists (`:if-exists :error`).
    pub must_not_exist: bool,
    /// Create the file when it is missing (`:if-does-not-exist :create`).
    pub create: bool,
}

/// What `probe-file`, `file-length` and `file-write-date` learn about a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// The absolute path with links resolved (`truename`); directories end in `/`.
    pub truename: String,
    pub is_directory: bool,
    pub length: u64,
    /// Seconds since 1970-01-01 UTC.
    pub modified: Option<u64>,
}

/// The outside world as the evaluator sees it. Every method has a default that refuses with
/// [`HostError::unavailable`], so a host implements only what it allows.
pub trait Host {
    /// The whole contents of the file at `path`.
    fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError> {
        let _ = path;
        Err(HostError::unavailable("file access"))
    }
    /// A writer for the file at `path`.
    fn write_file(&mut self, path: &str, mode: WriteMode) -> Result<Box<dyn Write>, HostError> {
        let _ = (path, mode);
        Err(HostError::unavailable("writing files"))
    }
    /// What is at `path`, or `None` when nothing is.
    fn file_info(&mut self, path: &str) -> Result<Option<FileInfo>, HostError> {
        let _ = path;
        Err(HostError::unavailable("file access"))
    }
    /// The entries of the directory `path` (names only, directories ending in `/`).
    fn list_directory(&mut self, path: &str) -> Result<Vec<String>, HostError> {
        let _ = path;
        Err(HostError::unavailable("file access"))
    }
    fn delete_file(&mut self, path: &str) -> Result<(), HostError> {
        let _ = path;
        Err(HostError::unavailable("deleting files"))
    }
    fn rename_file(&mut self, from: &str, to: &str) -> Result<(), HostError> {
        let _ = (from, to);
        Err(HostError::unavailable("renaming files"))
    }
    /// Creates directory `path` and its parents; true when it created any.
    fn create_directories(&mut self, path: &str) -> Result<bool, HostError> {
        let _ = path;
        Err(HostError::unavailable("creating directories"))
    }
    /// The time since 1970-01-01 UTC.
    fn wall_clock(&mut self) -> Result<Duration, HostError> {
        Err(HostError::unavailable("the clock"))
    }
    /// Time since some fixed point (the start of the process), never going backwards.
    fn monotonic_clock(&mut self) -> Result<Duration, HostError> {
        Err(HostError::unavailable("the clock"))
    }
    /// Processor time this process has used.
    fn run_time(&mut self) -> Result<Duration, HostError> {
        Err(HostError::unavailable("the clock"))
    }
    /// The local time zone at `unix_seconds`: seconds east of UTC and whether daylight saving
    /// time is in effect. UTC unless the host knows better.
    fn local_offset(&mut self, unix_seconds: i64) -> (i64, bool) {
        let _ = unix_seconds;
        (0, false)
    }
    /// The environment variable `name`.
    fn environment_variable(&mut self, name: &str) -> Result<Option<String>, HostError> {
        let _ = name;
        Err(HostError::unavailable("the environment"))
    }
    /// The next line of standard input with its newline, or `None` at end of input.
    fn read_standard_input(&mut self) -> Result<Option<String>, HostError> {
        Err(HostError::unavailable("standard input"))
    }
    /// The machine's name (`machine-instance`).
    fn machine_name(&mut self) -> Option<String> {
        None
    }
}

/// The host that allows nothing: the compiler's macros run with it.
pub struct NoHost;

impl Host for NoHost {}

impl HostError {
    /// The Lisp error this becomes, located at `span`.
    pub(crate) fn at(self, span: whistler_syntax::Span) -> crate::error::Flow {
        crate::error::EvalError::new(self.condition, self.message, span).into()
    }
}
