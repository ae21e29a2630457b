//! Loaded programs: loading instructions with BPF_PROG_LOAD (first without a log, then again
//! with a verifier log to explain a refusal), BPF_PROG_TEST_RUN, and pinning.

pub mod verifier_log;

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use whistler_bpf::{AttachType, Insn, ProgramType};

use crate::attach::{AttachError, AttachProgramInfo, AttachTarget};
use crate::error::{LoadError, ProgramError};
use crate::link::Link;
use crate::maps::sanitize_name;
use crate::options::LoadOptions;
use crate::sys::bpf;
use verifier_log::SourceLine;

/// Initial verifier log buffer; doubled on ENOSPC up to [`MAX_LOG_SIZE`].
const INITIAL_LOG_SIZE: usize = 1 << 20;
/// The kernel's limit is `UINT_MAX >> 2`; stay well below.
const MAX_LOG_SIZE: usize = 1 << 28;

/// A program loaded into the kernel. Dropping it closes its fd; the kernel frees the program
/// when no link, attachment or pin holds it any more.
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    name: String,
    section: String,
    program_type: ProgramType,
    expected_attach_type: Option<AttachType>,
    attach_btf_id: Option<u32>,
    id: u32,
    pinned: Option<PathBuf>,
    verifier_log: Option<String>,
}

/// Input of [`Program::test_run`].
#[derive(Clone, Copy, Debug, Default)]
pub struct TestRun<'a> {
    /// The packet (xdp, tc, socket filter, cgroup_skb); empty for context-only programs.
    pub data_in: &'a [u8],
    /// Room for the output packet (0: not wanted).
    pub data_out_capacity: usize,
    /// The context (raw_tracepoint arguments, syscall program input, `struct __sk_buff`...).
    pub ctx_in: &'a [u8],
    /// Room for the output context (0: not wanted).
    pub ctx_out_capacity: usize,
    /// Runs; 0 and 1 both mean once (raw_tracepoint programs accept only 0). The duration is
    /// their average.
    pub repeat: u32,
}

/// Output of [`Program::test_run`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRunOutput {
    /// The program's return value (its low 32 bits).
    pub retval: u32,
    /// The average duration of one run, in nanoseconds, as the kernel measured it.
    pub duration_ns: u32,
    /// The output packet, cut to the capacity asked for.
    pub data_out: Vec<u8>,
    /// The context after the run (an `__sk_buff` the program changed, say), cut to the
    /// capacity asked for.
    pub ctx_out: Vec<u8>,
}

/// Everything one BPF_PROG_LOAD needs; made by [`Program::load_raw`] and by object loading.
pub(crate) struct ProgramLoad<'a> {
    pub name: &'a str,
    pub section: &'a str,
    pub program_type: ProgramType,
    pub expected_attach_type: Option<AttachType>,
    pub attach_btf_id: Option<u32>,
    pub insns: &'a [Insn],
    pub license: &'a str,
    pub kern_version: u32,
    pub btf: Option<BorrowedFd<'a>>,
    /// Encoded `bpf_func_info` / `bpf_line_info` records (8 and 16 bytes each).
    pub func_info: &'a [u8],
    pub line_info: &'a [u8],
    /// line_info resolved to text, for the verifier summary.
    pub source_lines: &'a [SourceLine],
    pub log_level: u32,
    /// Initial verifier log buffer size (0: the default, 1 MiB).
    pub log_size: usize,
}

/// The program type and expected attach type of program `name` in `section`: an override from
/// the options, else libbpf's section table (for probes, the multi-link attach type only when
/// the kernel has the link: [`crate::attach::multi`]).
pub fn program_kind(
    name: &str,
    section: &str,
    options: &LoadOptions,
) -> Result<(ProgramType, Option<AttachType>), LoadError> {
    if let Some(o) = options.program_types.get(name) {
        return Ok((o.program_type, o.expected_attach_type));
    }
    let parsed = whistler_bpf::section::Section::parse(section).ok_or_else(|| {
        LoadError::UnknownSection {
            program: name.to_string(),
            section: section.to_string(),
        }
    })?;
    Ok((
        parsed.def.program_type,
        crate::attach::multi::load_attach_type(&parsed),
    ))
}

