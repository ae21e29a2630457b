//! Consumer side of BPF_MAP_TYPE_RINGBUF: records handed to a callback as zero-copy byte slices.
//!
//! Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position (mapped read-write), page 1
//! the producer position, followed by the data area mapped twice in a row so that a record that
//! wraps around the end is still contiguous (both read-only). Each record starts with an 8-byte
//! header: `u32 len` whose top bits are BUSY (still being written) and DISCARD (skip it), then a
//! page offset we do not need. Records are 8-byte aligned.
//!
//! Reading: the producer position is read with acquire, then the records below it are read a
//! scan window (1 KiB) at a time, in two passes. The first walks the headers with atomic loads
//! up to the first one still BUSY, prefetching ahead; an acquire fence then orders the records'
//! reads after those headers (the kernel clears BUSY with a full barrier after writing the
//! body). The second hands the records over with plain loads, so the handler's state stays in
//! registers. A run of records with the same header word (fixed-size events) is walked without
//! waiting on each header load to find the next one, and handed over without reading the
//! headers again. The consumer position is published with release only after a batch
//! (everything below the producer position read, or a quarter of the ring, whichever comes
//! first), not after every record: the kernel needs it only to reuse space.
//!
//! Wakeups: the kernel wakes a waiting consumer only when, at commit time, the consumer position
//! equals the committed record's position. So before waiting we publish our position, issue a
//! full fence, and look again (the kernel's side is a full barrier too); one of the two sides
//! then sees the other, and no record is left waiting for a wakeup that never comes. That makes
//! edge-triggered epoll (`EPOLLET`, tokio's mode as well) safe and spares level-triggered
//! re-polling.
//!
//! The kernel counts nothing when a ring is full: `bpf_ringbuf_reserve` returns NULL and
//! `bpf_ringbuf_output` an error. Programs that count those failures in a map can name it with
//! [`DropCounter`], and the consumer reports it ([`RingReader::dropped`]).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{fence, Ordering};
use std::time::Duration;

use rustix::event::epoll;

use crate::error::MapError;
use crate::maps::Map;
use crate::sys::mmap::{page_size, RingData, SharedMemory};

const BPF_RINGBUF_BUSY_BIT: u32 = 1 << 31;
const BPF_RINGBUF_DISCARD_BIT: u32 = 1 << 30;
const BPF_RINGBUF_HDR_SZ: usize = 8;

