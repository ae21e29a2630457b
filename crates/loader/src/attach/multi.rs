//! Many probes at once: a wildcard or a list of functions (`kprobe/vfs_*`,
//! `uprobe//usr/bin/bash:read*`, `vfs_read,vfs_write`) attaches through one kprobe_multi link
//! (Linux 5.18+, with fprobe) or uprobe_multi link (6.6+), else through one perf event per
//! function, grouped in one [`Link`].
//!
//! A program attaches through a multi link only if it was loaded with the multi attach type,
//! so the choice is made at load time ([`load_attach_type`]): a section naming a set of
//! functions, or one of libbpf's multi sections (`kprobe.multi/vfs_*`, `kretprobe.multi/`,
//! `uprobe.multi//bin:f*`, `uretprobe.multi/`), loads with it when this kernel has the link
//! (probed once per process, by creating one: [`kernel_has_kprobe_multi`],
//! [`kernel_has_uprobe_multi`]). Attaching then follows what the program was loaded with, so a
//! set given only at attach time uses single probes.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

use whistler_bpf::section::{AttachKind, Section};
use whistler_bpf::{AttachType, Insn, ProgramType, Reg};

use super::uprobe::{self, UprobeLocation};
use super::{kprobe, tracefs, AttachError, AttachProgramInfo};
use crate::elf_symbols::matching_function_offsets;
use crate::link::{Attachment, Link};
use crate::options::LoadOptions;
use crate::programs::Program;
use crate::sys::bpf::{self, LinkCreate, LinkExtra};

/// `BPF_F_KPROBE_MULTI_RETURN` and `BPF_F_UPROBE_MULTI_RETURN`.
const MULTI_RETURN: u32 = 1;

/// A set of function names: comma-separated alternatives, each a glob where `*` matches any
/// run of characters and `?` any one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSet {
    alternatives: Vec<String>,
}

impl FunctionSet {
    /// The set `text` names, when it names a set (it has a `*`, `?` or `,`).
    pub fn parse(text: &str) -> Option<FunctionSet> {
        if !text.contains(['*', '?', ',']) {
            return None;
        }
        let alternatives: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        (!alternatives.is_empty()).then_some(FunctionSet { alternatives })
    }

    /// The set of one function.
    fn single(name: &str) -> FunctionSet {
        FunctionSet {
            alternatives: vec![name.to_owned()],
        }
    }

    /// Whether the function `name` is in the set (one of its globs matches it).
    pub fn matches(&self, name: &str) -> bool {
        self.alternatives.iter().any(|a| glob_matches(a, name))
    }
}

impl std::fmt::Display for FunctionSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.alternatives.join(","))
    }
}

/// `*` matches any run of characters, `?` any one; everything else itself. Backtracks only to
/// the last `*`, which is enough for globs.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            last_star = Some((pi, ni));
            pi += 1;
        } else if let Some((star, from)) = last_star {
            pi = star + 1;
            ni = from + 1;
            last_star = Some((star, from + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The function part of a uprobe section target (`/path:func*` → `func*`).
fn uprobe_location(target: &str) -> &str {
    target
        .rsplit_once(':')
        .map_or(target, |(_, location)| location)
}

/// The attach type a kprobe or uprobe program of `section` is loaded with: the multi-link type
/// when the section asks for a multi link (libbpf's `kprobe.multi/`, `uprobe.multi/`...) or
/// names a set of functions, and this kernel has the link; else the section's own. On a kernel
/// without the link a multi section thus loads as a plain probe and attaches one probe per
/// function (the fallback).
pub fn load_attach_type(section: &Section<'_>) -> Option<AttachType> {
    let own = section.def.expected_attach_type;
    let (multi, names_a_set, kernel_has) = match section.def.attach_kind {
        AttachKind::Kprobe { .. } => (
            AttachType::TRACE_KPROBE_MULTI,
            FunctionSet::parse(section.target).is_some(),
            kernel_has_kprobe_multi as fn() -> bool,
        ),
        AttachKind::Uprobe { .. } => (
            AttachType::TRACE_UPROBE_MULTI,
            FunctionSet::parse(uprobe_location(section.target)).is_some(),
            kernel_has_uprobe_multi as fn() -> bool,
        ),
        _ => return own,
    };
    match own == Some(multi) || names_a_set {
        true => kernel_has().then_some(multi),
        false => own,
    }
}

/// Whether this kernel can create kprobe_multi links; probed once per process by attaching
/// an empty program to `bpf_fentry_test1` (only ever called by BPF_PROG_TEST_RUN).
pub fn kernel_has_kprobe_multi() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        let Some(prog) = empty_program(AttachType::TRACE_KPROBE_MULTI) else {
            return false;
        };
        let extra = LinkExtra::KprobeMulti {
            syms: &[c"bpf_fentry_test1"],
            cookies: &[],
            flags: 0,
        };
        link_create(prog.as_fd(), AttachType::TRACE_KPROBE_MULTI, extra).is_ok()
    })
}

