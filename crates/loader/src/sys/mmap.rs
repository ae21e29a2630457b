//! Memory shared with the kernel through mmap(2): ring buffer and perf ring pages.
//!
//! The consumers read these pages under a producer/consumer protocol: the kernel publishes a
//! position with release semantics, we read it with acquire, read the bytes below it, then publish
//! our own position with release. This module offers exactly those operations and nothing more,
//! and only inside the crate: [`SharedMemory::bytes`] is sound only for callers that follow that
//! protocol (the ring buffer and perf buffer consumers).

use std::io;
use std::marker::PhantomData;
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

    /// The data area of a ring buffer inside this mapping: `size` bytes (a power of two, at
    /// least a page) at `offset`, mapped twice in a row. Panics when that does not fit.
    pub fn ring_data(&self, offset: usize, size: usize) -> RingData<'_> {
        let fits = size.is_power_of_two() && size >= 8 && offset.is_multiple_of(8);
        self.check(offset, 2 * size, 1);
        if !fits {
            out_of_bounds(offset, size, self.len);
        }
        RingData {
            // SAFETY: `offset` is inside the mapping (checked just above).
            base: unsafe { self.base.add(offset) },
            mask: (size - 1) & !7,
            max_len: size - 8,
            memory: PhantomData,
        }
    }
}

/// A BPF ring buffer's data area, mapped twice in a row so that a record starting anywhere in
/// the first copy reads contiguously: positions are taken modulo the size and rounded down to
/// 8 bytes, lengths are capped at the size minus a header, so every access stays inside the
/// two copies whatever the positions and lengths are, without a check on the reading path.
///
/// The reading protocol is the consumer's (`crate::ringbuf`): a header is read atomically
/// ([`RingData::header_relaxed`]) until it shows a committed record, then an acquire fence
/// orders everything after it; from then on the kernel does not write that record again until
/// the consumer position passes it, so [`RingData::header`] and [`RingData::record`] read it
/// with plain loads, which let the compiler keep the caller's state in registers.
#[derive(Clone, Copy, Debug)]
pub struct RingData<'a> {
    base: NonNull<u8>,
    /// The size minus one, with the low three bits clear.
    mask: usize,
    /// The longest record that fits: the size minus a header.
    max_len: usize,
    memory: PhantomData<&'a SharedMemory>,
}

impl<'a> RingData<'a> {
    /// The header's address for position `pos`: 8-aligned, inside the first copy.
    #[inline(always)]
    fn header_ptr(&self, pos: u64) -> *mut u32 {
        // SAFETY: `pos & mask` is below the size, so the result is inside the first copy; the
        // mapping is page-aligned and the offset a multiple of 8, so it is 8-aligned.
        unsafe {
            self.base
                .as_ptr()
                .add(pos as usize & self.mask)
                .cast::<u32>()
        }
    }

    /// The header word at `pos` read atomically without ordering (the caller fences).
    #[inline(always)]
    pub fn header_relaxed(&self, pos: u64) -> u32 {
        // SAFETY: in bounds and aligned (`header_ptr`), valid as long as the mapping; the
        // kernel writes the word atomically too.
        unsafe { AtomicU32::from_ptr(self.header_ptr(pos)) }.load(Ordering::Relaxed)
    }

    /// The header word at `pos` with a plain load: only for a record already seen committed
    /// through [`RingData::header_relaxed`] and an acquire fence.
    #[inline(always)]
    pub fn header(&self, pos: u64) -> u32 {
        // SAFETY: in bounds and aligned (`header_ptr`); by the protocol above the kernel no
        // longer writes this word, so a plain read does not race.
        unsafe { self.header_ptr(pos).read() }
    }

    /// The `len` bytes after the header at `pos` (`len` capped at the size minus a header):
    /// only for a committed record, as for [`RingData::header`].
    #[inline(always)]
    pub fn record(&self, pos: u64, len: usize) -> &'a [u8] {
        let len = len.min(self.max_len);
        // SAFETY: the header is at most `size - 8` into the first copy, so its 8 bytes and up to
        // `size - 8` more end inside the second copy; the memory lives as long as the borrow of
        // the mapping, and by the protocol the kernel does not write it meanwhile.
        unsafe { std::slice::from_raw_parts(self.header_ptr(pos).cast::<u8>().add(8), len) }
    }

    /// Asks the CPU to start loading the cache line at `pos` (modulo the size): a hint that
    /// changes nothing the program can observe; nothing off x86-64.
    #[inline(always)]
    pub fn prefetch(&self, pos: u64) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `header_ptr` is inside the mapping; a prefetch never faults or reads anything
        // the program sees.
        unsafe {
            let at = self.header_ptr(pos).cast::<i8>();
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at);
        }
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
