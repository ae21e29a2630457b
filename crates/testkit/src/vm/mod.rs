//! Boots Debian's kernel (which has kprobes, fentry trampolines and BPF LSM, unlike this
//! machine's) under qemu with a busybox initramfs holding statically linked copies of our
//! binaries and a shell `/init` written by the test: the prologue mounts what BPF needs, the
//! test's script runs its checks and sets `code`, the epilogue reports it and powers off.
//!
//! The kernel download is cached in [`cache_dir`] and shared by every VM test; each VM gets its
//! own initramfs, named by a label. Guest binaries are built in `<target>/vm-guest`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::skip;

const KERNEL_PACKAGE: &str = "linux-image-amd64";
const QEMU: &str = "qemu-system-x86_64";
/// Mounts what BPF needs; the test's own script follows it and must set `code`.
const INIT_PROLOGUE: &str = include_str!("init-prologue.sh");
/// Reports `code` on the console and through qemu's isa-debug-exit port, then powers off.
const INIT_EPILOGUE: &str = include_str!("init-epilogue.sh");
/// The guest prints this line with the script's verdict (`$code`).
pub const EXIT_MARKER: &str = "WHISTLER-VM-EXIT ";
const BUSYBOX_TOOLS: &[&str] = &[
    "sh", "mount", "echo", "printf", "dd", "poweroff", "cat", "uname", "ls", "sleep", "kill",
    "grep", "true", "wc", "seq", "head",
];
const GUEST_TARGET: &str = "x86_64-unknown-linux-gnu";

pub type Result<T> = std::result::Result<T, String>;

/// The qemu binary, or `None` after [`skip`]ping `test` when qemu is not installed.
pub fn qemu_or_skip(test: &str) -> Option<PathBuf> {
    let found = qemu();
    if found.is_none() {
        skip(
            test,
            "needs qemu-system-x86_64 (apt-get install qemu-system-x86)",
        );
    }
    found
}

/// The qemu binary, if installed.
pub fn qemu() -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(QEMU))
        .find(|p| p.exists())
}

/// The root of the cargo target directory the running test binary was built in.
fn target_root() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // <root>/debug/deps/<test>-<hash>
    exe.ancestors().nth(3).expect("target dir").to_owned()
}

/// `/var/cache/whistler-vm` when writable, else `<target>/vm`.
pub fn cache_dir() -> PathBuf {
    let system = PathBuf::from("/var/cache/whistler-vm");
    if std::fs::create_dir_all(&system).is_ok() && is_writable(&system) {
        return system;
    }
    let local = target_root().join("vm");
    std::fs::create_dir_all(&local).expect("create the VM cache dir");
    local
}

fn is_writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(probe);
    ok
}

fn run(command: &mut Command) -> Result<String> {
    let shown = format!("{command:?}");
    let out = command
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{shown} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Debian's kernel image (`vmlinuz`), downloaded with `apt-get download` and unpacked once.
pub fn kernel_image(cache: &Path) -> Result<PathBuf> {
    if let Some(found) = find_vmlinuz(cache) {
        return Ok(found);
    }
    let meta = download(cache, KERNEL_PACKAGE)?;
    let depends = run(Command::new("dpkg-deb").arg("-f").arg(&meta).arg("Depends"))?;
    let image = depends
        .split([',', '|'])
        .map(|d| d.split_whitespace().next().unwrap_or(""))
        .find(|name| name.starts_with("linux-image-"))
        .ok_or_else(|| format!("{KERNEL_PACKAGE} depends on no linux-image: {depends}"))?;
    let deb = download(cache, image)?;
    let script = format!(
        "dpkg-deb --fsys-tarfile '{}' | tar -x -C '{}' ./boot/",
        deb.display(),
        cache.display()
    );
    run(Command::new("sh").args(["-c", &script]))?;
    find_vmlinuz(cache).ok_or_else(|| format!("no boot/vmlinuz-* in {}", deb.display()))
}

fn find_vmlinuz(cache: &Path) -> Option<PathBuf> {
    let boot = std::fs::read_dir(cache.join("boot")).ok()?;
    boot.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
    })
}

