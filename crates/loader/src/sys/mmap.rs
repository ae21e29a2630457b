//! Memory shared with the kernel through mmap(2): ring buffer and perf ring pages.
//!
//! The consumers read these pages under a producer/consumer protocol: the kernel publishes a
//! position with release semantics, we read it with acquire, read the bytes below it, then publish
//! our own position with release. This module offers exactly those operations and nothing more,
//! and only inside the crate: [`SharedMemory::bytes`] is sound only for callers that follow that
//! protocol (the ring buffer and perf buffer consumers).

use std::io;
use std::os::fd::BorrowedFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use rustix::mm::{MapFlags, ProtFlags};

/// One mapping of a kernel object's pages; unmapped on drop.
#[derive(Debug)]
pub struct SharedMemory {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory owned by this value; all accesses go through atomics
// or through byte slices of regions the kernel no longer writes (see `bytes`).
unsafe impl Send for SharedMemory {}
// SAFETY: as above; `&SharedMemory` only offers atomic loads/stores and reads.
unsafe impl Sync for SharedMemory {}

impl SharedMemory {
    /// Maps `len` bytes of `fd` at `offset`, shared, read-only or read-write.
    pub fn map(fd: BorrowedFd<'_>, offset: u64, len: usize, writable: bool) -> io::Result<Self> {
        let prot = if writable {
            ProtFlags::READ | ProtFlags::WRITE
        } else {
            ProtFlags::READ
        };
        // SAFETY: we ask for a fresh mapping (null hint, no MAP_FIXED), so no existing memory is
        // affected; the result is owned by the returned value and unmapped exactly once in Drop.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                MapFlags::SHARED,
                fd,
                offset,
            )
        }?;
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap null"))?;
        Ok(SharedMemory { base, len })
    }

    #[inline]
    fn check(&self, offset: usize, size: usize, align: usize) {
        let in_bounds = offset.checked_add(size).is_some_and(|end| end <= self.len);
        if !in_bounds || !offset.is_multiple_of(align) {
            out_of_bounds(offset, size, self.len);
        }
    }

    #[inline]
    fn atomic_u64(&self, offset: usize) -> &AtomicU64 {
        self.check(offset, 8, 8);
        // SAFETY: in bounds and 8-aligned (checked; mmap returns page-aligned memory); the memory
        // lives as long as `self`; the kernel accesses these words atomically as well.
        unsafe { AtomicU64::from_ptr(self.base.as_ptr().add(offset).cast::<u64>()) }
    }

    /// Reads the u64 at `offset` with acquire ordering (a position the kernel publishes).
    #[inline]
    pub fn load_acquire_u64(&self, offset: usize) -> u64 {
        self.atomic_u64(offset).load(Ordering::Acquire)
    }

    /// Writes the u64 at `offset` with release ordering (a position we publish to the kernel).
    /// Only for mappings created writable (a read-only page would fault).
    #[inline]
    pub fn store_release_u64(&self, offset: usize, value: u64) {
        self.atomic_u64(offset).store(value, Ordering::Release)
    }

    /// Reads the u32 at `offset` with acquire ordering (a ring buffer record header).
    #[inline]
    pub fn load_acquire_u32(&self, offset: usize) -> u32 {
        self.check(offset, 4, 4);
        // SAFETY: in bounds and 4-aligned (checked); lives as long as `self`.
        let word = unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(offset).cast::<u32>()) };
        word.load(Ordering::Acquire)
    }

    /// Asks the CPU to start loading the cache line at `offset` into its caches: a hint with no
    /// effect on what is read, and nothing at all out of bounds or off x86-64.
    #[inline]
    pub fn prefetch(&self, offset: usize) {
        #[cfg(target_arch = "x86_64")]
        if offset < self.len {
            // SAFETY: `offset` is inside the mapping (checked), so the pointer stays in bounds; a
            // prefetch reads nothing the program can observe and never faults.
            unsafe {
                let at = self.base.as_ptr().add(offset).cast::<i8>();
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at);
            }
        }
    }

    /// The bytes `offset..offset + len`.
    ///
    /// Callers ask only for bytes the kernel has committed and will not rewrite until the consumer
    /// position moves past them, which cannot happen while the returned borrow of `self` lives
    /// (the position is only published through this same value, after the borrow ends).
    #[inline]
    pub fn bytes(&self, offset: usize, len: usize) -> &[u8] {
        self.check(offset, len, 1);
        // SAFETY: in bounds (checked); the region is initialised kernel memory that lives as long
        // as `self`; by the protocol described above the kernel does not write it meanwhile.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(offset), len) }
    }
}

/// The accesses are the reading protocol's own, so a bad one is a bug in this crate.
#[cold]
#[inline(never)]
fn out_of_bounds(offset: usize, size: usize, len: usize) -> ! {
    panic!("shared memory access out of bounds or misaligned: {offset}+{size} of {len}")
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` describe a mapping created in `map` and not unmapped before; no
        // borrow of it can outlive `self`.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

/// The system page size.
pub fn page_size() -> usize {
    rustix::param::page_size()
}
