//! Whistler: inline BPF sessions in Rust. Re-exports, the prelude and the session runtime.