/// `apt-get download PACKAGE` into `cache` (running `apt-get update` once if the package lists
/// are missing); returns the .deb.
fn download(cache: &Path, package: &str) -> Result<PathBuf> {
    let fetch = || {
        run(Command::new("apt-get")
            .args(["download", "-q", package])
            .current_dir(cache))
    };
    if fetch().is_err() {
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        fetch()?;
    }
    let prefix = format!("{package}_");
    std::fs::read_dir(cache)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
                && p.extension().is_some_and(|x| x == "deb")
        })
        .ok_or_else(|| {
            format!(
                "apt-get download {package} left no .deb in {}",
                cache.display()
            )
        })
}

/// What to build for the guest: an example, a binary or an integration test of a package.
pub enum Artifact<'a> {
    Example {
        package: &'a str,
        name: &'a str,
    },
    Bin {
        package: &'a str,
        name: &'a str,
    },
    /// Built with `cargo test --no-run`; the guest runs the test binary itself.
    Test {
        package: &'a str,
        name: &'a str,
    },
}

/// Builds `artifact` statically linked (`-C target-feature=+crt-static`, which `--target` keeps
/// away from proc macros and build scripts) in `<target>/vm-guest`, and returns the executable.
pub fn build_static(artifact: Artifact) -> Result<PathBuf> {
    let (subcommand, kind, package, name): (&[&str], _, _, _) = match artifact {
        Artifact::Example { package, name } => (&["build"], "--example", package, name),
        Artifact::Bin { package, name } => (&["build"], "--bin", package, name),
        Artifact::Test { package, name } => (&["test", "--no-run"], "--test", package, name),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = run(Command::new(cargo)
        .args(subcommand)
        .args(["-p", package, kind, name, "--target", GUEST_TARGET])
        .args(["--message-format", "json-render-diagnostics"])
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env("CARGO_TARGET_DIR", target_root().join("vm-guest"))
        .current_dir(env!("CARGO_MANIFEST_DIR")))?;
    executable(&out, name).ok_or_else(|| format!("cargo built no executable for {kind} {name}"))
}

/// The executable of target `name` in cargo's JSON messages.
fn executable(cargo_json: &str, name: &str) -> Option<PathBuf> {
    let needle = format!("\"name\":\"{name}\"");
    cargo_json
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\"") && l.contains(&needle))
        .find_map(|l| json_string_field(l, "executable"))
        .map(PathBuf::from)
}

/// The value of `"field":"..."` in one line of cargo's JSON (paths need no unescaping here).
fn json_string_field(line: &str, field: &str) -> Option<String> {
    let start = line.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let end = line[start..].find('"')?;
    Some(line[start..start + end].to_owned())
}

/// A file to put into the initramfs at `/<name>`.
pub struct GuestFile<'a> {
    pub name: &'a str,
    pub source: &'a Path,
    pub executable: bool,
}

/// Packs busybox, an `/init` made of the prologue, `script` and the epilogue, and `files` into
/// `<cache>/<label>.cpio.gz` (built in `<cache>/<label>-root`, so VMs with different labels can
/// be prepared at the same time).
pub fn initramfs(cache: &Path, label: &str, script: &str, files: &[GuestFile]) -> Result<PathBuf> {
    let root = cache.join(format!("{label}-root"));
    let _ = std::fs::remove_dir_all(&root);
    for dir in ["bin", "proc", "sys", "dev", "tmp"] {
        std::fs::create_dir_all(root.join(dir)).map_err(|e| e.to_string())?;
    }
    install_busybox(&root)?;
    let init = format!("{INIT_PROLOGUE}\n{script}\n{INIT_EPILOGUE}");
    std::fs::write(root.join("init"), init).map_err(|e| e.to_string())?;
    set_mode(&root.join("init"), 0o755)?;
    for file in files {
        let to = root.join(file.name);
        std::fs::copy(file.source, &to)
            .map_err(|e| format!("copy {}: {e}", file.source.display()))?;
        set_mode(&to, if file.executable { 0o755 } else { 0o644 })?;
    }
    let archive = cache.join(format!("{label}.cpio.gz"));
    let script = format!(
        "cd '{}' && find . | cpio -o -H newc --quiet | gzip -1 > '{}'",
        root.display(),
        archive.display()
    );
    run(Command::new("sh").args(["-c", &script]))?;
    Ok(archive)
}