/// Why a ring buffer could not be set up or polled.
#[derive(Debug, thiserror::Error)]
pub enum RingBufferError {
    /// The size given is not a power-of-two number of pages.
    #[error("ring buffer size {0} is not a power of two multiple of the page size")]
    BadSize(u32),
    /// Mapping the ring's pages into memory failed.
    #[error("cannot mmap the ring buffer: {0}")]
    Mmap(#[source] std::io::Error),
    /// Creating the epoll instance, registering the ring or waiting failed.
    #[error("epoll on the ring buffer failed: {0}")]
    Epoll(#[source] std::io::Error),
    /// BPF_OBJ_GET_INFO_BY_FD on the map failed.
    #[error("cannot query the map: {0}")]
    MapInfo(#[source] std::io::Error),
    /// The map given has another type (its number).
    #[error("the map is not a BPF_MAP_TYPE_RINGBUF (its type is {0})")]
    NotARingBuffer(u32),
    /// The size given differs from the map's.
    #[error("the ring buffer has {actual} bytes, not {given}")]
    SizeMismatch {
        /// The size the caller gave.
        given: u32,
        /// The map's `max_entries`.
        actual: u32,
    },
    /// The reader could not take its own copy of the map's fd.
    #[error("cannot duplicate the map fd: {0}")]
    DupMap(#[source] std::io::Error),
}

/// The size (max_entries) of a ring buffer map, checking that it is one.
pub fn ring_buffer_size(map: BorrowedFd<'_>) -> Result<u32, RingBufferError> {
    let info = crate::sys::bpf::map_info(map).map_err(RingBufferError::MapInfo)?;
    if info.map_type != whistler_bpf::MapType::RINGBUF as u32 {
        return Err(RingBufferError::NotARingBuffer(info.map_type));
    }
    Ok(info.max_entries)
}

/// A record too short for the type it was decoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("record of {len} bytes is shorter than {type_name} ({needed} bytes)")]
pub struct RecordTooShort {
    /// The record's length.
    pub len: usize,
    /// The type's size.
    pub needed: usize,
    /// The type's Rust name.
    pub type_name: &'static str,
}

/// Copies the start of a record into a `T` (the record need not be aligned; extra trailing bytes,
/// such as padding, are ignored). A record shorter than `T` is an error, never an out-of-bounds read.
pub fn typed<T: bytemuck::Pod>(record: &[u8]) -> Result<T, RecordTooShort> {
    let needed = std::mem::size_of::<T>();
    match record.get(..needed) {
        Some(bytes) => Ok(bytemuck::pod_read_unaligned(bytes)),
        None => Err(RecordTooShort {
            len: record.len(),
            needed,
            type_name: std::any::type_name::<T>(),
        }),
    }
}

/// Where a BPF program counts the records it could not put in a ring buffer: the `u64` at `key`
/// of an array map (per-CPU arrays are summed over the CPUs).
#[derive(Debug)]
pub struct DropCounter {
    map: Map,
    key: u32,
}

impl DropCounter {
    /// The counter at `key` of `map` (the map fd is duplicated, so `map` may close).
    pub fn new(map: &Map, key: u32) -> Result<DropCounter, MapError> {
        let fd = map
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| MapError::syscall(map.name(), "dup", e))?;
        Ok(DropCounter {
            map: Map::from_fd(fd, map.name())?,
            key,
        })
    }

    /// The records dropped so far (0 while the counter is absent).
    pub fn read(&self) -> Result<u64, MapError> {
        let key = self.key.to_ne_bytes();
        let values = match self.map.is_per_cpu() {
            true => self.map.lookup_per_cpu(&key)?.unwrap_or_default(),
            false => self.map.lookup(&key)?.into_iter().collect(),
        };
        Ok(values.iter().map(|v| counter_value(v)).sum())
    }
}

/// The first 8 bytes of a counter value as a `u64` (shorter values are zero-extended).
fn counter_value(value: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = value.len().min(8);
    word[..n].copy_from_slice(&value[..n]);
    u64::from_ne_bytes(word)
}

/// The consumer side of one ring buffer: its two mappings and the reading protocol, without a
/// callback or an epoll of its own. [`RingReader::consume`] takes the record handler as a
/// generic closure, so it is inlined into the reading loop; [`RingBuffer`] and
/// [`RingBufferSet`] add stored callbacks and waiting. Readiness: the map fd itself is readable
/// when records wait ([`RingReader::map_fd`]).
#[derive(Debug)]
pub struct RingReader {
    consumer: SharedMemory,
    producer: SharedMemory,
    data_offset: usize,
    /// The data area's size (the map's max_entries).
    size: usize,
    /// Publish the consumer position at least every this many bytes.
    publish_every: u64,
    map: OwnedFd,
    drops: Option<DropCounter>,
}

impl RingReader {
    /// Maps the ring buffer map `map`, whose size is read from the map.
    pub fn open(map: BorrowedFd<'_>) -> Result<RingReader, RingBufferError> {
        RingReader::new(map, ring_buffer_size(map)?)
    }

    /// Maps the ring buffer map `map`, created with `max_entries` bytes (checked).
    pub fn new(map: BorrowedFd<'_>, max_entries: u32) -> Result<RingReader, RingBufferError> {
        let page = page_size();
        let size = max_entries as usize;
        if !max_entries.is_power_of_two() || !size.is_multiple_of(page) {
            return Err(RingBufferError::BadSize(max_entries));
        }
        let actual = ring_buffer_size(map)?;
        if actual != max_entries {
            return Err(RingBufferError::SizeMismatch {
                given: max_entries,
                actual,
            });
        }
        RingReader::map(map, max_entries)
    }

    /// Maps the consumer page and the producer page with the data area, without checking what
    /// `fd` is (the tests map a memfd laid out like a ring buffer).
    fn map(map: BorrowedFd<'_>, max_entries: u32) -> Result<RingReader, RingBufferError> {
        let (page, size) = (page_size(), max_entries as usize);
        let consumer = SharedMemory::map(map, 0, page, true).map_err(RingBufferError::Mmap)?;
        let producer = SharedMemory::map(map, page as u64, page + 2 * size, false)
            .map_err(RingBufferError::Mmap)?;
        Ok(RingReader {
            consumer,
            producer,
            data_offset: page,
            size,
            publish_every: u64::from(max_entries / 4).max(8),
            map: map.try_clone_to_owned().map_err(RingBufferError::DupMap)?,
            drops: None,
        })
    }

    /// Hands every committed record to `f` in order, without waiting; returns how many.
    ///
    /// Stops at a record still being written. On return the consumer position is published,
    /// and the kernel will wake a waiter for the next record (see the module doc).
    #[inline]
    pub fn consume(&mut self, mut f: impl FnMut(&[u8])) -> usize {
        let mut records = 0;
        let mut pos = self.consumer.load_acquire_u64(0);
        loop {
            let end = self.producer.load_acquire_u64(0);
            let start = pos;
            pos = self.read_batch(pos, end, &mut records, &mut f);
            if pos == start {
                // Nothing new since the last fenced publish: empty, or the next record is busy.
                return records;
            }
            self.publish(pos);
        }
    }

    /// Reads the records in `pos..end` up to the first busy one, a scan window at a time;
    /// returns where it stopped.
    #[inline]
    fn read_batch(
        &self,
        mut pos: u64,
        end: u64,
        records: &mut usize,
        f: &mut impl FnMut(&[u8]),
    ) -> u64 {
        let data = self.producer.ring_data(self.data_offset, self.size);
        let mut published = pos;
        while pos < end {
            let window_end = end.min(pos + SCAN_WINDOW);
            let scan = scan_window(data, pos, window_end);
            // Orders the reads of those records after the headers that showed them committed.
            fence(Ordering::Acquire);
            pos = hand_over(data, pos, scan, records, f);
            if scan.busy {
                break;
            }
            if pos - published >= self.publish_every {
                self.consumer.store_release_u64(0, pos);
                published = pos;
            }
        }
        pos
    }

    /// Publishes the consumer position, then fences so that what we read next is ordered after
    /// the kernel seeing it.
    fn publish(&self, pos: u64) {
        self.consumer.store_release_u64(0, pos);
        fence(Ordering::SeqCst);
    }

    /// Bytes produced but not yet consumed (including discarded records).
    pub fn pending_bytes(&self) -> u64 {
        let producer_pos = self.producer.load_acquire_u64(0);
        producer_pos.saturating_sub(self.consumer.load_acquire_u64(0))
    }

    /// The ring buffer map (a duplicate fd): readable when records wait, for `poll`, `epoll`
    /// or an async runtime's reactor.
    pub fn map_fd(&self) -> BorrowedFd<'_> {
        self.map.as_fd()
    }

    /// Reports drops from `counter` in [`RingReader::dropped`].
    pub fn set_drop_counter(&mut self, counter: DropCounter) {
        self.drops = Some(counter);
    }

    /// Records the producer could not write because the ring was full, as its program counted
    /// them in the [`DropCounter`] given; `None` without one.
    pub fn dropped(&self) -> Option<Result<u64, MapError>> {
        self.drops.as_ref().map(DropCounter::read)
    }
}

/// Bytes of ring whose headers are scanned before their records are handed over: small enough
/// that the second pass reads from the L1 cache (1 KiB measured better than 512 B, 2 and 4 KiB
/// with 64-byte records, the same with 8 and 512-byte ones).
const SCAN_WINDOW: u64 = 1024;

/// What the first pass over a scan window found.
#[derive(Clone, Copy, Debug)]
struct Scan {
    /// The first record's header word, committed.
    first: u32,
    /// The records from the window's start up to here all have the header word `first`: the
    /// same length and discard bit (a run of fixed-size events, the common case).
    run_end: u64,
    /// Where the pass stopped: at or just past the window's end (the last record may end past
    /// it), or at a busy record.
    end: u64,
    /// True when it stopped at a busy record.
    busy: bool,
}

/// The first pass over `pos..until` (not empty): walks the headers with atomic loads (the
/// caller fences) while the records are committed, prefetching ahead. Within a run of records
/// whose header words equal the first one, the next position does not wait for the header
/// load, so the loads overlap.
#[inline(always)]
fn scan_window(data: RingData<'_>, pos: u64, until: u64) -> Scan {
    let first = data.header_relaxed(pos);
    if first & BPF_RINGBUF_BUSY_BIT != 0 {
        return Scan {
            first,
            run_end: pos,
            end: pos,
            busy: true,
        };
    }
    let step = record_step(first);
    let ahead = prefetch_distance(step);
    data.prefetch(pos + ahead);
    let mut p = pos + step;
    while p < until && data.header_relaxed(p) == first {
        data.prefetch(p + ahead);
        p += step;
    }
    let run_end = p;
    while p < until {
        let header = data.header_relaxed(p);
        if header & BPF_RINGBUF_BUSY_BIT != 0 {
            return Scan {
                first,
                run_end,
                end: p,
                busy: true,
            };
        }
        data.prefetch(p + ahead);
        p += record_step(header);
    }
    Scan {
        first,
        run_end,
        end: p,
        busy: false,
    }
}

/// The second pass over a scanned window from `pos`, all committed: hands every record not
/// discarded to `f`, with plain loads only, so that `f`'s state can stay in registers; the run
/// of equal headers without reading them again.
#[inline(always)]
fn hand_over(
    data: RingData<'_>,
    mut pos: u64,
    scan: Scan,
    records: &mut usize,
    f: &mut impl FnMut(&[u8]),
) -> u64 {
    let mut handed = 0;
    if scan.first & BPF_RINGBUF_DISCARD_BIT == 0 {
        let (len, step) = (record_len(scan.first), record_step(scan.first));
        while pos < scan.run_end {
            f(data.record(pos, len));
            handed += 1;
            pos += step;
        }
    }
    pos = scan.run_end;
    while pos < scan.end {
        let header = data.header(pos);
        if header & BPF_RINGBUF_DISCARD_BIT == 0 {
            f(data.record(pos, record_len(header)));
            handed += 1;
        }
        pos += record_step(header);
    }
    *records += handed;
    pos
}

/// The length of the record whose header is `header`.
#[inline(always)]
fn record_len(header: u32) -> usize {
    (header & !(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) as usize
}

/// How far the record whose header is `header` moves the position: header and body, rounded up
/// to 8 bytes.
#[inline(always)]
fn record_step(header: u32) -> u64 {
    round_up_8(BPF_RINGBUF_HDR_SZ + record_len(header)) as u64
}

/// How far ahead of a record of `step` bytes to prefetch: a whole number of such records (the
/// header of a later record when sizes repeat), 8 to 16 KiB ahead, far enough to hide the
/// latency of memory the kernel wrote a while ago.
#[inline]
fn prefetch_distance(step: u64) -> u64 {
    const AHEAD_LOG2: u32 = 13;
    let shift = AHEAD_LOG2.saturating_sub(step.ilog2());
    step << shift
}

fn round_up_8(n: usize) -> usize {
    (n + 7) & !7
}

/// Registers `map` edge-triggered: a wakeup is reported once per new record batch, and the
/// consumer drains before waiting again.
fn epoll_add(epoll_fd: &OwnedFd, map: BorrowedFd<'_>, index: u64) -> Result<(), RingBufferError> {
    epoll::add(
        epoll_fd,
        map,
        epoll::EventData::new_u64(index),
        epoll::EventFlags::IN | epoll::EventFlags::ET,
    )
    .map_err(|e| RingBufferError::Epoll(e.into()))
}

fn epoll_new() -> Result<OwnedFd, RingBufferError> {
    epoll::create(epoll::CreateFlags::CLOEXEC).map_err(|e| RingBufferError::Epoll(e.into()))
}

/// Waits until one of the epoll's fds is readable or the timeout passes (`None`: forever).
/// An interrupted wait (EINTR) counts as a wakeup so signal handlers get to run.
fn epoll_wait(epoll_fd: &OwnedFd, timeout: Option<Duration>) -> Result<(), RingBufferError> {
    let timeout = timeout.map(|t| rustix::event::Timespec {
        tv_sec: t.as_secs() as i64,
        tv_nsec: i64::from(t.subsec_nanos()),
    });
    let mut events = Vec::with_capacity(8);
    match epoll::wait(epoll_fd, spare(&mut events), timeout.as_ref()) {
        Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(RingBufferError::Epoll(e.into())),
    }
}

fn spare(events: &mut Vec<epoll::Event>) -> rustix::buffer::SpareCapacity<'_, epoll::Event> {
    rustix::buffer::spare_capacity(events)
}

/// A callback receiving each record's bytes.
type RecordCallback<'a> = Box<dyn FnMut(&[u8]) + 'a>;

/// One ring buffer with its record callback.
///
/// ```no_run
/// # fn demo(map: std::os::fd::BorrowedFd<'_>) -> Result<(), whistler_loader::ringbuf::RingBufferError> {
/// use whistler_loader::ringbuf::RingBuffer;
/// let mut ring = RingBuffer::new(map, 4096 * 64, |record: &[u8]| println!("{record:?}"))?;
/// let n = ring.poll(Some(std::time::Duration::from_millis(100)))?;
/// # Ok(()) }
/// ```
#[doc(alias = "BPF_MAP_TYPE_RINGBUF")]
pub struct RingBuffer<'a> {
    reader: RingReader,
    callback: RecordCallback<'a>,
    epoll: OwnedFd,
}

impl<'a> RingBuffer<'a> {
    /// Maps the ring buffer map `map` (created with `max_entries` bytes) and registers it with a
    /// new epoll instance.
    pub fn new(
        map: BorrowedFd<'_>,
        max_entries: u32,
        callback: impl FnMut(&[u8]) + 'a,
    ) -> Result<RingBuffer<'a>, RingBufferError> {
        let reader = RingReader::new(map, max_entries)?;
        let epoll = epoll_new()?;
        epoll_add(&epoll, map, 0)?;
        Ok(RingBuffer {
            reader,
            callback: Box::new(callback),
            epoll,
        })
    }

