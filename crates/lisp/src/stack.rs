//! Stack safety for recursive walks (over values here, over forms and expressions in the
//! compiler): every recursive function runs its body through [`guard`] or [`maybe_grow`], which
//! moves to a fresh stack segment when the current one runs low, so deep data never overflows
//! the Rust stack (limits elsewhere bound the memory this may take).
//!
//! Asking how much stack is left is cheap once a thread knows where its stack ends, but finding
//! out costs the first ask a read of `/proc/self/maps` on the main thread (`stacker`, through
//! `pthread_getattr_np`): about as much as the rest of a small compile's macro expansion. So a
//! thread's guards let its recursion use [`UNCHECKED`] bytes of stack below the shallowest
//! guarded call it has made before asking at all; a shallow walk, such as a small program's,
//! never asks.

use std::cell::Cell;

/// Stack a thread's guarded recursion may use below its shallowest guarded call before the
/// guards ask how much is left: any thread a walk starts on has that much to spare (threads get
/// megabytes; code that switches stacks, as rustc does around proc macros, keeps 100 KiB free).
/// The deepest compile of the C twins (`benches/size`) uses 50 KiB.
const UNCHECKED: usize = 64 * 1024;

thread_local! {
    /// The stack address of the shallowest guarded call this thread has made (0: none yet).
    static SHALLOWEST: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f`, growing the stack first if less than 64 KiB of it is left.
pub fn guard<R>(f: impl FnOnce() -> R) -> R {
    maybe_grow(64 * 1024, 1024 * 1024, f)
}

/// Runs `f` with at least `red_zone` bytes of stack, on a new segment of `stack_size` bytes if
/// the current one has less left (`stacker::maybe_grow`, asked only below [`UNCHECKED`]).
#[inline]
pub fn maybe_grow<R>(red_zone: usize, stack_size: usize, f: impl FnOnce() -> R) -> R {
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    let shallowest = SHALLOWEST.with(|shallowest| {
        if here > shallowest.get() {
            shallowest.set(here);
        }
        shallowest.get()
    });
    if shallowest - here < UNCHECKED {
        f()
    } else {
        stacker::maybe_grow(red_zone, stack_size, f)
    }
}