fn install_busybox(root: &Path) -> Result<()> {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .find(|p| Path::new(p).exists())
        .ok_or("busybox is not installed (apt-get install busybox-static)")?;
    std::fs::copy(busybox, root.join("bin/busybox")).map_err(|e| e.to_string())?;
    set_mode(&root.join("bin/busybox"), 0o755)?;
    for tool in BUSYBOX_TOOLS {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(tool))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())
}

/// What a VM run printed and how qemu ended.
pub struct VmRun {
    pub console: String,
    /// qemu's exit code: `(N << 1) | 1` when the guest wrote N to the debug-exit port.
    pub qemu_status: Option<i32>,
    pub timed_out: bool,
}

impl VmRun {
    /// The guest script's verdict, from the console marker.
    pub fn guest_exit_code(&self) -> Option<i32> {
        let line = self
            .console
            .lines()
            .find_map(|l| l.trim().strip_prefix(EXIT_MARKER))?;
        line.trim().parse().ok()
    }

    /// Why the run failed, if it did: a timeout, no verdict, or a non-zero one.
    pub fn problem(&self, timeout: Duration) -> Option<String> {
        match (self.timed_out, self.guest_exit_code(), self.qemu_status) {
            (true, _, _) => Some(format!("the VM did not finish within {timeout:?}")),
            (_, None, status) => Some(format!("the guest never reported (qemu exit {status:?})")),
            (_, Some(0), Some(1)) => None,
            (_, Some(code), status) => {
                Some(format!("the guest script says {code} (qemu {status:?})"))
            }
        }
    }
}

/// Boots the kernel with an initramfs labelled `label` holding `script` and `files`, and panics
/// with the console unless the script's verdict is 0 within `timeout`; returns the console (also
/// printed to stderr).
pub fn boot_and_check(
    qemu: &Path,
    label: &str,
    script: &str,
    files: &[GuestFile],
    timeout: Duration,
) -> String {
    let cache = cache_dir();
    let kernel = kernel_image(&cache).unwrap_or_else(|e| panic!("kernel: {e}"));
    let initrd =
        initramfs(&cache, label, script, files).unwrap_or_else(|e| panic!("initramfs: {e}"));
    let run = boot(qemu, &kernel, &initrd, timeout).unwrap_or_else(|e| panic!("{e}"));
    if let Some(problem) = run.problem(timeout) {
        panic!("{problem}\n--- VM console ---\n{}", run.console);
    }
    eprintln!("{}", run.console);
    run.console
}

/// Boots `kernel` with `initrd` under TCG (KVM here is paravirtual and hangs stock kernels);
/// qemu is killed after `timeout`.
pub fn boot(qemu: &Path, kernel: &Path, initrd: &Path, timeout: Duration) -> Result<VmRun> {
    let console = std::env::temp_dir().join(format!(
        "whistler-vm-{}-{}.log",
        std::process::id(),
        initrd.file_stem().unwrap_or_default().to_string_lossy()
    ));
    let log = std::fs::File::create(&console).map_err(|e| e.to_string())?;
    let mut child = Command::new(qemu)
        .args(["-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "1024"])
        .args([
            "-nographic",
            "-no-reboot",
            "-monitor",
            "none",
            "-serial",
            "stdio",
        ])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args([
            "-append",
            "console=ttyS0 quiet panic=-1 lsm=lockdown,capability,landlock,yama,bpf",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", qemu.display()))?;
    let start = Instant::now();
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break (status.code(), false);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = std::fs::read_to_string(&console).unwrap_or_default();
    let _ = std::fs::remove_file(&console);
    Ok(VmRun {
        console: text,
        qemu_status: status,
        timed_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_json() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"exec_trace"},"executable":"/t/x86_64-unknown-linux-gnu/debug/examples/exec_trace"}"#;
        assert_eq!(
            json_string_field(line, "executable").as_deref(),
            Some("/t/x86_64-unknown-linux-gnu/debug/examples/exec_trace")
        );
    }

    #[test]
    fn finds_the_named_executable() {
        let out = [
            r#"{"reason":"compiler-artifact","target":{"name":"whistler_loader"},"executable":null}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"vm_kprobe"},"executable":"/t/debug/deps/vm_kprobe-1"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(
            executable(&out, "vm_kprobe"),
            Some(PathBuf::from("/t/debug/deps/vm_kprobe-1"))
        );
        assert_eq!(executable(&out, "whistler_loader"), None);
    }
}
