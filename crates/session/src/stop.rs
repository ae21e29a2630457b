//! Ctrl-C (SIGINT) and SIGTERM as flags, so that sessions end by returning (and closing)
//! instead of being killed: legacy attachments (netlink XDP/tc, cgroup prog_attach) would
//! otherwise outlive the process. The one place the workspace handles signals.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::SigId;
use std::io;
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

/// Installs (once per process) SIGINT/SIGTERM handlers that set the returned flag; the
/// signals no longer kill the process.
pub fn stop_on_ctrl_c() -> io::Result<StopFlag> {
    static FLAG: OnceLock<Result<Arc<AtomicBool>, String>> = OnceLock::new();
    let flag = FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let guard = raise_on_ctrl_c(flag.clone()).map_err(|e| e.to_string())?;
        // For the rest of the process.
        std::mem::forget(guard);
        Ok(flag)
    });
    match flag {
        Ok(flag) => Ok(StopFlag(flag.clone())),
        Err(e) => Err(io::Error::other(e.clone())),
    }
}

/// Sets `flag` each time SIGINT or SIGTERM arrives, until the guard is dropped (an
/// interpreter's interrupt flag, for one run). Afterwards the signals are ignored.
pub fn raise_on_ctrl_c(flag: Arc<AtomicBool>) -> io::Result<CtrlCGuard> {
    let mut ids = Vec::new();
    for signal in [SIGINT, SIGTERM] {
        match signal_hook::flag::register(signal, flag.clone()) {
            Ok(id) => ids.push(id),
            Err(e) => {
                drop(CtrlCGuard(ids));
                return Err(e);
            }
        }
    }
    Ok(CtrlCGuard(ids))
}

/// Keeps [`raise_on_ctrl_c`]'s handlers registered.
#[must_use = "the handlers are removed when the guard drops"]
pub struct CtrlCGuard(Vec<SigId>);

impl Drop for CtrlCGuard {
    fn drop(&mut self) {
        for id in self.0.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
