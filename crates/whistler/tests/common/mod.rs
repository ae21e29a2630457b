//! Shared by the session tests: mounts, unique names, and listings of what is loaded in the
//! kernel (programs, maps, links) to prove that nothing stays behind.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use whistler::loader::sys::bpf;
use whistler_testkit::unique;

fn run_ok(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Mounts the bpffs at /sys/fs/bpf if it is not there, and returns a fresh directory in it,
/// removed (with everything pinned in it) when the guard drops.
pub fn bpffs_dir(tag: &str) -> ScratchDir {
    whistler_testkit::mount_bpffs();
    let dir = PathBuf::from("/sys/fs/bpf").join(format!("whistler_sessions_{tag}_{}", unique()));
    std::fs::create_dir_all(&dir).unwrap();
    ScratchDir(dir)
}

/// Mounts tracefs at /sys/kernel/tracing when it is absent (tracepoint attach reads ids there).
pub fn tracefs() {
    if Path::new("/sys/kernel/tracing/events").exists() {
        return;
    }
    assert!(
        run_ok(
            "mount",
            &["-t", "tracefs", "tracefs", "/sys/kernel/tracing"]
        ),
        "cannot mount tracefs at /sys/kernel/tracing"
    );
}

/// A directory removed on drop (a bpffs dir: unlinking the pins releases the maps).
pub struct ScratchDir(pub PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A cgroup v2 directory of the test's own, removed on drop (after its processes are gone).
pub struct TestCgroup(pub PathBuf);

impl TestCgroup {
    pub fn new(tag: &str) -> TestCgroup {
        let root = whistler::cgroup2_root().expect("cgroup v2 is mounted");
        let dir = root.join(format!("whistler_sessions_{tag}_{}", unique()));
        std::fs::create_dir(&dir).unwrap();
        TestCgroup(dir)
    }

    /// Moves process `pid` into this cgroup.
    pub fn add(&self, pid: u32) {
        std::fs::write(self.0.join("cgroup.procs"), pid.to_string()).unwrap();
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // A process that just exited may still be listed for a moment: retry briefly.
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::remove_dir(&self.0).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// What the kernel holds: (id, name) of every program and map, and (id, program id) of every link.
#[derive(Debug, Default)]
pub struct KernelObjects {
    pub programs: Vec<(u32, String)>,
    pub maps: Vec<(u32, String)>,
    pub links: Vec<(u32, u32)>,
}

fn c_name(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

fn ids(next: fn(u32) -> std::io::Result<Option<u32>>) -> Vec<u32> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Ok(Some(id)) = next(at) {
        out.push(id);
        at = id;
    }
    out
}

/// Lists the kernel's programs, maps and links (objects that go away meanwhile are skipped).
pub fn kernel_objects() -> KernelObjects {
    let mut all = KernelObjects::default();
    for id in ids(bpf::prog_get_next_id) {
        let Ok(fd) = bpf::prog_get_fd_by_id(id) else {
            continue;
        };
        if let Ok(info) = bpf::prog_info(std::os::fd::AsFd::as_fd(&fd)) {
            all.programs.push((id, c_name(&info.name)));
        }
    }
    for id in ids(bpf::map_get_next_id) {
        let Ok(fd) = bpf::map_get_fd_by_id(id) else {
            continue;
        };
        if let Ok(info) = bpf::map_info(std::os::fd::AsFd::as_fd(&fd)) {
            all.maps.push((id, c_name(&info.name)));
        }
    }
    for id in ids(bpf::link_get_next_id) {
        let Ok(fd) = bpf::link_get_fd_by_id(id) else {
            continue;
        };
        if let Ok(info) = bpf::link_info(std::os::fd::AsFd::as_fd(&fd)) {
            all.links.push((id, info.prog_id));
        }
    }
    all
}

/// The highest program, map and link ids now: objects created later have greater ids.
#[derive(Clone, Copy, Debug)]
pub struct IdMark {
    program: u32,
    map: u32,
    link: u32,
}

pub fn id_mark() -> IdMark {
    let last = |next| ids(next).last().copied().unwrap_or(0);
    IdMark {
        program: last(bpf::prog_get_next_id),
        map: last(bpf::map_get_next_id),
        link: last(bpf::link_get_next_id),
    }
}

/// Objects created after `mark` whose names are in `programs`/`maps`, and links to such
/// programs: what a session left behind.
pub fn leftovers(mark: IdMark, programs: &[&str], maps: &[&str]) -> Vec<String> {
    let all = kernel_objects();
    let ours: BTreeSet<u32> = all
        .programs
        .iter()
        .filter(|(id, name)| *id > mark.program && programs.contains(&name.as_str()))
        .map(|(id, _)| *id)
        .collect();
    let mut found: Vec<String> = ours.iter().map(|id| format!("program id {id}")).collect();
    found.extend(
        all.maps
            .iter()
            .filter(|(id, name)| *id > mark.map && maps.contains(&name.as_str()))
            .map(|(id, name)| format!("map {name} (id {id})")),
    );
    found.extend(
        all.links
            .iter()
            .filter(|(id, prog)| *id > mark.link && ours.contains(prog))
            .map(|(id, prog)| format!("link id {id} to program {prog}")),
    );
    found
}

/// Waits (the kernel frees objects asynchronously after their last fd closes) until nothing of
/// `programs`/`maps` created after `mark` is left, or fails listing what stayed.
pub fn assert_nothing_left(mark: IdMark, programs: &[&str], maps: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = leftovers(mark, programs, maps);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!("still loaded after the session ended: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
