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
        let key_size = self.info.key_size as usize;
        let value_size = self.syscall_value_size()?;
        let token_size = key_size.max(4);
        let mut count = batch_size.max(1);
        let mut in_batch: Option<Vec<u8>> = None;
        let mut entries = Vec::new();
        loop {
            let mut out_batch = vec![0u8; token_size];
            let mut keys = vec![0u8; key_size * count as usize];
            let mut values = vec![0u8; value_size * count as usize];
            let batch = bpf::LookupBatch {
                in_batch: in_batch.as_deref(),
                out_batch: &mut out_batch,
                keys: &mut keys,
                values: &mut values,
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
            let n = result.count as usize;
            let pairs = keys
                .chunks(key_size.max(1))
                .zip(values.chunks(value_size.max(1)));
            entries.extend(pairs.take(n).map(|(k, v)| (k.to_vec(), v.to_vec())));
            if result.done {
                return Ok(entries);
            }
            in_batch = Some(out_batch);
        }
    }
}
