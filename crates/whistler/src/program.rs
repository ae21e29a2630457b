//! A loaded program of a session and the attachments it owns.

use crate::Result;
use std::path::{Path, PathBuf};
use whistler_loader::attach::AttachTarget;
use whistler_loader::link::Link;
use whistler_loader::{TestRun, TestRunOutput};

/// Where to attach, read according to the program's section (as `bpf:attach` does): a kernel
/// function for kprobes, `"category/event"` for tracepoints, a cgroup directory, an interface
/// name, or `(binary, symbol)` for uprobes.
#[derive(Clone, Debug)]
pub enum Target {
    Text(String),
    Path(PathBuf),
    Uprobe { binary: PathBuf, symbol: String },
}

impl From<&str> for Target {
    fn from(s: &str) -> Target {
        Target::Text(s.to_string())
    }
}
impl From<String> for Target {
    fn from(s: String) -> Target {
        Target::Text(s)
    }
}
impl From<&Path> for Target {
    fn from(p: &Path) -> Target {
        Target::Path(p.to_path_buf())
    }
}
impl From<PathBuf> for Target {
    fn from(p: PathBuf) -> Target {
        Target::Path(p)
    }
}
impl<B: AsRef<Path>, S: AsRef<str>> From<(B, S)> for Target {
    fn from((binary, symbol): (B, S)) -> Target {
        Target::Uprobe {
            binary: binary.as_ref().to_path_buf(),
            symbol: symbol.as_ref().to_string(),
        }
    }
}

/// A loaded program; its attachments live as long as it does.
pub struct Program {
    // Links are declared first so that they are dropped (detached) before the program closes.
    links: Vec<Link>,
    inner: whistler_loader::Program,
}

impl Program {
    pub(crate) fn new(inner: whistler_loader::Program) -> Program {
        Program {
            links: Vec::new(),
            inner,
        }
    }

    /// Attaches to `target`, the kind picked from the section name.
    pub fn attach(&mut self, target: impl Into<Target>) -> Result<()> {
        let section = self.inner.section().to_string();
        let target = match target.into() {
            Target::Text(text) => AttachTarget::parse_for_section(&section, &text)?,
            Target::Path(path) => {
                AttachTarget::parse_for_section(&section, &path.to_string_lossy())?
            }
            Target::Uprobe { binary, symbol } => AttachTarget::Uprobe {
                binary,
                symbol: Some(symbol),
                offset: 0,
                pid: None,
            },
        };
        self.attach_to(target)
    }

    /// Attaches to the target the section itself names (`kprobe/FUNC`, `tracepoint/CAT/NAME`, ...).
    pub fn attach_auto(&mut self) -> Result<()> {
        let target = AttachTarget::parse_for_section(self.inner.section(), "")?;
        self.attach_to(target)
    }

    /// Attaches with a loader target description (uprobe for one pid, XDP mode, perf sampling...).
    pub fn attach_to(&mut self, target: AttachTarget) -> Result<()> {
        self.links.push(self.inner.attach(target)?);
        Ok(())
    }

    /// Detaches every attachment of this program.
    pub fn detach_all(&mut self) {
        self.links.clear();
    }

    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// Runs the program once (or `repeat` times) with BPF_PROG_TEST_RUN.
    pub fn test_run(&self, run: TestRun<'_>) -> Result<TestRunOutput> {
        Ok(self.inner.test_run(run)?)
    }

    /// The loader's program (fd, name, section, type, id).
    pub fn loaded(&self) -> &whistler_loader::Program {
        &self.inner
    }
}
