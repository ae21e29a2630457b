//! Typed map handles of a session. Keys and values are [`Plain`] types whose sizes are checked
//! against the map when the session loads.

use crate::{Error, Plain, Result};
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd};
pub use whistler_loader::UpdateFlags;

/// Built from a loaded map by [`crate::LoadedObject::take_map`].
pub trait FromMap: Sized {
    fn from_map(map: whistler_loader::Map) -> Result<Self>;
}

fn check_size(
    map: &whistler_loader::Map,
    what: &'static str,
    expected: usize,
    actual: u32,
) -> Result<()> {
    if expected == actual as usize {
        return Ok(());
    }
    Err(Error::SizeMismatch {
        map: map.name().to_string(),
        what,
        expected,
        actual: actual as usize,
    })
}

/// A hash, array, LRU, LPM-trie or other keyed map with one value per key.
pub struct Map<K, V> {
    inner: whistler_loader::Map,
    _types: PhantomData<(K, V)>,
}

impl<K: Plain, V: Plain> FromMap for Map<K, V> {
    fn from_map(inner: whistler_loader::Map) -> Result<Self> {
        check_size(&inner, "key", K::SIZE, inner.info().key_size)?;
        check_size(&inner, "value", V::SIZE, inner.info().value_size)?;
        Ok(Map {
            inner,
            _types: PhantomData,
        })
    }
}

impl<K: Plain, V: Plain> Map<K, V> {
    /// The value under `key` (`bpf:map-ref`), or `None` when absent.
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        Ok(self
            .inner
            .lookup(&key.to_bytes())?
            .as_deref()
            .and_then(V::from_bytes))
    }

    /// Stores `value` under `key`, creating or replacing the entry.
    pub fn set(&self, key: &K, value: &V) -> Result<()> {
        self.set_with(key, value, UpdateFlags::Any)
    }

    /// Stores `value` under `key` with explicit `flags`: only create, only replace, or either.
    pub fn set_with(&self, key: &K, value: &V, flags: UpdateFlags) -> Result<()> {
        Ok(self
            .inner
            .update(&key.to_bytes(), &value.to_bytes(), flags)?)
    }

    /// Removes `key`; returns whether it was present.
    pub fn delete(&self, key: &K) -> Result<bool> {
        Ok(self.inner.delete(&key.to_bytes())?)
    }

    /// Every key present, in the kernel's iteration order (a concurrent update may skip or repeat one).
    pub fn keys(&self) -> impl Iterator<Item = Result<K>> + '_ {
        self.inner.keys().map(|k| Ok(K::read_from(&k?)))
    }

    /// Every entry as (key, value), looked up one key at a time while iterating.
    pub fn iter(&self) -> impl Iterator<Item = Result<(K, V)>> + '_ {
        self.inner.iter().map(|entry| {
            let (k, v) = entry?;
            Ok((K::read_from(&k), V::read_from(&v)))
        })
    }

    /// The loader's untyped map.
    pub fn raw(&self) -> &whistler_loader::Map {
        &self.inner
    }
}

/// A per-CPU map: one value per possible CPU.
pub struct PerCpuMap<K, V> {
    inner: whistler_loader::Map,
    _types: PhantomData<(K, V)>,
}

impl<K: Plain, V: Plain> FromMap for PerCpuMap<K, V> {
    fn from_map(inner: whistler_loader::Map) -> Result<Self> {
        check_size(&inner, "key", K::SIZE, inner.info().key_size)?;
        check_size(&inner, "value", V::SIZE, inner.info().value_size)?;
        Ok(PerCpuMap {
            inner,
            _types: PhantomData,
        })
    }
}

impl<K: Plain, V: Plain> PerCpuMap<K, V> {
    /// One value per possible CPU, or `None` when the key is absent.
    pub fn get(&self, key: &K) -> Result<Option<Vec<V>>> {
        let values = self.inner.lookup_per_cpu(&key.to_bytes())?;
        Ok(values.map(|per_cpu| per_cpu.iter().map(|v| V::read_from(v)).collect()))
    }

    /// Sets every CPU's value (`values.len()` must be the possible-CPU count).
    pub fn set(&self, key: &K, values: &[V]) -> Result<()> {
        let raw: Vec<Vec<u8>> = values.iter().map(Plain::to_bytes).collect();
        Ok(self
            .inner
            .update_per_cpu(&key.to_bytes(), &raw, UpdateFlags::Any)?)
    }

    /// Removes `key` from every CPU at once; returns whether it was present.
    pub fn delete(&self, key: &K) -> Result<bool> {
        Ok(self.inner.delete(&key.to_bytes())?)
    }

    /// Every key present, in the kernel's iteration order.
    pub fn keys(&self) -> impl Iterator<Item = Result<K>> + '_ {
        self.inner.keys().map(|k| Ok(K::read_from(&k?)))
    }

    /// The loader's untyped map, for byte access and per-CPU raw values.
    pub fn raw(&self) -> &whistler_loader::Map {
        &self.inner
    }
}

/// A queue or stack map.
pub struct Queue<V> {
    inner: whistler_loader::Map,
    _types: PhantomData<V>,
}

impl<V: Plain> FromMap for Queue<V> {
    fn from_map(inner: whistler_loader::Map) -> Result<Self> {
        check_size(&inner, "value", V::SIZE, inner.info().value_size)?;
        Ok(Queue {
            inner,
            _types: PhantomData,
        })
    }
}

impl<V: Plain> Queue<V> {
    /// Appends `value` (a stack map pushes it on top); fails when the map is full.
    pub fn push(&self, value: &V) -> Result<()> {
        Ok(self.inner.push(&value.to_bytes(), UpdateFlags::Any)?)
    }
    /// Removes and returns the next value (oldest for a queue, newest for a stack), `None` when empty.
    pub fn pop(&self) -> Result<Option<V>> {
        Ok(self.inner.pop()?.as_deref().and_then(V::from_bytes))
    }
    /// Returns the next value without removing it, `None` when empty.
    pub fn peek(&self) -> Result<Option<V>> {
        Ok(self.inner.peek()?.as_deref().and_then(V::from_bytes))
    }
}

/// A map handle used only through its fd (prog arrays are filled at load; perf event arrays are
/// read with the loader's perf buffer).
macro_rules! fd_map {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name {
            inner: whistler_loader::Map,
        }
        impl FromMap for $name {
            fn from_map(inner: whistler_loader::Map) -> Result<Self> {
                Ok($name { inner })
            }
        }
        impl $name {
            /// The loader's map, for its fd and raw operations.
            pub fn raw(&self) -> &whistler_loader::Map {
                &self.inner
            }
        }
        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }
    };
}

fd_map!(
    /// A prog-array map for tail calls.
    ProgArray
);
fd_map!(
    /// A perf-event-array map.
    PerfEventArray
);
