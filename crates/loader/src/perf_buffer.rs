//! Consumer of a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one PERF_COUNT_SW_BPF_OUTPUT event per CPU, each
//! with its own mmapped perf ring, stored in the map at index `cpu` so `bpf_perf_event_output`
//! with BPF_F_CURRENT_CPU lands in the ring of the CPU it ran on.
//!
//! A perf ring is one metadata page (`struct perf_event_mmap_page`: `data_head` written by the
//! kernel, `data_tail` written by us) followed by 2^n data pages. Records (`struct
//! perf_event_header` + body) are 8-byte aligned but may wrap around the end of the data area;
//! those are copied into a scratch buffer, all others are handed over without copying.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::epoll;

use crate::sys::mmap::{page_size, SharedMemory};
use crate::sys::perf::{self, PerfEventAttr, PerfScope};

const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;
const HEADER_SIZE: usize = 8;

/// Why a perf buffer could not be set up or polled.
#[derive(Debug, thiserror::Error)]
pub enum PerfBufferError {
    /// The ring size asked for is not a power of two of pages.
    #[error("pages per CPU must be a power of two, not {0}")]
    BadPageCount(usize),
    /// `/sys/devices/system/cpu/online` cannot be read.
    #[error("cannot read the online CPU list: {0}")]
    Cpus(#[source] std::io::Error),
    /// Opening the software event that carries one CPU's samples failed.
    #[error("perf_event_open for CPU {cpu} failed: {source}")]
    Open {
        /// The CPU.
        cpu: u32,
        /// Why.
        source: std::io::Error,
    },
    /// Mapping one CPU's ring into memory failed.
    #[error("cannot mmap the perf ring of CPU {cpu}: {source}")]
    Mmap {
        /// The CPU.
        cpu: u32,
        /// Why.
        source: std::io::Error,
    },
    /// Storing one CPU's event fd in the perf event array failed.
    #[error("cannot store the perf event of CPU {cpu} in the map: {source}")]
    MapUpdate {
        /// The CPU.
        cpu: u32,
        /// Why.
        source: std::io::Error,
    },
    /// Creating the epoll instance, registering a ring or waiting failed.
    #[error("epoll on the perf buffer failed: {0}")]
    Epoll(#[source] std::io::Error),
    /// BPF_OBJ_GET_INFO_BY_FD on the map failed.
    #[error("cannot query the map: {0}")]
    MapInfo(#[source] std::io::Error),
    /// Keeping a duplicate of the map's fd (to clear its slots when dropped) failed.
    #[error("cannot duplicate the map fd: {0}")]
    DupMap(#[source] std::io::Error),
    /// The map given has another type (its number).
    #[error("the map is not a BPF_MAP_TYPE_PERF_EVENT_ARRAY (its type is {0})")]
    NotAPerfEventArray(u32),
    /// The array has fewer slots than an online CPU's number: its samples would be lost.
    #[error("the perf event array has {slots} slots but CPU {cpu} is online")]
    TooFewSlots {
        /// The array's `max_entries`.
        slots: u32,
        /// The first online CPU without a slot.
        cpu: u32,
    },
}

/// Checks that `map` is a perf event array with a slot for every CPU in `cpus`.
fn check_map(map: BorrowedFd<'_>, cpus: &[u32]) -> Result<(), PerfBufferError> {
    let info = crate::sys::bpf::map_info(map).map_err(PerfBufferError::MapInfo)?;
    if info.map_type != whistler_bpf::MapType::PERF_EVENT_ARRAY as u32 {
        return Err(PerfBufferError::NotAPerfEventArray(info.map_type));
    }
    match cpus.iter().find(|&&cpu| cpu >= info.max_entries) {
        Some(&cpu) => Err(PerfBufferError::TooFewSlots {
            slots: info.max_entries,
            cpu,
        }),
        None => Ok(()),
    }
}

/// What a perf ring delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerfRecord<'a> {
    /// The raw bytes of one `bpf_perf_event_output` call. The kernel pads them so that the
    /// 4-byte size plus the data is a multiple of 8: up to 7 trailing bytes may be padding.
    Sample {
        /// The CPU whose ring it came from.
        cpu: u32,
        /// The bytes the program sent, plus padding.
        data: &'a [u8],
    },
    /// The kernel dropped `count` samples on this CPU because the ring was full.
    Lost {
        /// The CPU.
        cpu: u32,
        /// How many samples were dropped since the last report.
        count: u64,
    },
}

/// One CPU's event and ring.
struct CpuRing {
    cpu: u32,
    ring: SharedMemory,
    data_size: u64,
    event: OwnedFd,
}

impl CpuRing {
    fn open(cpu: u32, pages: usize) -> Result<CpuRing, PerfBufferError> {
        let mut attr = PerfEventAttr::new(perf::PERF_TYPE_SOFTWARE, perf::PERF_COUNT_SW_BPF_OUTPUT);
        attr.sample_type = perf::PERF_SAMPLE_RAW;
        attr.sample_period_or_freq = 1;
        attr.wakeup = 1;
        let scope = PerfScope {
            pid: -1,
            cpu: cpu as i32,
        };
        let event = perf::perf_event_open(&attr, scope)
            .map_err(|source| PerfBufferError::Open { cpu, source })?;
        let page = page_size();
        let ring = SharedMemory::map(event.as_fd(), 0, page * (pages + 1), true)
            .map_err(|source| PerfBufferError::Mmap { cpu, source })?;
        perf::perf_event_enable(event.as_fd())
            .map_err(|source| PerfBufferError::Open { cpu, source })?;
        Ok(CpuRing {
            cpu,
            ring,
            data_size: (page * pages) as u64,
            event,
        })
    }

    /// Hands every complete record to `f`, then publishes the new tail once.
    #[inline]
    fn consume(&self, scratch: &mut Vec<u8>, f: &mut impl FnMut(PerfRecord<'_>)) -> usize {
        let head = self.ring.load_acquire_u64(DATA_HEAD);
        let mut tail = self.ring.load_acquire_u64(DATA_TAIL);
        let mut samples = 0;
        while tail < head {
            // Records are 8-byte aligned and the data area a multiple of 8: headers never wrap.
            let at = page_size() + (tail % self.data_size) as usize;
            let header = self.ring.bytes(at, HEADER_SIZE);
            let kind = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]);
            let size = u16::from_ne_bytes([header[6], header[7]]) as usize;
            if size < HEADER_SIZE {
                break; // a corrupt header: stop rather than loop forever
            }
            let body = self.read(tail + HEADER_SIZE as u64, size - HEADER_SIZE, scratch);
            if let Some(record) = decode(self.cpu, kind, body) {
                samples += usize::from(matches!(record, PerfRecord::Sample { .. }));
                f(record);
            }
            tail += size as u64;
        }
        self.ring.store_release_u64(DATA_TAIL, tail);
        samples
    }

    /// `len` bytes at ring position `pos`: a direct slice, or a copy when they wrap.
    fn read<'s>(&'s self, pos: u64, len: usize, scratch: &'s mut Vec<u8>) -> &'s [u8] {
        let data = page_size();
        let start = (pos % self.data_size) as usize;
        let first = len.min(self.data_size as usize - start);
        if first == len {
            return self.ring.bytes(data + start, len);
        }
        scratch.clear();
        scratch.extend_from_slice(self.ring.bytes(data + start, first));
        scratch.extend_from_slice(self.ring.bytes(data, len - first));
        scratch
    }
}

const PERF_RECORD_LOST_BODY: usize = 16;

fn decode(cpu: u32, kind: u32, body: &[u8]) -> Option<PerfRecord<'_>> {
    match kind {
        perf::PERF_RECORD_SAMPLE if body.len() >= 4 => {
            let raw = u32::from_ne_bytes(body[0..4].try_into().expect("4 bytes")) as usize;
            let data = body.get(4..4 + raw).unwrap_or(&body[4..]);
            Some(PerfRecord::Sample { cpu, data })
        }
        perf::PERF_RECORD_LOST if body.len() >= PERF_RECORD_LOST_BODY => {
            let count = u64::from_ne_bytes(body[8..16].try_into().expect("8 bytes"));
            Some(PerfRecord::Lost { cpu, count })
        }
        _ => None,
    }
}

/// The online CPUs, from `/sys/devices/system/cpu/online`.
pub fn online_cpus() -> std::io::Result<Vec<u32>> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online")?;
    crate::cpus::parse_cpu_list(&text)
}