/// Whether this kernel can create uprobe_multi links; probed once per process by asking for
/// one on `/`, which a kernel with them refuses with EBADF (not a regular file) and one without
/// with EINVAL or EOPNOTSUPP.
pub fn kernel_has_uprobe_multi() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        let Some(prog) = empty_program(AttachType::TRACE_UPROBE_MULTI) else {
            return false;
        };
        let extra = LinkExtra::UprobeMulti {
            path: c"/",
            offsets: &[0],
            ref_ctr_offsets: &[],
            cookies: &[],
            flags: 0,
            pid: 0,
        };
        match link_create(prog.as_fd(), AttachType::TRACE_UPROBE_MULTI, extra) {
            Ok(_) => true,
            Err(e) => e.raw_os_error() == Some(libc::EBADF),
        }
    })
}

/// `r0 = 0; exit` as a kprobe program with `attach_type`; None when the kernel refuses it.
fn empty_program(attach_type: AttachType) -> Option<Program> {
    let code = [Insn::mov64_imm(Reg::R0, 0), Insn::exit()];
    let options = LoadOptions::default();
    Program::load_raw(
        "multi_probe",
        ProgramType::KPROBE,
        Some(attach_type),
        &code,
        "GPL",
        &options,
    )
    .ok()
}

fn link_create(
    prog: BorrowedFd<'_>,
    attach_type: AttachType,
    extra: LinkExtra<'_>,
) -> std::io::Result<std::os::fd::OwnedFd> {
    bpf::link_create(&LinkCreate {
        prog,
        target_fd_or_ifindex: 0,
        attach_type: attach_type as u32,
        flags: 0,
        extra,
    })
}

fn loaded_as(info: &AttachProgramInfo, attach_type: AttachType) -> bool {
    info.expected_attach_type == attach_type as u32
}

/// True when `function` must attach through [`attach_kprobes`]: it names a set, or the program
/// was loaded for a kprobe_multi link.
pub(super) fn kprobe_set(info: &AttachProgramInfo, function: &str) -> Option<FunctionSet> {
    FunctionSet::parse(function).or_else(|| {
        let single = !function.contains('+');
        (single && loaded_as(info, AttachType::TRACE_KPROBE_MULTI))
            .then(|| FunctionSet::single(function))
    })
}

/// The same for a uprobe symbol.
pub(super) fn uprobe_set(info: &AttachProgramInfo, symbol: Option<&str>) -> Option<FunctionSet> {
    let symbol = symbol?;
    FunctionSet::parse(symbol).or_else(|| {
        loaded_as(info, AttachType::TRACE_UPROBE_MULTI).then(|| FunctionSet::single(symbol))
    })
}

/// kprobes (or kretprobes) on every kernel function in `set`.
pub(super) fn attach_kprobes(
    prog: BorrowedFd<'_>,
    info: &AttachProgramInfo,
    set: &FunctionSet,
    retprobe: bool,
) -> Result<Link, AttachError> {
    let multi = loaded_as(info, AttachType::TRACE_KPROBE_MULTI);
    let functions = kernel_functions(set, &info.section, multi)?;
    if !multi {
        return group(
            functions
                .iter()
                .map(|f| kprobe::attach(prog, info, f, retprobe)),
        );
    }
    let names: Vec<CString> = functions
        .into_iter()
        .filter_map(|f| CString::new(f).ok())
        .collect();
    let syms: Vec<&CStr> = names.iter().map(CString::as_c_str).collect();
    let extra = LinkExtra::KprobeMulti {
        syms: &syms,
        cookies: &[],
        flags: if retprobe { MULTI_RETURN } else { 0 },
    };
    let fd = link_create(prog, AttachType::TRACE_KPROBE_MULTI, extra)
        .map_err(|e| AttachError::syscall("BPF_LINK_CREATE (kprobe_multi)", e))?;
    Ok(Link::new(Attachment::BpfLink(fd)))
}

/// Where a set of uprobes goes.
pub(super) struct UprobeSet<'a> {
    pub binary: &'a Path,
    pub set: FunctionSet,
    pub pid: Option<i32>,
}