    /// The same, with the size read from the map itself.
    pub fn open(
        map: BorrowedFd<'_>,
        callback: impl FnMut(&[u8]) + 'a,
    ) -> Result<RingBuffer<'a>, RingBufferError> {
        RingBuffer::new(map, ring_buffer_size(map)?, callback)
    }

    /// Consumes every committed record without waiting; returns how many were handed over.
    pub fn consume(&mut self) -> usize {
        self.reader.consume(&mut self.callback)
    }

    /// Consumes what is there; when nothing was, waits up to `timeout` (`None`: forever) for
    /// data and consumes again. Returns the record count.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<usize, RingBufferError> {
        let records = self.consume();
        if records > 0 {
            return Ok(records);
        }
        epoll_wait(&self.epoll, timeout)?;
        Ok(self.consume())
    }

    /// Bytes written by the kernel and not yet consumed (including discarded records).
    pub fn pending_bytes(&self) -> u64 {
        self.reader.pending_bytes()
    }

    /// The reader underneath (drops counted, the map fd).
    pub fn reader(&self) -> &RingReader {
        &self.reader
    }

    /// The same, to give it a [`DropCounter`].
    pub fn reader_mut(&mut self) -> &mut RingReader {
        &mut self.reader
    }
}

impl AsFd for RingBuffer<'_> {
    /// The epoll fd: readable when the ring buffer has data.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