/// Per-CPU perf rings bound to a perf event array map, without a callback:
/// [`PerfReader::consume`] takes the record handler as a generic closure. Dropping it empties
/// the map slots it filled.
pub struct PerfReader {
    /// A duplicate of the map's fd, to empty our slots again on drop.
    map: OwnedFd,
    rings: Vec<CpuRing>,
    epoll: OwnedFd,
    scratch: Vec<u8>,
    lost: u64,
}

impl PerfReader {
    /// Opens one BPF output event per online CPU with `pages_per_cpu` data pages (a power of two),
    /// stores each in `map` at its CPU's index, and watches them all with one epoll.
    pub fn new(map: BorrowedFd<'_>, pages_per_cpu: usize) -> Result<PerfReader, PerfBufferError> {
        if !pages_per_cpu.is_power_of_two() {
            return Err(PerfBufferError::BadPageCount(pages_per_cpu));
        }
        let cpus = online_cpus().map_err(PerfBufferError::Cpus)?;
        check_map(map, &cpus)?;
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC).map_err(epoll_error)?;
        let mut reader = PerfReader {
            map: map.try_clone_to_owned().map_err(PerfBufferError::DupMap)?,
            rings: Vec::new(),
            epoll,
            scratch: Vec::new(),
            lost: 0,
        };
        for cpu in cpus {
            let ring = CpuRing::open(cpu, pages_per_cpu)?;
            let data = epoll::EventData::new_u64(u64::from(cpu));
            epoll::add(&reader.epoll, &ring.event, data, epoll::EventFlags::IN)
                .map_err(epoll_error)?;
            // Pushed before the map update so that drop empties the slot on a later failure.
            reader.rings.push(ring);
            store_event_fd(map, cpu, reader.rings[reader.rings.len() - 1].event.as_fd())?;
        }
        Ok(reader)
    }

    /// Consumes every ring without waiting; returns the number of samples handed over.
    #[inline]
    pub fn consume(&mut self, mut f: impl FnMut(PerfRecord<'_>)) -> usize {
        let lost = &mut self.lost;
        let mut counting = |record: PerfRecord<'_>| {
            if let PerfRecord::Lost { count, .. } = record {
                *lost += count;
            }
            f(record);
        };
        self.rings
            .iter()
            .map(|ring| ring.consume(&mut self.scratch, &mut counting))
            .sum()
    }

    /// Waits up to `timeout` (`None`: forever) for a sample on any CPU, then consumes all rings.
    pub fn poll(
        &mut self,
        timeout: Option<Duration>,
        f: impl FnMut(PerfRecord<'_>),
    ) -> Result<usize, PerfBufferError> {
        let timeout = timeout.map(|t| rustix::event::Timespec {
            tv_sec: t.as_secs() as i64,
            tv_nsec: i64::from(t.subsec_nanos()),
        });
        let mut events = Vec::with_capacity(self.rings.len().max(1));
        let spare = rustix::buffer::spare_capacity(&mut events);
        match epoll::wait(&self.epoll, spare, timeout.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(self.consume(f)),
            Err(e) => Err(epoll_error(e)),
        }
    }

    /// Samples the kernel reported lost so far, summed over all CPUs.
    pub fn lost_samples(&self) -> u64 {
        self.lost
    }

    /// The CPUs with a ring.
    pub fn cpus(&self) -> Vec<u32> {
        self.rings.iter().map(|r| r.cpu).collect()
    }
}

