//! The run-time side of `with-bpf-session`: compiled objects waiting to be loaded, the open
//! sessions (each a [`whistler_session::Session`] with the ring consumers user code opened) and
//! the handles user code holds.
//!
//! A handle names a map or program of a session; it does not own it. Closing the session
//! closes its ring consumers, then the session core closes links, programs and maps, even
//! while Lisp values still refer to the handle; using it afterwards is an error.

use crate::ring::RingConsumer;
use std::collections::HashMap;
use std::rc::Rc;
use whistler_loader::{LoadOptions, Map};
use whistler_session::{LinkId, Program};

/// One `with-bpf-session` form's compiled BPF side.
#[derive(Clone, Debug)]
pub struct CompiledSession {
    pub elf: Vec<u8>,
    /// (Lisp name, object name) of the maps and programs the form declares.
    pub maps: Vec<(String, String)>,
    pub progs: Vec<(String, String)>,
}

/// A map of a session, as user code holds it.
pub struct MapHandle {
    /// The name user code knows it by (Lisp for sessions, ELF for loaded objects).
    pub name: String,
    pub session: u64,
    /// The name in the object.
    symbol: String,
}

/// A program of a session, as user code holds it.
pub struct ProgHandle {
    pub name: String,
    pub session: u64,
    symbol: String,
}

/// The value `%bpf-session-open` returns: which session to close.
pub struct SessionToken(pub u64);

/// An attachment user code holds (what `bpf:attach` and `attach-*` return): `detach` ends it
/// early; otherwise it ends with its program's session.
pub struct LinkHandle {
    pub id: LinkId,
    pub session: u64,
}

/// An open session: the session core and what user code opened on it.
pub struct Session {
    id: u64,
    pub consumers: Vec<Rc<RingConsumer>>,
    pub programs: Vec<Rc<ProgHandle>>,
    pub maps: Vec<Rc<MapHandle>>,
    core: whistler_session::Session,
}

impl Session {
    fn new(id: u64, core: whistler_session::Session) -> Session {
        Session {
            id,
            consumers: Vec::new(),
            programs: Vec::new(),
            maps: Vec::new(),
            core,
        }
    }

    fn add_map(&mut self, name: &str, symbol: &str) {
        self.maps.push(Rc::new(MapHandle {
            name: name.to_string(),
            session: self.id,
            symbol: symbol.to_string(),
        }));
    }

    fn add_program(&mut self, name: &str, symbol: &str) {
        self.programs.push(Rc::new(ProgHandle {
            name: name.to_string(),
            session: self.id,
            symbol: symbol.to_string(),
        }));
    }

    pub fn map(&self, name: &str) -> Option<Rc<MapHandle>> {
        self.maps.iter().find(|m| m.name == name).cloned()
    }

    pub fn program(&self, name: &str) -> Option<Rc<ProgHandle>> {
        self.programs.iter().find(|p| p.name == name).cloned()
    }
}

impl Drop for Session {
    /// The ring consumers user code opened first; the core then closes links, programs, maps.
    fn drop(&mut self) {
        for c in self.consumers.drain(..) {
            c.close();
        }
    }
}

/// Everything the runner's Lisp functions share.
#[derive(Default)]
pub struct Runtime {
    /// Compiled sessions by the byte offset of their `with-bpf-session` form.
    pub compiled: HashMap<usize, CompiledSession>,
    /// The file's top-level `defmap`/`defprog` forms compiled (what `compile-to-elf` writes).
    pub toplevel_elf: Option<Vec<u8>>,
    /// Open sessions (and loaded objects), innermost last.
    open: Vec<Session>,
    next_id: u64,
    /// How sessions and objects load (the kernel BTF to relocate for).
    load_options: LoadOptions,
}

impl Runtime {
    pub fn loading_with(load_options: LoadOptions) -> Runtime {
        Runtime {
            load_options,
            ..Runtime::default()
        }
    }

