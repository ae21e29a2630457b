//! The session core: what the `whistler` facade, the Lisp session runner and `whistler run`
//! share once an object is loaded.
//!
//! - [`Session`] holds a loaded object's programs and maps by name, hands them over
//!   ([`Session::take_program`], [`Session::take_map`]) or keeps them, attaches every program,
//!   drains every ring buffer until stopped, and closes in one order: ring consumers, links,
//!   programs, maps.
//! - [`Program`] is a loaded program with the attachments it owns ([`LinkId`] ends one early;
//!   [`Program::pin_link`] and [`Program::open_pinned_link`] keep one beyond the process).
//! - [`StopFlag`], [`stop_on_ctrl_c`] and [`raise_on_ctrl_c`]: SIGINT and SIGTERM as flags, so
//!   that sessions end by returning and closing, never by being killed (legacy attachments
//!   would outlive the process).
//! - [`map_entries`], [`map_entries_per_cpu`], [`lookup_summed`]: a map's contents for
//!   printing, per-CPU values summed (and kept per CPU); [`clear_entries`] empties a map.
//!
//! It sits on the loader and knows nothing of the compiler or of Lisp.

mod entries;
mod program;
mod session;
mod stop;

pub use entries::{
    clear_entries, holds_entries, lookup_summed, map_entries, map_entries_per_cpu, MapEntry,
    PerCpuEntry,
};
pub use program::{LinkId, Program, Target};
pub use session::Session;
pub use stop::{raise_on_ctrl_c, stop_on_ctrl_c, CtrlCGuard, StopFlag};