/// `BPF_F_SLEEPABLE`.
const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `BPF_F_XDP_HAS_FRAGS`.
const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

/// Load flags libbpf derives from the program type and section: syscall programs and `*.s/`
/// sections are sleepable, `xdp.frags` programs accept multi-buffer packets.
pub fn program_flags(program_type: ProgramType, section: &str) -> u32 {
    let prefix = section.split('/').next().unwrap_or("");
    let mut flags = 0;
    if program_type == ProgramType::SYSCALL || prefix.ends_with(".s") {
        flags |= BPF_F_SLEEPABLE;
    }
    if prefix == "xdp.frags" {
        flags |= BPF_F_XDP_HAS_FRAGS;
    }
    flags
}

impl Program {
    /// Loads instructions that need no relocation (no map fds to patch, no BTF).
    pub fn load_raw(
        name: &str,
        program_type: ProgramType,
        expected_attach_type: Option<AttachType>,
        insns: &[Insn],
        license: &str,
        options: &LoadOptions,
    ) -> Result<Program, LoadError> {
        Program::load(&ProgramLoad {
            name,
            section: whistler_bpf::section::default_section(program_type),
            program_type,
            expected_attach_type,
            attach_btf_id: None,
            insns,
            license,
            kern_version: 0,
            btf: None,
            func_info: &[],
            line_info: &[],
            source_lines: &[],
            log_level: options.log_level,
            log_size: options.log_size,
        })
    }

    /// Loads instructions that need no relocation as a program of `section` (libbpf's names):
    /// the section gives the program type and expected attach type (unless
    /// [`LoadOptions::program_types`] names this program), and for tp_btf, fentry, fexit, lsm
    /// and iter sections the kernel BTF id of the target.
    pub fn load_raw_in_section(
        name: &str,
        section: &str,
        insns: &[Insn],
        license: &str,
        options: &LoadOptions,
    ) -> Result<Program, LoadError> {
        let (program_type, expected_attach_type) = program_kind(name, section, options)?;
        let kernel_btf = options.kernel_btf.as_deref();
        let attach_btf_id = crate::kernel_btf::attach_btf_id(program_type, section, kernel_btf)?;
        Program::load(&ProgramLoad {
            name,
            section,
            program_type,
            expected_attach_type,
            attach_btf_id,
            insns,
            license,
            kern_version: 0,
            btf: None,
            func_info: &[],
            line_info: &[],
            source_lines: &[],
            log_level: options.log_level,
            log_size: options.log_size,
        })
    }

    pub(crate) fn load(req: &ProgramLoad<'_>) -> Result<Program, LoadError> {
        let (fd, verifier_log) = load_with_log(req)?;
        let id = bpf::prog_info(fd.as_fd())
            .map_err(|e| LoadError::from_syscall("BPF_OBJ_GET_INFO_BY_FD", e))?
            .id;
        Ok(Program {
            fd,
            name: req.name.to_string(),
            section: req.section.to_string(),
            program_type: req.program_type,
            expected_attach_type: req.expected_attach_type,
            attach_btf_id: req.attach_btf_id,
            id,
            pinned: None,
            verifier_log,
        })
    }

    /// The name the program was defined with (the kernel holds a sanitized copy).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ELF section it came from (for raw loads, the program type's default section).
    pub fn section(&self) -> &str {
        &self.section
    }

    /// The type it was loaded as: from its section, or from an override.
    pub fn program_type(&self) -> ProgramType {
        self.program_type
    }

    /// The expected attach type it was loaded with, for the types that need one.
    pub fn expected_attach_type(&self) -> Option<AttachType> {
        self.expected_attach_type
    }

