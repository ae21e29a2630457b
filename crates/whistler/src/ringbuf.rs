//! Ring-buffer maps and their consumers: a callback per record, decoded into a [`Plain`] type
//! or handed over as bytes.

use crate::maps::FromMap;
use crate::{Plain, Result};
use std::cell::Cell;
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;
use std::time::Duration;
use whistler_loader::ringbuf::{DropCounter, RingBuffer};

/// A ring-buffer map of a session.
pub struct RingBuf {
    inner: whistler_loader::Map,
}

impl FromMap for RingBuf {
    fn from_map(inner: whistler_loader::Map) -> Result<Self> {
        Ok(RingBuf { inner })
    }
}

impl RingBuf {
    /// A consumer decoding every record into `T` (records shorter than `T` are counted in
    /// [`RingConsumer::short_records`] and skipped).
    pub fn consumer<'a, T: Plain + 'a>(
        &'a self,
        mut callback: impl FnMut(&T) + 'a,
    ) -> Result<RingConsumer<'a>> {
        let short = Rc::new(Cell::new(0u64));
        let counter = short.clone();
        self.raw_consumer_counting(short, move |bytes: &[u8]| match T::from_bytes(bytes) {
            Some(record) => callback(&record),
            None => counter.set(counter.get() + 1),
        })
    }

    /// A consumer handing every record over as a byte slice into the ring (zero-copy).
    pub fn raw_consumer<'a>(
        &'a self,
        callback: impl FnMut(&[u8]) + 'a,
    ) -> Result<RingConsumer<'a>> {
        self.raw_consumer_counting(Rc::new(Cell::new(0)), callback)
    }

    fn raw_consumer_counting<'a>(
        &'a self,
        short: Rc<Cell<u64>>,
        callback: impl FnMut(&[u8]) + 'a,
    ) -> Result<RingConsumer<'a>> {
        let ring = RingBuffer::new(self.inner.as_fd(), self.inner.info().max_entries, callback)?;
        Ok(RingConsumer { ring, short })
    }

    /// The loader's untyped map underneath.
    pub fn raw(&self) -> &whistler_loader::Map {
        &self.inner
    }
}

/// Reads records as the kernel commits them.
pub struct RingConsumer<'a> {
    ring: RingBuffer<'a>,
    short: Rc<Cell<u64>>,
}

impl RingConsumer<'_> {
    /// Waits up to `timeout` for records and handles them; returns how many were handled.
    pub fn poll(&mut self, timeout: Duration) -> Result<usize> {
        Ok(self.ring.poll(Some(timeout))?)
    }

    /// Handles the records already committed, without waiting.
    pub fn consume(&mut self) -> usize {
        self.ring.consume()
    }

    /// Records too short for the decoded type, skipped so far.
    pub fn short_records(&self) -> u64 {
        self.short.get()
    }

    /// Reports in [`RingConsumer::dropped`] the records the BPF side could not write because
    /// the ring was full, as it counts them in the `u64` at `key` of `counter` (an array or
    /// per-CPU array map the program increments when `ringbuf-reserve` fails).
    pub fn count_drops_in(&mut self, counter: &whistler_loader::Map, key: u32) -> Result<()> {
        let counter = DropCounter::new(counter, key)?;
        self.ring.reader_mut().set_drop_counter(counter);
        Ok(())
    }

    /// Records dropped so far, when a counter was given ([`RingConsumer::count_drops_in`]).
    pub fn dropped(&self) -> Option<Result<u64>> {
        let dropped = self.ring.reader().dropped()?;
        Some(dropped.map_err(Into::into))
    }
}

impl AsFd for RingConsumer<'_> {
    /// The epoll fd: readable when records are waiting, for callers' own event loops.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.ring.as_fd()
    }
}