    /// Loads the session compiled for the form at `start`: creates its maps, loads its programs.
    pub fn open(&mut self, start: usize) -> Result<u64, String> {
        let compiled = self.compiled.get(&start).ok_or_else(|| {
            "this with-bpf-session form was not compiled (it must appear literally in the file)"
                .to_string()
        })?;
        let core = whistler_session::Session::load(&compiled.elf, &self.load_options)
            .map_err(|e| format!("cannot load the session's BPF programs: {e}"))?;
        let id = self.next_id + 1;
        let mut session = Session::new(id, core);
        for (name, symbol) in &compiled.maps {
            session.add_map(name, symbol);
        }
        for (name, symbol) in &compiled.progs {
            session.add_program(name, symbol);
        }
        self.next_id = id;
        self.open.push(session);
        Ok(id)
    }

    /// Loads an ELF object (`load-bpf-object`): every map and program, by its ELF name.
    pub fn open_object(&mut self, elf: &[u8]) -> Result<u64, String> {
        let core =
            whistler_session::Session::load(elf, &self.load_options).map_err(|e| e.to_string())?;
        self.next_id += 1;
        let mut session = Session::new(self.next_id, core);
        let maps: Vec<String> = session
            .core
            .maps()
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        let programs: Vec<String> = session
            .core
            .programs()
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        for name in &maps {
            session.add_map(name, name);
        }
        for name in &programs {
            session.add_program(name, name);
        }
        self.open.push(session);
        Ok(self.next_id)
    }

    /// Runs `f` on the map, or says that its session has ended.
    pub fn with_map<T>(&self, map: &MapHandle, f: impl FnOnce(&Map) -> T) -> Result<T, String> {
        self.session(map.session)
            .and_then(|s| s.core.map(&map.symbol))
            .map(f)
            .ok_or_else(|| format!("map `{}` is closed: its session has ended", map.name))
    }

    /// Runs `f` on the program, or says that its session has ended.
    pub fn with_program<T>(
        &mut self,
        program: &ProgHandle,
        f: impl FnOnce(&mut Program) -> T,
    ) -> Result<T, String> {
        self.session_mut(program.session)
            .and_then(|s| s.core.program_mut(&program.symbol))
            .map(f)
            .ok_or_else(|| {
                format!(
                    "program `{}` is closed: its session has ended",
                    program.name
                )
            })
    }

    /// Ends an attachment; false when it had already ended.
    pub fn detach(&mut self, handle: &LinkHandle) -> bool {
        self.session_mut(handle.session)
            .is_some_and(|s| s.core.detach(handle.id))
    }

    /// The program of an open session whose fd is `fd` (`prog-info-fd` values).
    pub fn program_by_fd(&self, fd: i32) -> Option<Rc<ProgHandle>> {
        use std::os::fd::{AsFd, AsRawFd};
        self.open.iter().rev().find_map(|s| {
            let core = s.core.programs().iter();
            let symbol = core
                .map(Program::loaded)
                .find(|p| p.as_fd().as_raw_fd() == fd)?
                .name();
            s.programs.iter().find(|p| p.symbol == symbol).cloned()
        })
    }

    /// Closes session `id` (and any session opened inside it and still open).
    pub fn close(&mut self, id: u64) {
        if let Some(i) = self.open.iter().position(|s| s.id == id) {
            while self.open.len() > i {
                drop(self.open.pop());
            }
        }
    }

    /// Closes every open session, innermost first.
    pub fn close_all(&mut self) {
        while let Some(s) = self.open.pop() {
            drop(s);
        }
    }

    pub fn session(&self, id: u64) -> Option<&Session> {
        self.open.iter().find(|s| s.id == id)
    }

    pub fn session_mut(&mut self, id: u64) -> Option<&mut Session> {
        self.open.iter_mut().find(|s| s.id == id)
    }

    /// The innermost open session.
    pub fn current(&self) -> Option<&Session> {
        self.open.last()
    }

    /// A map of the innermost session that has one by this Lisp name.
    pub fn find_map(&self, name: &str) -> Option<Rc<MapHandle>> {
        self.open.iter().rev().find_map(|s| s.map(name))
    }

    pub fn find_program(&self, name: &str) -> Option<Rc<ProgHandle>> {
        self.open.iter().rev().find_map(|s| s.program(name))
    }
}
