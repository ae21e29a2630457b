//! Stack safety for recursive walks over values: every recursive function runs its body through
//! [`guard`], which moves to a fresh stack segment when the current one runs low, so deep data
//! never overflows the Rust stack (limits elsewhere bound the memory this may take).

/// Runs `f`, growing the stack first if less than 64 KiB of it is left.
pub fn guard<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}
