//! Async consumers (feature `tokio`): a ring buffer or a perf event array as a
//! [`futures_core::Stream`] of typed records, woken by tokio's reactor through [`AsyncFd`].
//!
//! A stream drains everything committed into a queue of decoded records, hands them out, and
//! waits for readiness only when the ring was empty. The ring buffer map fd is registered
//! directly (tokio registers edge-triggered; the loader's reader publishes its position and
//! fences before reporting "empty", so the kernel's next commit wakes us); a perf event array's
//! per-CPU events are watched through the loader's epoll fd.
//!
//! ```no_run
//! # async fn demo(events: &whistler::RingBuf) -> whistler::Result<()> {
//! let mut records = events.stream::<u64>()?;
//! while let Some(record) = records.next().await {
//!     println!("{}", record?);
//! }
//! # Ok(()) }
//! ```

use crate::{Plain, Result};
use futures_core::Stream;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::unix::AsyncFd;
use whistler_loader::perf_buffer::{PerfReader, PerfRecord};
use whistler_loader::ringbuf::RingReader;

/// What a stream drains: a ring buffer or the per-CPU rings of a perf event array.
trait Source {
    /// Hands every committed record's bytes to `f`.
    fn drain(&mut self, f: &mut dyn FnMut(&[u8]));
}

impl Source for RingReader {
    fn drain(&mut self, f: &mut dyn FnMut(&[u8])) {
        self.consume(f);
    }
}

impl Source for PerfReader {
    fn drain(&mut self, f: &mut dyn FnMut(&[u8])) {
        self.consume(|record| {
            if let PerfRecord::Sample { data, .. } = record {
                f(data);
            }
        });
    }
}

/// Records of type `T` from a `S`, decoded as they are drained.
struct Records<S, T> {
    source: S,
    ready: AsyncFd<OwnedFd>,
    queue: VecDeque<T>,
    short: u64,
}

impl<S: Source, T: Plain> Records<S, T> {
    fn new(source: S, readable: OwnedFd) -> Result<Records<S, T>> {
        Ok(Records {
            source,
            ready: whistler_loader::sys::async_fd::register_readable(readable)?,
            queue: VecDeque::new(),
            short: 0,
        })
    }

    fn fill(&mut self) {
        let (queue, short) = (&mut self.queue, &mut self.short);
        self.source.drain(&mut |bytes| match T::from_bytes(bytes) {
            Some(record) => queue.push_back(record),
            None => *short += 1,
        });
    }

    fn poll_next_record(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        loop {
            if let Some(record) = self.queue.pop_front() {
                return Poll::Ready(Some(Ok(record)));
            }
            self.fill();
            if !self.queue.is_empty() {
                continue;
            }
            // Empty: wait for the next wakeup. A readiness left from records already drained
            // is cleared, and the loop drains once more before waiting again.
            match ready!(self.ready.poll_read_ready(cx)) {
                Ok(mut guard) => guard.clear_ready(),
                Err(e) => return Poll::Ready(Some(Err(e.into()))),
            }
        }
    }
}

/// A ring buffer map's records as a stream of `T` ([`crate::RingBuf::stream`]). Records
/// shorter than `T` are skipped and counted ([`RingStream::short_records`]).
pub struct RingStream<T> {
    records: Records<RingReader, T>,
    _type: PhantomData<fn() -> T>,
}

impl<T: Plain> RingStream<T> {
    pub(crate) fn new(map: &whistler_loader::Map) -> Result<RingStream<T>> {
        let reader = RingReader::open(map.as_fd())?;
        let readable = map.as_fd().try_clone_to_owned()?;
        Ok(RingStream {
            records: Records::new(reader, readable)?,
            _type: PhantomData,
        })
    }

    /// Records too short for `T`, skipped so far.
    pub fn short_records(&self) -> u64 {
        self.records.short
    }

    /// The loader's reader (to count drops with a [`whistler_loader::ringbuf::DropCounter`]).
    pub fn reader(&mut self) -> &mut RingReader {
        &mut self.records.source
    }
}

impl<T: Plain + Unpin> RingStream<T> {
    /// The next record (what `StreamExt::next` gives, without needing that trait).
    pub async fn next(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.records.poll_next_record(cx)).await
    }
}

impl<T: Plain + Unpin> Stream for RingStream<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        self.get_mut().records.poll_next_record(cx)
    }
}

/// A perf event array's samples as a stream of `T` ([`crate::PerfEventArray::stream`]),
/// from every CPU's ring; samples the kernel lost are counted ([`PerfStream::lost_samples`]).
pub struct PerfStream<T> {
    records: Records<PerfReader, T>,
    _type: PhantomData<fn() -> T>,
}

impl<T: Plain> PerfStream<T> {
    pub(crate) fn new(map: &whistler_loader::Map, pages_per_cpu: usize) -> Result<PerfStream<T>> {
        let reader = PerfReader::new(map.as_fd(), pages_per_cpu)?;
        let readable = reader.as_fd().try_clone_to_owned()?;
        Ok(PerfStream {
            records: Records::new(reader, readable)?,
            _type: PhantomData,
        })
    }

    /// Samples the kernel dropped because a CPU's ring was full.
    pub fn lost_samples(&self) -> u64 {
        self.records.source.lost_samples()
    }

    /// Samples too short for `T`, skipped so far.
    pub fn short_records(&self) -> u64 {
        self.records.short
    }
}

impl<T: Plain + Unpin> PerfStream<T> {
    /// The next sample (what `StreamExt::next` gives, without needing that trait).
    pub async fn next(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.records.poll_next_record(cx)).await
    }
}

impl<T: Plain + Unpin> Stream for PerfStream<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        self.get_mut().records.poll_next_record(cx)
    }
}

impl crate::RingBuf {
    /// The ring buffer's records as an async stream of `T` (needs a tokio runtime).
    pub fn stream<T: Plain>(&self) -> Result<RingStream<T>> {
        RingStream::new(self.raw())
    }
}

impl crate::PerfEventArray {
    /// The samples every CPU writes with `perf-event-output` as an async stream of `T`, with
    /// `pages_per_cpu` data pages per CPU (a power of two; needs a tokio runtime).
    pub fn stream<T: Plain>(&self, pages_per_cpu: usize) -> Result<PerfStream<T>> {
        PerfStream::new(self.raw(), pages_per_cpu)
    }
}
