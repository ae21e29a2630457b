//! Shared test helpers: the kernel check (skip or fail per WHISTLER_REQUIRE_KERNEL), scratch
//! directories, running external tools, and a bpffs pin directory that cleans up after itself.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// True when `test` may load programs with bpftool: CAP_BPF
/// ([`whistler_testkit::kernel_available`]) and bpftool installed; otherwise it is skipped, or
/// fails under `WHISTLER_REQUIRE_KERNEL=1`.
pub fn kernel_available(test: &str) -> bool {
    whistler_testkit::kernel_available(test)
        && (tool_exists("bpftool") || whistler_testkit::skip(test, "needs bpftool"))
}

pub fn tool_exists(name: &str) -> bool {
    Command::new(name).arg("--version").output().is_ok()
}

/// A fresh scratch directory under the system temp dir, removed when dropped.
pub struct ScratchDir {
    path: PathBuf,
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

pub fn scratch_dir(tag: &str) -> ScratchDir {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let path =
        std::env::temp_dir().join(format!("whistler-object-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).unwrap();
    ScratchDir { path }
}

/// Runs a command; returns stdout, panicking with stderr on failure.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A directory in bpffs, removed (with every pin in it) when dropped.
pub struct PinDir {
    pub path: PathBuf,
}

impl PinDir {
    pub fn new(tag: &str) -> PinDir {
        whistler_testkit::mount_bpffs();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = PathBuf::from(format!(
            "/sys/fs/bpf/whistler-object-{}-{tag}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        PinDir { path }
    }

    pub fn join(&self, name: &str) -> String {
        self.path.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Loads every program of `object` with bpftool (libbpf strict mode), pinning programs in
/// `pins` and maps in `pins/maps`.
pub fn bpftool_loadall(object: &Path, pins: &PinDir) {
    let maps = pins.join("maps");
    run(
        "bpftool",
        &[
            "prog",
            "loadall",
            &object.to_string_lossy(),
            &pins.join(""),
            "pinmaps",
            &maps,
        ],
    );
}

/// Runs the pinned program with `data` as input and returns its return value.
pub fn bpftool_run(pins: &PinDir, prog: &str, data: &[u8], dir: &Path) -> u32 {
    let input = dir.join("data_in");
    std::fs::write(&input, data).unwrap();
    let out = run(
        "bpftool",
        &[
            "-j",
            "prog",
            "run",
            "pinned",
            &pins.join(prog),
            "data_in",
            &input.to_string_lossy(),
            "repeat",
            "1",
        ],
    );
    let key = "\"retval\":";
    let at = out
        .find(key)
        .unwrap_or_else(|| panic!("no retval in {out}"))
        + key.len();
    out[at..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The code section called `name`, panicking when the object has none.
pub fn code_section<'a>(
    object: &'a whistler_object::ParsedObject,
    name: &str,
) -> &'a whistler_object::CodeSection {
    object
        .code_sections
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no section {name}"))
}

/// Loads `object` with [`bpftool_loadall`] into a fresh pin directory named after `test`, or
/// returns `None` when `test` may not use the kernel ([`kernel_available`]).
pub fn load_pinned(test: &str, object: &Path) -> Option<PinDir> {
    if !kernel_available(test) {
        return None;
    }
    let pins = PinDir::new(test);
    bpftool_loadall(object, &pins);
    Some(pins)
}
