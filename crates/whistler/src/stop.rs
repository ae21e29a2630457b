//! Ctrl-C as a flag, so that sessions end by returning (and dropping) instead of being killed:
//! legacy attachments (netlink XDP/tc, cgroup prog_attach) would otherwise outlive the process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Set once SIGINT or SIGTERM arrives.
#[derive(Clone, Debug)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps up to `duration`, waking early when the flag is set; returns whether it is set.
    pub fn sleep(&self, duration: Duration) -> bool {
        let end = Instant::now() + duration;
        while !self.is_set() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
        self.is_set()
    }
}

/// Installs (once per process) a SIGINT/SIGTERM handler that sets the returned flag.
pub fn stop_on_ctrl_c() -> crate::Result<StopFlag> {
    static FLAG: OnceLock<Result<Arc<AtomicBool>, String>> = OnceLock::new();
    let flag = FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, flag.clone()).map_err(|e| e.to_string())?;
        }
        Ok(flag)
    });
    match flag {
        Ok(flag) => Ok(StopFlag(flag.clone())),
        Err(e) => Err(crate::Error::Signal(e.clone())),
    }
}