    /// The kernel BTF id of the function or tracepoint this program was loaded for (tp_btf,
    /// fentry, fexit, lsm, iter).
    pub fn attach_btf_id(&self) -> Option<u32> {
        self.attach_btf_id
    }

    /// The verifier's log of a successful load, when [`LoadOptions::log_level`] was set.
    pub fn verifier_log(&self) -> Option<&str> {
        self.verifier_log.as_deref()
    }

    /// The kernel's id of the program.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// What the attach code dispatches on: type, expected attach type, section and name.
    pub fn attach_info(&self) -> AttachProgramInfo {
        AttachProgramInfo {
            prog_type: self.program_type as u32,
            expected_attach_type: self.expected_attach_type.map_or(0, |t| t as u32),
            section: self.section.clone(),
            name: self.name.clone(),
        }
    }

    /// Attaches the program the way its section says ([`crate::attach::attach`]); the
    /// attachment lasts while the returned link lives.
    pub fn attach(&self, target: AttachTarget) -> Result<Link, AttachError> {
        crate::attach::attach(self.fd.as_fd(), &self.attach_info(), target)
    }

    /// Runs the program once per `repeat` on the given packet and context (BPF_PROG_TEST_RUN).
    pub fn test_run(&self, run: TestRun<'_>) -> Result<TestRunOutput, ProgramError> {
        let mut data_out = vec![0u8; run.data_out_capacity];
        let mut ctx_out = vec![0u8; run.ctx_out_capacity];
        let args = bpf::TestRun {
            data_in: run.data_in,
            data_out: &mut data_out,
            ctx_in: run.ctx_in,
            ctx_out: &mut ctx_out,
            repeat: run.repeat,
            flags: 0,
            cpu: 0,
        };
        let result =
            bpf::prog_test_run(self.fd.as_fd(), args).map_err(|source| ProgramError::TestRun {
                program: self.name.clone(),
                source,
            })?;
        data_out.truncate(result.data_size_out as usize);
        ctx_out.truncate(result.ctx_size_out as usize);
        Ok(TestRunOutput {
            retval: result.retval,
            duration_ns: result.duration,
            data_out,
            ctx_out,
        })
    }

    /// Pins the program at `path` in a bpffs.
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<(), ProgramError> {
        let path = path.as_ref();
        crate::pins::pin(self.fd.as_fd(), path).map_err(|source| ProgramError::Pin {
            program: self.name.clone(),
            path: path.to_path_buf(),
            source,
        })?;
        self.pinned = Some(path.to_path_buf());
        Ok(())
    }

    /// Opens the program pinned at `path` (an error if something else is pinned there). The
    /// kernel keeps its type, name and id; its section becomes the type's default section and
    /// its expected attach type is unknown (the kernel does not report it): attach with
    /// [`crate::attach::attach`] and an [`AttachProgramInfo`] when the section matters.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Program, ProgramError> {
        let path = path.as_ref();
        let pin_error = |source| ProgramError::Pin {
            program: path.display().to_string(),
            path: path.to_path_buf(),
            source,
        };
        let fd = crate::pins::open(path, crate::pins::ObjectKind::Program).map_err(pin_error)?;
        let info = bpf::prog_info(fd.as_fd()).map_err(pin_error)?;
        let program_type = ProgramType::from_u32(info.prog_type).ok_or_else(|| {
            let unknown = format!("unknown program type {}", info.prog_type);
            pin_error(io::Error::new(io::ErrorKind::Unsupported, unknown))
        })?;
        Ok(Program {
            fd,
            name: crate::maps::kernel_name(&info.name),
            section: whistler_bpf::section::default_section(program_type).to_string(),
            program_type,
            expected_attach_type: None,
            attach_btf_id: (info.attach_btf_id != 0).then_some(info.attach_btf_id),
            id: info.id,
            pinned: Some(path.to_path_buf()),
            verifier_log: None,
        })
    }

    /// Where the program is pinned ([`Program::pin`] or [`Program::from_pin`]).
    pub fn pinned_path(&self) -> Option<&Path> {
        self.pinned.as_deref()
    }

    /// Removes the pin made by [`Program::pin`] or opened by [`Program::from_pin`].
    pub fn unpin(&mut self) -> Result<(), ProgramError> {
        if let Some(path) = self.pinned.take() {
            std::fs::remove_file(&path).map_err(|source| ProgramError::Pin {
                program: self.name.clone(),
                path,
                source,
            })?;
        }
        Ok(())
    }

    /// Gives up the program's fd.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

