//! Cgroup programs (cgroup_skb, cgroup_sock, cgroup_sock_addr, sockops, cgroup_device,
//! cgroup_sysctl, cgroup_sockopt): a BPF link on a cgroup v2 directory, else BPF_PROG_ATTACH with
//! BPF_F_ALLOW_MULTI, undone with BPF_PROG_DETACH when the link drops.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::{fd_target, link_create, AttachError};
use crate::link::{Attachment, Link};

/// `CGROUP2_SUPER_MAGIC`: statfs(2)'s f_type on a cgroup v2 directory.
pub const CGROUP2_SUPER_MAGIC: u64 = 0x6367_7270;
const BPF_F_ALLOW_MULTI: u32 = 1 << 1;

pub(super) fn attach(
    prog: BorrowedFd<'_>,
    attach_type: u32,
    path: &Path,
) -> Result<Link, AttachError> {
    let cgroup = open_cgroup2(path)?;
    match link_create(prog, fd_target(cgroup.as_fd()), attach_type, 0) {
        Ok(link) => Ok(Link::new(Attachment::BpfLink(link))),
        Err(e) if link_unsupported(&e) => prog_attach(prog, attach_type, cgroup),
        Err(e) => Err(AttachError::syscall("BPF_LINK_CREATE (cgroup)", e)),
    }
}

/// Attaches with BPF_PROG_ATTACH (BPF_F_ALLOW_MULTI) even where cgroup links exist: the
/// attachment then shows in `bpftool cgroup show` as a plain program and can be ordered and
/// replaced like any legacy one. The returned link detaches it with BPF_PROG_DETACH when dropped
/// (a legacy attachment would otherwise outlive the process).
pub fn attach_cgroup_legacy(
    prog: BorrowedFd<'_>,
    attach_type: u32,
    path: &Path,
) -> Result<Link, AttachError> {
    prog_attach(prog, attach_type, open_cgroup2(path)?)
}

/// Kernels before 5.7 know no cgroup links.
fn link_unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::EOPNOTSUPP)
    )
}

fn prog_attach(
    prog: BorrowedFd<'_>,
    attach_type: u32,
    cgroup: OwnedFd,
) -> Result<Link, AttachError> {
    let call = "BPF_PROG_ATTACH (cgroup)";
    super::prog_attach(prog, cgroup, attach_type, BPF_F_ALLOW_MULTI, call)
}

/// Opens `path` after checking that it is a cgroup v2 directory.
pub(crate) fn open_cgroup2(path: &Path) -> Result<OwnedFd, AttachError> {
    let not_cgroup2 = || AttachError::NotCgroup2 {
        path: path.to_owned(),
        mount: cgroup2_mount_point(),
    };
    let stat = rustix::fs::statfs(path).map_err(|_| not_cgroup2())?;
    if stat.f_type as u64 != CGROUP2_SUPER_MAGIC {
        return Err(not_cgroup2());
    }
    let flags =
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC;
    rustix::fs::open(path, flags, rustix::fs::Mode::empty()).map_err(|e| AttachError::Open {
        path: path.to_owned(),
        source: e.into(),
    })
}

/// Where cgroup v2 is mounted, from /proc/self/mountinfo (the first cgroup2 mount).
pub fn cgroup2_mount_point() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(cgroup2_mount_in_line)
}

/// A mountinfo line: `id parent major:minor root mountpoint options... - fstype source opts`.
fn cgroup2_mount_in_line(line: &str) -> Option<PathBuf> {
    let (before, after) = line.split_once(" - ")?;
    if after.split_whitespace().next()? != "cgroup2" {
        return None;
    }
    let mount_point = before.split_whitespace().nth(4)?;
    Some(PathBuf::from(unescape_mountinfo(mount_point)))
}

/// mountinfo writes space, tab, newline and backslash as `\040`-style octal escapes.
fn unescape_mountinfo(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(byte) => {
                out.push(byte as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cgroup2_in_mountinfo_lines() {
        let line = "35 24 0:30 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw";
        assert_eq!(
            cgroup2_mount_in_line(line),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let v1 = "36 24 0:31 / /sys/fs/cgroup/cpu rw shared:10 - cgroup cgroup rw,cpu";
        assert_eq!(cgroup2_mount_in_line(v1), None);
        assert_eq!(unescape_mountinfo(r"/mnt/a\040b"), "/mnt/a b");
    }

    #[test]
    fn a_plain_directory_is_not_a_cgroup() {
        let err = open_cgroup2(Path::new("/tmp")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("/tmp is not a cgroup v2 directory"),
            "{text}"
        );
        if let Some(mount) = cgroup2_mount_point() {
            assert!(text.contains(&mount.display().to_string()), "{text}");
        }
    }
}