impl std::fmt::Debug for RingBuffer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingBuffer")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

/// Several ring buffers polled together through one epoll, each with its own callback.
pub struct RingBufferSet<'a> {
    rings: Vec<(RingReader, RecordCallback<'a>)>,
    epoll: OwnedFd,
}

impl<'a> RingBufferSet<'a> {
    /// An empty set with its epoll instance.
    pub fn new() -> Result<RingBufferSet<'a>, RingBufferError> {
        Ok(RingBufferSet {
            rings: Vec::new(),
            epoll: epoll_new()?,
        })
    }

    /// Adds a ring buffer map and the callback for its records.
    pub fn add(
        &mut self,
        map: BorrowedFd<'_>,
        max_entries: u32,
        callback: impl FnMut(&[u8]) + 'a,
    ) -> Result<&mut Self, RingBufferError> {
        let reader = RingReader::new(map, max_entries)?;
        epoll_add(&self.epoll, map, self.rings.len() as u64)?;
        self.rings.push((reader, Box::new(callback)));
        Ok(self)
    }

    /// Builder form of [`RingBufferSet::add`].
    pub fn with(
        mut self,
        map: BorrowedFd<'_>,
        max_entries: u32,
        callback: impl FnMut(&[u8]) + 'a,
    ) -> Result<Self, RingBufferError> {
        self.add(map, max_entries, callback)?;
        Ok(self)
    }

    /// How many rings were added.
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// True when no ring was added.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// Consumes every committed record of every ring without waiting.
    pub fn consume(&mut self) -> usize {
        self.rings
            .iter_mut()
            .map(|(reader, callback)| reader.consume(callback))
            .sum()
    }

    /// Consumes every ring; when none had records, waits up to `timeout` for any of them and
    /// consumes again.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<usize, RingBufferError> {
        let records = self.consume();
        if records > 0 {
            return Ok(records);
        }
        epoll_wait(&self.epoll, timeout)?;
        Ok(self.consume())
    }
}