impl AsFd for Program {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Loads; on failure loads again with a verifier log and turns a non-empty log into
/// [`LoadError::Verifier`]. With a log level set, loads with the log from the start and returns
/// it.
fn load_with_log(req: &ProgramLoad<'_>) -> Result<(OwnedFd, Option<String>), LoadError> {
    if req.log_level != 0 {
        return match load_logged(req, req.log_level) {
            Ok((fd, log)) => Ok((fd, Some(log))),
            Err((e, log)) => Err(explain(req, e, log)),
        };
    }
    let first_error = match prog_load(req, 0, &mut []) {
        Ok(fd) => return Ok((fd, None)),
        Err(e) => e,
    };
    match load_logged(req, 1) {
        // Loading with a log succeeded where loading without one failed: report the first
        // failure, which is the real one.
        Ok(_) => Err(explain(req, first_error, String::new())),
        Err((e, log)) => Err(explain(req, e, log)),
    }
}

/// Loads with a verifier log, growing the buffer while the kernel says it is too small.
fn load_logged(
    req: &ProgramLoad<'_>,
    level: u32,
) -> Result<(OwnedFd, String), (io::Error, String)> {
    let mut size = if req.log_size == 0 {
        INITIAL_LOG_SIZE
    } else {
        req.log_size
    };
    loop {
        let mut log = vec![0u8; size];
        match prog_load(req, level, &mut log) {
            Ok(fd) => return Ok((fd, log_text(&log))),
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && size < MAX_LOG_SIZE => {
                size = (size * 4).min(MAX_LOG_SIZE);
            }
            Err(e) => return Err((e, log_text(&log))),
        }
    }
}

fn log_text(log: &[u8]) -> String {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    String::from_utf8_lossy(&log[..end]).into_owned()
}

fn explain(req: &ProgramLoad<'_>, error: std::io::Error, log: String) -> LoadError {
    if log.trim().is_empty() {
        let what = format!("loading program `{}` (BPF_PROG_LOAD)", req.name);
        return LoadError::from_syscall(what, error);
    }
    LoadError::Verifier {
        program: req.name.to_string(),
        summary: verifier_log::summarize(&log, req.source_lines),
        log,
    }
}

fn prog_load(req: &ProgramLoad<'_>, log_level: u32, log: &mut [u8]) -> std::io::Result<OwnedFd> {
    let license = CString::new(req.license.replace('\0', "")).unwrap_or_default();
    let insns = Insn::encode_all(req.insns);
    let name = sanitize_name(req.name);
    bpf::prog_load(bpf::ProgLoad {
        prog_type: req.program_type as u32,
        insns: &insns,
        license: &license,
        log_level,
        log: (!log.is_empty()).then_some(log),
        kern_version: req.kern_version,
        prog_flags: program_flags(req.program_type, req.section),
        name: &name,
        expected_attach_type: req.expected_attach_type.map_or(0, |t| t as u32),
        prog_btf: req.btf,
        func_info: req.func_info,
        func_info_rec_size: 8,
        line_info: req.line_info,
        line_info_rec_size: 16,
        attach_btf_id: req.attach_btf_id.unwrap_or(0),
        ..Default::default()
    })
}