/// uprobes (or uretprobes) on every function of the binary in `at.set`.
pub(super) fn attach_uprobes(
    prog: BorrowedFd<'_>,
    info: &AttachProgramInfo,
    at: UprobeSet<'_>,
    retprobe: bool,
) -> Result<Link, AttachError> {
    let binary = uprobe::resolve_binary(at.binary)?;
    let description = at.set.to_string();
    let functions = matching_function_offsets(&binary, &|n| at.set.matches(n), &description)?;
    let offsets: Vec<u64> = functions.iter().map(|(_, offset)| *offset).collect();
    if !loaded_as(info, AttachType::TRACE_UPROBE_MULTI) {
        return group(offsets.iter().map(|&offset| {
            let location = UprobeLocation {
                binary: &binary,
                symbol: None,
                offset,
                pid: at.pid,
            };
            uprobe::attach(prog, location, retprobe)
        }));
    }
    let path = CString::new(binary.as_os_str().as_bytes()).map_err(|_| AttachError::Open {
        path: binary.clone(),
        source: std::io::ErrorKind::InvalidInput.into(),
    })?;
    let extra = LinkExtra::UprobeMulti {
        path: &path,
        offsets: &offsets,
        ref_ctr_offsets: &[],
        cookies: &[],
        flags: if retprobe { MULTI_RETURN } else { 0 },
        pid: at.pid.map_or(0, |pid| pid as u32),
    };
    let fd = link_create(prog, AttachType::TRACE_UPROBE_MULTI, extra)
        .map_err(|e| AttachError::syscall("BPF_LINK_CREATE (uprobe_multi)", e))?;
    Ok(Link::new(Attachment::BpfLink(fd)))
}

/// One link per function, as one: all attached, or none (those made are dropped on failure).
fn group(links: impl Iterator<Item = Result<Link, AttachError>>) -> Result<Link, AttachError> {
    Ok(Link::new(Attachment::Group(
        links.collect::<Result<_, _>>()?,
    )))
}

/// The kernel functions in `set`, sorted, each once: for a kprobe_multi link those ftrace can
/// hook (tracefs `available_filter_functions`), for single kprobes every text symbol of
/// `/proc/kallsyms` (kprobes also reach functions ftrace does not list, such as the syscall
/// entry points).
fn kernel_functions(
    set: &FunctionSet,
    section: &str,
    for_multi_link: bool,
) -> Result<Vec<String>, AttachError> {
    let read = |path: std::path::PathBuf| {
        std::fs::read_to_string(&path).map_err(|source| AttachError::Open { path, source })
    };
    let text = match for_multi_link {
        true => read(tracefs::root()?.join("available_filter_functions"))?,
        false => kallsyms_text_symbols(&read("/proc/kallsyms".into())?),
    };
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| set.matches(name))
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(AttachError::BadTarget {
            section: section.to_owned(),
            problem: format!("no kernel function matches `{set}`"),
        });
    }
    Ok(names)
}

/// The names of the text (`t`/`T`) symbols of a `/proc/kallsyms` listing, one per line.
fn kallsyms_text_symbols(kallsyms: &str) -> String {
    kallsyms
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, kind, name) = (fields.next()?, fields.next()?, fields.next()?);
            matches!(kind, "t" | "T").then_some(name)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("vfs_*", "vfs_read"));
        assert!(glob_matches("vfs_*", "vfs_"));
        assert!(!glob_matches("vfs_*", "do_vfs_read"));
        assert!(glob_matches("*read*", "do_vfs_readv"));
        assert!(glob_matches("tcp_?_x", "tcp_v_x"));
        assert!(!glob_matches("tcp_?_x", "tcp__x"));
        assert!(glob_matches("a*b*c", "aXbYbZc"));
        assert!(!glob_matches("a*b*c", "aXbYbZ"));
        assert!(glob_matches("exact", "exact"));
    }

    #[test]
    fn sets_are_wildcards_or_lists() {
        assert_eq!(FunctionSet::parse("vfs_read"), None);
        let set = FunctionSet::parse("vfs_read, vfs_write").unwrap();
        assert!(set.matches("vfs_write") && !set.matches("vfs_readv"));
        assert_eq!(set.to_string(), "vfs_read,vfs_write");
        let set = FunctionSet::parse("vfs_*,do_sys_open*").unwrap();
        assert!(set.matches("do_sys_openat2") && set.matches("vfs_fsync"));
        assert_eq!(FunctionSet::parse(","), None);
        assert_eq!(uprobe_location("/usr/bin/bash:read*"), "read*");
        assert_eq!(uprobe_location("read*"), "read*");
    }

    #[test]
    fn kallsyms_text_symbols_only() {
        let listing = "ffffffff81000000 T _stext\nffffffff82000000 D some_data\n\
                       ffffffff81001000 t vfs_helper [mod]\n";
        assert_eq!(kallsyms_text_symbols(listing), "_stext\nvfs_helper");
    }
}