impl Drop for PerfReader {
    /// Empties the map slots we filled, so the events and their rings are freed now rather than
    /// when the map closes.
    fn drop(&mut self) {
        for ring in &self.rings {
            let _ = crate::sys::bpf::map_delete_elem(self.map.as_fd(), &ring.cpu.to_ne_bytes());
        }
    }
}

impl AsFd for PerfReader {
    /// The epoll fd: readable when any CPU's ring has data.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

impl std::fmt::Debug for PerfReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerfReader")
            .field("cpus", &self.cpus())
            .field("lost", &self.lost)
            .finish_non_exhaustive()
    }
}

/// Per-CPU perf rings bound to a perf event array map, with a callback for their records.
#[doc(alias = "BPF_MAP_TYPE_PERF_EVENT_ARRAY")]
#[doc(alias = "perf_buffer")]
pub struct PerfBuffer<'a> {
    reader: PerfReader,
    callback: Box<dyn FnMut(PerfRecord<'_>) + 'a>,
}

impl<'a> PerfBuffer<'a> {
    /// [`PerfReader::new`] with `callback` for every record.
    pub fn new(
        map: BorrowedFd<'_>,
        pages_per_cpu: usize,
        callback: impl FnMut(PerfRecord<'_>) + 'a,
    ) -> Result<PerfBuffer<'a>, PerfBufferError> {
        Ok(PerfBuffer {
            reader: PerfReader::new(map, pages_per_cpu)?,
            callback: Box::new(callback),
        })
    }

