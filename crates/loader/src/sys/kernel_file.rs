//! Read-only private mappings of files the kernel serves from its own memory and never changes
//! while it runs: `/sys/kernel/btf/vmlinux` (mappable since Linux 6.16). Reading that file takes
//! one system call per 4 KiB page (kernfs hands out a page per read), over a thousand for
//! vmlinux; mapping it takes one, and only the pages looked at are touched.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;
use std::ptr::NonNull;

use rustix::mm::{MapFlags, ProtFlags};

/// A whole file mapped read-only; unmapped on drop.
#[derive(Debug)]
pub struct MappedKernelFile {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is private, read-only memory owned by this value; it only hands out shared
// byte slices of memory nobody writes.
unsafe impl Send for MappedKernelFile {}
// SAFETY: as above; `&MappedKernelFile` only reads.
unsafe impl Sync for MappedKernelFile {}

impl MappedKernelFile {
    /// Maps the whole of `path`, which must be a file whose contents the kernel never changes
    /// (not a file on disk, which another process could truncate or rewrite under the mapping).
    /// Fails on kernels that cannot map it (before 6.16 for vmlinux BTF): the caller reads it then.
    pub fn map(path: &Path) -> io::Result<MappedKernelFile> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
        if len == 0 {
            return Err(io::Error::other("empty file"));
        }
        // SAFETY: a fresh mapping (null hint, no MAP_FIXED) touches no existing memory; it is
        // private and read-only, owned by the returned value and unmapped once in Drop. The file
        // is one the kernel serves from memory it never changes (see above), so the bytes stay
        // what they are while the mapping lives.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ,
                MapFlags::PRIVATE,
                file.as_fd(),
                0,
            )
        }?;
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap null"))?;
        Ok(MappedKernelFile { base, len })
    }
}

impl AsRef<[u8]> for MappedKernelFile {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `base..base + len` is the mapping made in `map`, readable and alive as long as
        // `self`, and never written (private, read-only, of a file the kernel does not change).
        unsafe { std::slice::from_raw_parts(self.base.as_ptr(), self.len) }
    }
}

impl Drop for MappedKernelFile {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` describe the mapping created in `map`, not unmapped before; no
        // borrow of it outlives `self`.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), self.len) };
    }
}