impl AsFd for RingBufferSet<'_> {
    /// The shared epoll fd: readable when any ring has data.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

impl std::fmt::Debug for RingBufferSet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingBufferSet")
            .field("rings", &self.rings.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    struct Event {
        pid: u32,
        tid: u32,
        count: u64,
    }

    #[test]
    fn typed_reads_unaligned_and_rejects_short_records() {
        let mut bytes = vec![0xAAu8];
        bytes.extend_from_slice(bytemuck::bytes_of(&Event {
            pid: 7,
            tid: 8,
            count: 9,
        }));
        assert_eq!(
            typed::<Event>(&bytes[1..]),
            Ok(Event {
                pid: 7,
                tid: 8,
                count: 9
            })
        );
        let err = typed::<Event>(&bytes[1..10]).unwrap_err();
        assert_eq!((err.len, err.needed), (9, 16));
        assert!(err.to_string().contains("Event"), "{err}");
    }

    /// A memfd laid out like a ring buffer (consumer page, producer page, data), written with
    /// plain file writes standing in for the kernel. It is not double-mapped, so records here
    /// must not wrap.
    struct FakeRing {
        file: std::fs::File,
        reader: RingReader,
    }

    const SIZE: u32 = 4096 * 4;

    impl FakeRing {
        fn new() -> FakeRing {
            use std::os::unix::fs::FileExt;
            let fd = rustix::fs::memfd_create("ring", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
            let file = std::fs::File::from(fd);
            file.set_len((page_size() * 2 + 2 * SIZE as usize) as u64)
                .unwrap();
            file.write_all_at(&[0], 0).unwrap();
            let reader = RingReader::map(file.as_fd(), SIZE).unwrap();
            FakeRing { file, reader }
        }

        fn write(&self, offset: usize, bytes: &[u8]) {
            use std::os::unix::fs::FileExt;
            self.file.write_all_at(bytes, offset as u64).unwrap();
        }

        /// Writes a record header and body at data position `pos`.
        fn record(&self, pos: usize, header: u32, body: &[u8]) {
            let data = 2 * page_size();
            self.write(data + pos, &header.to_ne_bytes());
            self.write(data + pos + 8, body);
        }

        /// Writes a record at `pos`; returns the position after it.
        fn append(&self, pos: usize, header: u32, body: &[u8]) -> usize {
            self.record(pos, header, body);
            pos + round_up_8(8 + body.len())
        }

        fn produce_up_to(&self, pos: u64) {
            self.write(page_size(), &pos.to_ne_bytes());
        }

        fn consume(&mut self) -> Vec<Vec<u8>> {
            let mut out = Vec::new();
            self.reader.consume(|r: &[u8]| out.push(r.to_vec()));
            out
        }

        fn consumer_pos(&self) -> u64 {
            self.reader.consumer.load_acquire_u64(0)
        }
    }

    #[test]
    fn busy_records_stop_the_consumer_and_discarded_ones_are_skipped() {
        let mut ring = FakeRing::new();
        ring.record(0, 3, b"abc");
        ring.record(16, 5 | BPF_RINGBUF_DISCARD_BIT, b"gone!");
        ring.record(32, 4 | BPF_RINGBUF_BUSY_BIT, b"wait");
        ring.produce_up_to(48);
        assert_eq!(ring.consume(), vec![b"abc".to_vec()]);
        assert_eq!(ring.consumer_pos(), 32, "stopped before the busy record");
        assert!(ring.consume().is_empty(), "still busy");
        ring.record(32, 4, b"wait");
        assert_eq!(ring.consume(), vec![b"wait".to_vec()]);
        assert_eq!(ring.consumer_pos(), 48);
        assert_eq!(ring.reader.pending_bytes(), 0);
    }

    /// Runs of equal records across several scan windows, broken by other sizes, a discarded
    /// record inside a run and a run of discarded records, then a busy record mid-run.
    #[test]
    fn runs_of_equal_records_and_their_breaks_are_read_exactly() {
        let mut ring = FakeRing::new();
        let mut expected = Vec::new();
        let mut pos = 0;
        for i in 0..700u32 {
            let (body, flags) = match i {
                300 => (vec![7; 13], 0),
                400 | 500..=520 => (i.to_ne_bytes().to_vec(), BPF_RINGBUF_DISCARD_BIT),
                _ => (i.to_ne_bytes().to_vec(), 0),
            };
            if flags == 0 {
                expected.push(body.clone());
            }
            pos = ring.append(pos, body.len() as u32 | flags, &body);
        }
        let busy_at = pos;
        pos = ring.append(pos, 4 | BPF_RINGBUF_BUSY_BIT, &[1; 4]);
        pos = ring.append(pos, 4, &[2; 4]);
        ring.produce_up_to(pos as u64);
        assert!(busy_at > 2 * SCAN_WINDOW as usize, "spans several windows");
        assert_eq!(ring.consume(), expected);
        assert_eq!(ring.consumer_pos(), busy_at as u64);
        ring.record(busy_at, 4, &[1; 4]);
        assert_eq!(ring.consume(), vec![vec![1; 4], vec![2; 4]]);
        assert_eq!(ring.reader.pending_bytes(), 0);
    }

    #[test]
    fn records_are_eight_byte_aligned() {
        assert_eq!(round_up_8(8 + 1), 16);
        assert_eq!(round_up_8(8 + 8), 16);
        assert_eq!(round_up_8(8), 8);
    }
}