    /// Consumes every ring without waiting; returns the number of samples handed over.
    pub fn consume(&mut self) -> usize {
        self.reader.consume(&mut self.callback)
    }

    /// Waits up to `timeout` (`None`: forever) for a sample on any CPU, then consumes all rings.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<usize, PerfBufferError> {
        self.reader.poll(timeout, &mut self.callback)
    }

    /// Samples the kernel reported lost so far, summed over all CPUs.
    pub fn lost_samples(&self) -> u64 {
        self.reader.lost_samples()
    }

    /// The CPUs with a ring.
    pub fn cpus(&self) -> Vec<u32> {
        self.reader.cpus()
    }
}

impl AsFd for PerfBuffer<'_> {
    /// The epoll fd: readable when any CPU's ring has data.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }
}

impl std::fmt::Debug for PerfBuffer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerfBuffer")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

fn epoll_error(e: rustix::io::Errno) -> PerfBufferError {
    PerfBufferError::Epoll(e.into())
}

fn store_event_fd(
    map: BorrowedFd<'_>,
    cpu: u32,
    event: BorrowedFd<'_>,
) -> Result<(), PerfBufferError> {
    let value = event.as_raw_fd() as u32;
    crate::sys::bpf::map_update_elem(map, &cpu.to_ne_bytes(), &value.to_ne_bytes(), 0)
        .map_err(|source| PerfBufferError::MapUpdate { cpu, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_decode() {
        let mut sample = 5u32.to_ne_bytes().to_vec();
        sample.extend_from_slice(b"hello\0\0\0");
        assert_eq!(
            decode(1, perf::PERF_RECORD_SAMPLE, &sample),
            Some(PerfRecord::Sample {
                cpu: 1,
                data: b"hello"
            })
        );
        let mut lost = 0u64.to_ne_bytes().to_vec();
        lost.extend_from_slice(&3u64.to_ne_bytes());
        assert_eq!(
            decode(0, perf::PERF_RECORD_LOST, &lost),
            Some(PerfRecord::Lost { cpu: 0, count: 3 })
        );
        assert_eq!(decode(0, 99, &lost), None);
    }
}
