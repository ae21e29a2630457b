//! A loaded program of a session and the attachments it owns.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use whistler_loader::attach::{AttachError, AttachTarget};
use whistler_loader::link::Link;
use whistler_loader::{ProgramError, TestRun, TestRunOutput};

/// Where to attach, read according to the program's section: a kernel function for kprobes,
/// `"category/event"` for tracepoints, a cgroup directory, an interface name, or
/// `(binary, symbol)` for uprobes.
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

/// One attachment of a program, unique in the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkId(u64);

impl LinkId {
    fn next() -> LinkId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        LinkId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A loaded program; its attachments live as long as it does.
pub struct Program {
    // Links are declared first so that they are dropped (detached) before the program closes.
    links: Vec<(LinkId, Link)>,
    inner: whistler_loader::Program,
}

impl Program {
    pub fn new(inner: whistler_loader::Program) -> Program {
        Program {
            links: Vec::new(),
            inner,
        }
    }

    /// Attaches to `target`, the kind picked from the section name.
    pub fn attach(&mut self, target: impl Into<Target>) -> Result<LinkId, AttachError> {
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
    pub fn attach_auto(&mut self) -> Result<LinkId, AttachError> {
        let target = AttachTarget::parse_for_section(self.inner.section(), "")?;
        self.attach_to(target)
    }

    /// Attaches with a loader target description (uprobe for one pid, XDP mode, perf sampling...).
    pub fn attach_to(&mut self, target: AttachTarget) -> Result<LinkId, AttachError> {
        let link = self.inner.attach(target)?;
        Ok(self.keep(link))
    }

    /// Attaches as if the program's section were `section` (a `kprobe/` program attached as a
    /// kretprobe, a cgroup program at another hook).
    pub fn attach_as(
        &mut self,
        section: &str,
        target: AttachTarget,
    ) -> Result<LinkId, AttachError> {
        let mut info = self.inner.attach_info();
        info.section = section.to_string();
        let link = whistler_loader::attach::attach(self.fd(), &info, target)?;
        Ok(self.keep(link))
    }

    fn keep(&mut self, link: Link) -> LinkId {
        let id = LinkId::next();
        self.links.push((id, link));
        id
    }

    /// Ends one attachment; false when it had already ended.
    pub fn detach(&mut self, id: LinkId) -> bool {
        let before = self.links.len();
        self.links.retain(|(kept, _)| *kept != id);
        self.links.len() < before
    }

    /// Pins attachment `id` at `path` in a bpffs: it then outlives this program and this
    /// process until the pin is removed. False when `id` is not one of this program's.
    pub fn pin_link(&mut self, id: LinkId, path: impl AsRef<Path>) -> Result<bool, AttachError> {
        match self.links.iter_mut().find(|(kept, _)| *kept == id) {
            Some((_, link)) => link.pin(path).map(|()| true),
            None => Ok(false),
        }
    }

    /// Removes the pin of attachment `id`, so that detaching or dropping it ends it again.
    /// False when `id` is not one of this program's.
    pub fn unpin_link(&mut self, id: LinkId) -> Result<bool, AttachError> {
        match self.links.iter_mut().find(|(kept, _)| *kept == id) {
            Some((_, link)) => link.unpin().map(|()| true),
            None => Ok(false),
        }
    }

    /// Takes over the link pinned at `path` (made by an earlier run, say) as one of this
    /// program's attachments; it stays pinned until [`Program::unpin_link`].
    pub fn open_pinned_link(&mut self, path: impl AsRef<Path>) -> Result<LinkId, AttachError> {
        let link = Link::from_pin(path)?;
        Ok(self.keep(link))
    }

    /// One attachment (its kind, its BPF link fd, its pin).
    pub fn link(&self, id: LinkId) -> Option<&Link> {
        self.links
            .iter()
            .find_map(|(kept, link)| (*kept == id).then_some(link))
    }

    /// Pins the program itself at `path` in a bpffs.
    pub fn pin(&mut self, path: impl AsRef<Path>) -> Result<(), ProgramError> {
        self.inner.pin(path)
    }

    /// Opens the program pinned at `path` ([`whistler_loader::Program::from_pin`]).
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Program, ProgramError> {
        whistler_loader::Program::from_pin(path).map(Program::new)
    }

    /// Detaches every attachment of this program.
    pub fn detach_all(&mut self) {
        self.links.clear();
    }

    /// Hands every attachment over: each ends when the caller drops it.
    pub fn take_links(&mut self) -> Vec<Link> {
        self.links.drain(..).map(|(_, link)| link).collect()
    }

    pub fn links(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().map(|(_, link)| link)
    }

    /// Runs the program once (or `repeat` times) with BPF_PROG_TEST_RUN.
    pub fn test_run(&self, run: TestRun<'_>) -> Result<TestRunOutput, ProgramError> {
        self.inner.test_run(run)
    }

    /// The loader's program (fd, name, section, type, id).
    pub fn loaded(&self) -> &whistler_loader::Program {
        &self.inner
    }

    /// The name in the object (the ELF symbol).
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    pub fn section(&self) -> &str {
        self.inner.section()
    }

    fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.inner.as_fd()
    }
}
