//! Ring-buffer consumers for user code: records are copied out of the ring into a queue while
//! polling, then handed to the Lisp callback (through the decoder, when there is one) with the
//! interpreter free to run it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::os::fd::AsFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use whistler_lisp::Value;
use whistler_loader::ringbuf::RingBuffer;
use whistler_loader::Map;

/// The longest single wait, so that Ctrl-C is noticed quickly whichever thread gets the signal.
const WAIT_SLICE: Duration = Duration::from_millis(50);

pub struct RingConsumer {
    ring: RefCell<Option<RingBuffer<'static>>>,
    queue: Rc<RefCell<VecDeque<Vec<u8>>>>,
    pub decoder: Option<Value>,
    pub callback: Value,
}

/// Why a poll stopped early.
pub enum PollStop {
    Interrupted,
    Failed(String),
}

impl RingConsumer {
    pub fn open(
        map: &Map,
        decoder: Option<Value>,
        callback: Value,
    ) -> Result<RingConsumer, String> {
        let queue: Rc<RefCell<VecDeque<Vec<u8>>>> = Rc::default();
        let sink = queue.clone();
        let ring = RingBuffer::new(map.as_fd(), map.info().max_entries, move |r: &[u8]| {
            sink.borrow_mut().push_back(r.to_vec());
        })
        .map_err(|e| format!("cannot open a ring consumer on map `{}`: {e}", map.name()))?;
        Ok(RingConsumer {
            ring: RefCell::new(Some(ring)),
            queue,
            decoder,
            callback,
        })
    }

    /// Waits up to `timeout` for records (polling in short slices, stopping when `interrupt`
    /// is set), leaving them in the queue.
    pub fn wait(&self, timeout: Duration, interrupt: &AtomicBool) -> Result<(), PollStop> {
        let deadline = Instant::now() + timeout;
        loop {
            if interrupt.swap(false, Ordering::Relaxed) {
                return Err(PollStop::Interrupted);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let got = {
                let mut ring = self.ring.borrow_mut();
                let ring = ring
                    .as_mut()
                    .ok_or_else(|| PollStop::Failed("the ring consumer is closed".into()))?;
                ring.poll(Some(left.min(WAIT_SLICE)))
                    .map_err(|e| PollStop::Failed(format!("ring-poll: {e}")))?
            };
            if got > 0 || left.is_zero() {
                return Ok(());
            }
        }
    }

    /// The next queued record.
    pub fn next_record(&self) -> Option<Vec<u8>> {
        self.queue.borrow_mut().pop_front()
    }

    /// Unmaps the ring; later polls fail.
    pub fn close(&self) {
        self.ring.borrow_mut().take();
        self.queue.borrow_mut().clear();
    }
}
