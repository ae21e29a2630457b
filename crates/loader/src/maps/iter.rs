//! Walking a map: keys one by one (BPF_MAP_GET_NEXT_KEY), entries as (key, value), and whole
//! maps in batches (BPF_MAP_LOOKUP_BATCH) for large maps.

use std::os::fd::AsFd;

use super::Map;
use crate::error::MapError;
use crate::sys::bpf;

/// A (key, value) pair of raw bytes.
pub type Entry = (Vec<u8>, Vec<u8>);

/// The keys of a map, in the kernel's order. A key deleted while iterating may make the walk
/// restart from the first key (the kernel's rule for hash maps).
pub struct Keys<'m> {
    map: &'m Map,
    current: Option<Vec<u8>>,
    done: bool,
}

impl Iterator for Keys<'_> {
    type Item = Result<Vec<u8>, MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut next = vec![0u8; self.map.info.key_size as usize];
        match bpf::map_get_next_key(self.map.as_fd(), self.current.as_deref(), &mut next) {
            Ok(true) => {
                self.current = Some(next.clone());
                Some(Ok(next))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(self.map.syscall_error("BPF_MAP_GET_NEXT_KEY")(e)))
            }
        }
    }
}

/// The (key, value) pairs of a map; values as [`Map::lookup`] returns them. Entries deleted
/// between finding the key and reading the value are skipped.
pub struct Entries<'m> {
    keys: Keys<'m>,
}

impl Iterator for Entries<'_> {
    type Item = Result<Entry, MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let key = match self.keys.next()? {
                Ok(key) => key,
                Err(e) => return Some(Err(e)),
            };
            match self.keys.map.lookup(&key) {
                Ok(Some(value)) => return Some(Ok((key, value))),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl Map {
    /// Every key, one syscall per key.
    pub fn keys(&self) -> Keys<'_> {
        Keys {
            map: self,
            current: None,
            done: self.info.key_size == 0,
        }
    }

    /// Every (key, value) pair, two syscalls per entry.
    pub fn iter(&self) -> Entries<'_> {
        Entries { keys: self.keys() }
    }

    /// Every (key, value) pair, `batch_size` entries per syscall. Hash maps may need a batch
    /// larger than their fullest bucket: the batch grows on ENOSPC.
    pub fn lookup_batch(&self, batch_size: u32) -> Result<Vec<Entry>, MapError> {
        let mut entries = Vec::new();
        let mut buffers = BatchBuffers::default();
        self.for_each_batched(batch_size, &mut buffers, |key, value| {
            entries.push((key.to_vec(), value.to_vec()))
        })?;
        Ok(entries)
    }

    /// Hands every (key, value) pair to `visit`, as [`Map::lookup_batch`] reads them but into
    /// `buffers`, which keep their memory for the next walk: a reader that walks the same map
    /// again and again (an exporter at each scrape) allocates nothing once they have grown.
    /// Values are whole, as [`Map::lookup`] returns them.
    pub fn for_each_batched(
        &self,
        batch_size: u32,
        buffers: &mut BatchBuffers,
        mut visit: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), MapError> {
        let key_size = self.info.key_size as usize;
        let value_size = self.syscall_value_size()?;
        let token_size = key_size.max(4);
        let mut count = batch_size.max(1);
        let mut started = false;
        buffers.in_token.resize(token_size, 0);
        buffers.out_token.resize(token_size, 0);
        loop {
            buffers.keys.resize(key_size * count as usize, 0);
            buffers.values.resize(value_size * count as usize, 0);
            let batch = bpf::LookupBatch {
                in_batch: started.then_some(buffers.in_token.as_slice()),
                out_batch: &mut buffers.out_token,
                keys: &mut buffers.keys,
                values: &mut buffers.values,
                count,
            };
            let result = match bpf::map_lookup_batch(self.as_fd(), batch, 0) {
                Ok(result) => result,
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && count < 1 << 20 => {
                    count *= 2;
                    continue;
                }
                Err(e) => return Err(self.syscall_error("BPF_MAP_LOOKUP_BATCH")(e)),
            };
            let pairs = buffers
                .keys
                .chunks(key_size.max(1))
                .zip(buffers.values.chunks(value_size.max(1)));
            for (key, value) in pairs.take(result.count as usize) {
                visit(key, value);
            }
            if result.done {
                return Ok(());
            }
            std::mem::swap(&mut buffers.in_token, &mut buffers.out_token);
            started = true;
        }
    }
}

/// The memory [`Map::for_each_batched`] reads into, kept from one walk to the next.
#[derive(Debug, Default)]
pub struct BatchBuffers {
    keys: Vec<u8>,
    values: Vec<u8>,
    in_token: Vec<u8>,
    out_token: Vec<u8>,
}
