//! Typed map access over `bytemuck::Pod` keys and values: [`TypedMap`] for ordinary maps and
//! [`PerCpuMap`] for per-CPU maps (one value per possible CPU). Both own a [`Map`] or borrow
//! one (`M = &Map`), and check the sizes once, when made.

use std::borrow::Borrow;
use std::marker::PhantomData;

use bytemuck::Pod;

use super::{Map, UpdateFlags};
use crate::error::MapError;

fn check_sizes<K, V>(map: &Map) -> Result<(), MapError> {
    let info = map.info();
    map.check_size("key", info.key_size as usize, size_of::<K>())?;
    map.check_size("value", info.value_size as usize, size_of::<V>())
}

fn decode<T: Pod>(bytes: &[u8]) -> T {
    bytemuck::pod_read_unaligned(&bytes[..size_of::<T>()])
}

/// Marks the key and value types without owning any (so the map stays Send and Sync).
type KeyValue<K, V> = fn(K, V) -> (K, V);

/// A map with keys of type `K` and values of type `V`.
#[derive(Debug)]
pub struct TypedMap<K, V, M = Map> {
    map: M,
    types: PhantomData<KeyValue<K, V>>,
}

impl<K: Pod, V: Pod, M: Borrow<Map>> TypedMap<K, V, M> {
    /// Fails when the map's key or value size differs from `K`'s or `V`'s, or the map is
    /// per-CPU (use [`PerCpuMap`]).
    pub fn new(map: M) -> Result<Self, MapError> {
        check_sizes::<K, V>(map.borrow())?;
        if map.borrow().is_per_cpu() {
            return Err(map.borrow().unsupported("single-value typed access"));
        }
        Ok(TypedMap {
            map,
            types: PhantomData,
        })
    }

    /// The untyped map, for byte access.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Gives back the map (or the borrow) this was made from.
    pub fn into_inner(self) -> M {
        self.map
    }

    /// The value under `key`, or `None` when absent.
    pub fn get(&self, key: &K) -> Result<Option<V>, MapError> {
        let raw = self.map().lookup(bytemuck::bytes_of(key))?;
        Ok(raw.map(|v| decode(&v)))
    }

    /// Stores `value` under `key`, creating or replacing the entry.
    pub fn set(&self, key: &K, value: &V) -> Result<(), MapError> {
        self.set_with(key, value, UpdateFlags::Any)
    }

    /// Stores `value` under `key` with explicit `flags`: only create, only replace, or either.
    pub fn set_with(&self, key: &K, value: &V, flags: UpdateFlags) -> Result<(), MapError> {
        let (k, v) = (bytemuck::bytes_of(key), bytemuck::bytes_of(value));
        self.map().update(k, v, flags)
    }

    /// Returns false when the key was absent.
    pub fn delete(&self, key: &K) -> Result<bool, MapError> {
        self.map().delete(bytemuck::bytes_of(key))
    }

    /// Every key, in the kernel's iteration order (one syscall per key).
    pub fn keys(&self) -> impl Iterator<Item = Result<K, MapError>> + '_ {
        self.map().keys().map(|k| k.map(|k| decode(&k)))
    }

    /// Every (key, value) pair, two syscalls per entry; see [`lookup_batch`](Self::lookup_batch).
    pub fn iter(&self) -> impl Iterator<Item = Result<(K, V), MapError>> + '_ {
        self.map()
            .iter()
            .map(|e| e.map(|(k, v)| (decode(&k), decode(&v))))
    }

    /// Every entry, `batch_size` per syscall.
    pub fn lookup_batch(&self, batch_size: u32) -> Result<Vec<(K, V)>, MapError> {
        let raw = self.map().lookup_batch(batch_size)?;
        Ok(raw.iter().map(|(k, v)| (decode(k), decode(v))).collect())
    }

    /// Pushes onto a queue or stack (the key type is ignored: use `()`).
    pub fn push(&self, value: &V) -> Result<(), MapError> {
        self.map().push(bytemuck::bytes_of(value), UpdateFlags::Any)
    }

    /// Removes and returns the next value of a queue (oldest) or stack (newest); `None` when empty.
    pub fn pop(&self) -> Result<Option<V>, MapError> {
        Ok(self.map().pop()?.map(|v| decode(&v)))
    }

    /// The next value of a queue or stack without removing it; `None` when empty.
    pub fn peek(&self) -> Result<Option<V>, MapError> {
        Ok(self.map().peek()?.map(|v| decode(&v)))
    }
}

/// A per-CPU map: every key holds one `V` per possible CPU.
#[derive(Debug)]
pub struct PerCpuMap<K, V, M = Map> {
    map: M,
    types: PhantomData<KeyValue<K, V>>,
}

impl<K: Pod, V: Pod, M: Borrow<Map>> PerCpuMap<K, V, M> {
    /// Fails when the map is not per-CPU or its sizes differ from `K`'s and `V`'s.
    pub fn new(map: M) -> Result<Self, MapError> {
        check_sizes::<K, V>(map.borrow())?;
        if !map.borrow().is_per_cpu() {
            return Err(map.borrow().unsupported("per-CPU typed access"));
        }
        Ok(PerCpuMap {
            map,
            types: PhantomData,
        })
    }

    /// The untyped map, for byte access.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Gives back the map (or the borrow) this was made from.
    pub fn into_inner(self) -> M {
        self.map
    }

    /// One value per possible CPU, in CPU order.
    pub fn get(&self, key: &K) -> Result<Option<Vec<V>>, MapError> {
        let values = self.map().lookup_per_cpu(bytemuck::bytes_of(key))?;
        Ok(values.map(|vs| vs.iter().map(|v| decode(v)).collect()))
    }

    /// Sets every CPU's value to `values[cpu]`; `values` has one entry per possible CPU.
    pub fn set(&self, key: &K, values: &[V]) -> Result<(), MapError> {
        self.set_with(key, values, UpdateFlags::Any)
    }

    /// Sets every CPU's value with explicit `flags`: only create, only replace, or either.
    pub fn set_with(&self, key: &K, values: &[V], flags: UpdateFlags) -> Result<(), MapError> {
        let raw: Vec<Vec<u8>> = values
            .iter()
            .map(|v| bytemuck::bytes_of(v).to_vec())
            .collect();
        self.map()
            .update_per_cpu(bytemuck::bytes_of(key), &raw, flags)
    }

    /// Removes `key` (every CPU's value at once); returns false when it was absent.
    pub fn delete(&self, key: &K) -> Result<bool, MapError> {
        self.map().delete(bytemuck::bytes_of(key))
    }

    /// Every key, in the kernel's iteration order.
    pub fn keys(&self) -> impl Iterator<Item = Result<K, MapError>> + '_ {
        self.map().keys().map(|k| k.map(|k| decode(&k)))
    }

    /// Every key with its per-CPU values.
    pub fn iter(&self) -> impl Iterator<Item = Result<(K, Vec<V>), MapError>> + '_ {
        let map = self.map();
        map.iter().map(move |e| {
            e.map(|(k, raw)| {
                let values = map.split_per_cpu(&raw).iter().map(|v| decode(v)).collect();
                (decode(&k), values)
            })
        })
    }
}
