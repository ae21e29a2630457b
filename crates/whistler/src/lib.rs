//! Whistler: inline BPF sessions in Rust.
//!
//! `session!` compiles Whistler Lisp at macro-expansion time and declares a session type with one
//! public field per program and per map; `NAME::load()` creates the maps and loads the programs,
//! programs attach by section name, and dropping the session detaches and closes everything.
//!
//! ```ignore
//! whistler::session! {
//!     pub struct Counter;
//!     (bpf:map pkt-count :type :array :key-size 4 :value-size 8 :max-entries 1)
//!     (bpf:prog count-egress (:type :cgroup-skb :section "cgroup_skb/egress" :license "GPL")
//!       (incf (getmap pkt-count 0))
//!       1)
//! }
//! let mut s = Counter::load()?;
//! s.count_egress.attach(whistler::cgroup2_root()?.as_path())?;
//! println!("{}", s.pkt_count.get(&0)?.unwrap_or(0));
//! ```
//!
//! Three ways to write the Lisp: as tokens (above), as one raw string literal
//! (`session!(pub struct S; r#"(defmap ...)"#)`), or in a file next to the calling source
//! (`session!(pub struct S; include "prog.lisp")`), which Cargo then watches for changes.
//! `with_bpf_session!({ forms } |s| { body })` loads a session for the body only.
//!
//! With the `metrics` feature, the `metrics` module serves a session's maps to Prometheus (its
//! `defmetric` declarations as declared), or registers them in your own registry.
//!
//! With the `tokio` feature, ring buffers and perf event arrays are also async streams of
//! typed records (`RingBuf::stream`, `PerfEventArray::stream`).

#![warn(missing_docs)]

mod error;
mod maps;
#[cfg(feature = "metrics")]
pub mod metrics;
mod plain;
mod ringbuf;
mod session;
#[cfg(feature = "tokio")]
mod stream;

pub use error::{Error, Result};
pub use maps::{Map, PerCpuMap, PerfEventArray, ProgArray, Queue, UpdateFlags};
pub use plain::Plain;
pub use ringbuf::{RingBuf, RingConsumer};
pub use session::{LoadedObject, Session, SessionBuilder};
#[cfg(feature = "tokio")]
pub use stream::{PerfStream, RingStream};
pub use whistler_macros::{session, with_bpf_session};
pub use whistler_session::{stop_on_ctrl_c, LinkId, Program, StopFlag, Target};

/// The loader underneath, for what the session API does not cover.
pub use whistler_loader as loader;
/// The session core underneath (what `whistler run` and Lisp sessions use too).
pub use whistler_session as core_session;

/// Where the cgroup v2 hierarchy is mounted (its root directory).
pub fn cgroup2_root() -> Result<std::path::PathBuf> {
    whistler_loader::attach::cgroup2_mount_point().ok_or(Error::NoCgroup2)
}

/// What examples and most programs need.
pub mod prelude {
    pub use crate::{
        session, with_bpf_session, Map, PerCpuMap, Plain, Program, RingBuf, Session, Target,
    };
}

#[doc(hidden)]
pub mod __private {
    /// Calls the body of `with_bpf_session!` with the loaded session.
    pub fn call_scoped<S, R>(session: &mut S, body: impl FnOnce(&mut S) -> R) -> R {
        body(session)
    }
}
