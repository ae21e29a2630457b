//! tracefs: where it is (mounting it when absent), tracepoint ids, and dynamic probes created
//! through `kprobe_events`/`uprobe_events` for kernels without the kprobe/uprobe PMUs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::AttachError;
use crate::sys::perf;

const TRACEFS: &str = "/sys/kernel/tracing";
const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";
/// The tracefs group our dynamic probes live in.
const GROUP: &str = "whistler";

/// The tracefs root, mounting tracefs at /sys/kernel/tracing if neither usual place has it.
pub fn root() -> Result<PathBuf, AttachError> {
    for dir in [TRACEFS, DEBUGFS_TRACING] {
        if Path::new(dir).join("events").is_dir() {
            return Ok(PathBuf::from(dir));
        }
    }
    perf::mount_tracefs(Path::new(TRACEFS)).map_err(AttachError::NoTracefs)?;
    Ok(PathBuf::from(TRACEFS))
}

/// Whether tracefs has the dynamic probe file `events_file` (`kprobe_events`, `uprobe_events`).
pub(super) fn has_events_file(events_file: &str) -> bool {
    root().is_ok_and(|root| root.join(events_file).exists())
}

/// The perf tracepoint id of `category/name` (`events/<category>/<name>/id`). Lisp spellings
/// with `-` for `_` (`sched/sched-process-exec`) are found too.
pub fn tracepoint_id(category: &str, name: &str) -> Result<u64, AttachError> {
    event_file(category, name, "id")?
        .trim()
        .parse()
        .map_err(|_| no_such_tracepoint(category, name))
}

/// One file of a tracepoint's directory under `events/`.
fn event_file(category: &str, name: &str, file: &str) -> Result<String, AttachError> {
    let valid = |s: &str| !s.is_empty() && !s.contains(['/', '.']) && s != "..";
    if !valid(category) || !valid(name) {
        return Err(no_such_tracepoint(category, name));
    }
    let events = root()?.join("events");
    let read = |c: &str, n: &str| std::fs::read_to_string(events.join(c).join(n).join(file));
    read(category, name)
        .or_else(|_| read(&category.replace('-', "_"), &name.replace('-', "_")))
        .map_err(|_| no_such_tracepoint(category, name))
}

fn no_such_tracepoint(category: &str, name: &str) -> AttachError {
    AttachError::NoSuchTracepoint {
        category: category.to_owned(),
        name: name.to_owned(),
    }
}

/// A probe we added to `kprobe_events` or `uprobe_events`; removed when dropped (after every perf
/// event using it has closed, or the kernel answers EBUSY).
#[derive(Debug)]
pub struct DynamicProbe {
    events_file: PathBuf,
    event: String,
    removed: bool,
}

static NEXT_PROBE: AtomicU32 = AtomicU32::new(0);

impl DynamicProbe {
    /// Adds `p:whistler/NAME SPEC` (or `r:` for a return probe) to `kprobe_events` or
    /// `uprobe_events`; `spec` is e.g. `do_sys_openat2` or `/bin/bash:0x4f20`.
    pub fn create(
        events_file: &str,
        retprobe: bool,
        spec: &str,
    ) -> Result<DynamicProbe, AttachError> {
        let events_file = root()?.join(events_file);
        let kind = if retprobe { 'r' } else { 'p' };
        let event = format!(
            "{}_{}_{}",
            if events_file.ends_with("kprobe_events") {
                "kp"
            } else {
                "up"
            },
            std::process::id(),
            NEXT_PROBE.fetch_add(1, Ordering::Relaxed)
        );
        remove_stale_probes(&events_file);
        append(&events_file, &format!("{kind}:{GROUP}/{event} {spec}\n"))?;
        Ok(DynamicProbe {
            events_file,
            event,
            removed: false,
        })
    }

    /// The perf tracepoint id of the probe.
    pub fn id(&self) -> Result<u64, AttachError> {
        tracepoint_id(GROUP, &self.event)
    }

    /// Removes the probe, reporting failure.
    pub fn remove(mut self) -> Result<(), AttachError> {
        self.removed = true;
        self.delete()
    }

    /// The kernel answers EBUSY while a perf event still uses the probe, which a child forked by
    /// another thread can hold for a moment (until its exec): retry for up to 200 ms.
    fn delete(&self) -> Result<(), AttachError> {
        let line = format!("-:{GROUP}/{}\n", self.event);
        let mut tries = 40;
        loop {
            match append(&self.events_file, &line) {
                Err(AttachError::Tracefs { source, .. })
                    if source.raw_os_error() == Some(libc::EBUSY) && tries > 0 =>
                {
                    tries -= 1;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => return other,
            }
        }
    }
}

impl Drop for DynamicProbe {
    fn drop(&mut self) {
        if !self.removed {
            let _ = self.delete();
        }
    }
}

/// Deletes our probes left behind by processes that no longer exist (killed before their links
/// dropped): their names carry the pid (`whistler/kp_<pid>_<n>`).
fn remove_stale_probes(events_file: &Path) {
    let Ok(listed) = std::fs::read_to_string(events_file) else {
        return;
    };
    for event in stale_probes(&listed, |pid| {
        Path::new("/proc").join(pid.to_string()).exists()
    }) {
        let _ = append(events_file, &format!("-:{GROUP}/{event}\n"));
    }
}

/// The names of our probes in a `kprobe_events`/`uprobe_events` listing whose pid is not alive.
fn stale_probes(listed: &str, alive: impl Fn(u32) -> bool) -> Vec<String> {
    let prefix = format!(":{GROUP}/");
    listed
        .lines()
        .filter_map(|line| {
            let name = line.split_whitespace().next()?.split_once(&prefix)?.1;
            let pid: u32 = name.split('_').nth(1)?.parse().ok()?;
            (!alive(pid)).then(|| name.to_owned())
        })
        .collect()
}

fn append(path: &Path, line: &str) -> Result<(), AttachError> {
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
        file.write_all(line.as_bytes())
    };
    write().map_err(|source| AttachError::Tracefs {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_of_dead_processes_are_found() {
        let listed = "p:whistler/kp_100_0 do_sys_openat2\n\
                      r:whistler/kp_200_3 do_sys_openat2\n\
                      p:kprobes/other_300 vfs_read\n\
                      p:whistler/up_300_1 /bin/bash:0x4f20\n";
        let alive = |pid| pid == 200;
        assert_eq!(stale_probes(listed, alive), vec!["kp_100_0", "up_300_1"]);
    }

    #[test]
    fn tracepoint_names_cannot_escape_tracefs() {
        assert!(matches!(
            tracepoint_id("..", "id"),
            Err(AttachError::NoSuchTracepoint { .. })
        ));
        assert!(matches!(
            tracepoint_id("sched/../x", "y"),
            Err(AttachError::NoSuchTracepoint { .. })
        ));
    }
}
