//! The run-time side of `with-bpf-session`: compiled objects waiting to be loaded, the open
//! sessions (their maps, programs, links and ring consumers) and the handles user code holds.
//!
//! A handle does not own its kernel object: the session does, and closing the session closes
//! it (ring consumers, then links, then programs, then maps) even while Lisp values still
//! refer to the handle; using it afterwards is an error.

use crate::ring::RingConsumer;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use whistler_loader::link::Link;
use whistler_loader::object::Object;
use whistler_loader::{LoadOptions, Map, Program};

/// One `with-bpf-session` form's compiled BPF side.
#[derive(Clone, Debug)]
pub struct CompiledSession {
    pub elf: Vec<u8>,
    /// Lisp names of the maps and programs the form declares.
    pub maps: Vec<String>,
    pub progs: Vec<String>,
}

/// A map of an open session, as user code holds it.
pub struct MapHandle {
    pub name: String,
    pub session: u64,
    map: RefCell<Option<Map>>,
}

/// A program of an open session, as user code holds it.
pub struct ProgHandle {
    pub name: String,
    pub session: u64,
    program: RefCell<Option<Program>>,
}

/// The value `%bpf-session-open` returns: which session to close.
pub struct SessionToken(pub u64);

/// An attachment user code holds (what `bpf:attach` and `attach-*` return): `detach` ends it
/// early; otherwise it ends with its program's session.
pub struct LinkHandle {
    pub id: u64,
    pub session: u64,
}

impl MapHandle {
    fn new(name: String, session: u64, map: Map) -> MapHandle {
        MapHandle {
            name,
            session,
            map: RefCell::new(Some(map)),
        }
    }

    /// Runs `f` on the map, or says that its session has ended.
    pub fn with<T>(&self, f: impl FnOnce(&Map) -> T) -> Result<T, String> {
        match self.map.borrow().as_ref() {
            Some(map) => Ok(f(map)),
            None => Err(format!(
                "map `{}` is closed: its session has ended",
                self.name
            )),
        }
    }
}

impl ProgHandle {
    fn new(name: String, session: u64, program: Program) -> ProgHandle {
        ProgHandle {
            name,
            session,
            program: RefCell::new(Some(program)),
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&Program) -> T) -> Result<T, String> {
        match self.program.borrow().as_ref() {
            Some(p) => Ok(f(p)),
            None => Err(format!(
                "program `{}` is closed: its session has ended",
                self.name
            )),
        }
    }
}

/// An open session: everything it must close.
pub struct Session {
    id: u64,
    pub consumers: Vec<Rc<RingConsumer>>,
    /// Attachments by [`LinkHandle::id`].
    links: Vec<(u64, Link)>,
    pub programs: Vec<Rc<ProgHandle>>,
    pub maps: Vec<Rc<MapHandle>>,
}

impl Session {
    fn new(id: u64) -> Session {
        Session {
            id,
            consumers: Vec::new(),
            links: Vec::new(),
            programs: Vec::new(),
            maps: Vec::new(),
        }
    }

    pub fn map(&self, name: &str) -> Option<Rc<MapHandle>> {
        self.maps.iter().find(|m| m.name == name).cloned()
    }

    pub fn program(&self, name: &str) -> Option<Rc<ProgHandle>> {
        self.programs.iter().find(|p| p.name == name).cloned()
    }

    /// Closes ring consumers, links, programs and maps, in that order.
    fn close(&mut self) {
        for c in self.consumers.drain(..) {
            c.close();
        }
        self.links.clear();
        for p in self.programs.drain(..) {
            p.program.borrow_mut().take();
        }
        for m in self.maps.drain(..) {
            m.map.borrow_mut().take();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
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
}

impl Runtime {
    /// Loads the session compiled for the form at `start`: creates its maps, loads its programs.
    pub fn open(&mut self, start: usize) -> Result<u64, String> {
        let id = self.new_id();
        let compiled = self.compiled.get(&start).ok_or_else(|| {
            "this with-bpf-session form was not compiled (it must appear literally in the file)"
                .to_string()
        })?;
        let object = Object::load(&compiled.elf, &LoadOptions::default())
            .map_err(|e| format!("cannot load the session's BPF programs: {e}"))?;
        let session = take_parts(id, object, compiled)?;
        self.open.push(session);
        Ok(id)
    }

    /// Loads an ELF object (`load-bpf-object`): every map and program, by its ELF name.
    pub fn open_object(&mut self, elf: &[u8]) -> Result<u64, String> {
        let object = Object::load(elf, &LoadOptions::default()).map_err(|e| e.to_string())?;
        let id = self.new_id();
        let (programs, maps) = object.into_parts();
        let mut session = Session::new(id);
        session.maps = maps
            .into_iter()
            .map(|map| Rc::new(MapHandle::new(map.name().to_string(), id, map)))
            .collect();
        session.programs = programs
            .into_iter()
            .map(|program| Rc::new(ProgHandle::new(program.name().to_string(), id, program)))
            .collect();
        self.open.push(session);
        Ok(id)
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Keeps `link` until its session closes or [`Runtime::detach`]; None when the session has
    /// ended (the link is dropped: detached).
    pub fn add_link(&mut self, session: u64, link: Link) -> Option<LinkHandle> {
        let id = self.new_id();
        let open = self.open.iter_mut().find(|s| s.id == session)?;
        open.links.push((id, link));
        Some(LinkHandle { id, session })
    }

    /// Ends an attachment; false when it had already ended.
    pub fn detach(&mut self, handle: &LinkHandle) -> bool {
        let Some(session) = self.open.iter_mut().find(|s| s.id == handle.session) else {
            return false;
        };
        let before = session.links.len();
        session.links.retain(|(id, _)| *id != handle.id);
        session.links.len() < before
    }

    /// The program of an open session whose fd is `fd` (`prog-info-fd` values).
    pub fn program_by_fd(&self, fd: i32) -> Option<Rc<ProgHandle>> {
        use std::os::fd::{AsFd, AsRawFd};
        self.open.iter().rev().find_map(|s| {
            s.programs
                .iter()
                .find(|p| p.with(|p| p.as_fd().as_raw_fd() == fd).unwrap_or(false))
                .cloned()
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

/// Takes the declared maps and programs out of a loaded object, by their Lisp names.
fn take_parts(id: u64, mut object: Object, compiled: &CompiledSession) -> Result<Session, String> {
    let mut session = Session::new(id);
    for name in &compiled.maps {
        let map = object
            .take_map(&whistler_object::symbol_name(name))
            .ok_or_else(|| format!("internal error: map `{name}` missing from the object"))?;
        session
            .maps
            .push(Rc::new(MapHandle::new(name.clone(), id, map)));
    }
    for name in &compiled.progs {
        let program = object
            .take_program(&whistler_object::symbol_name(name))
            .ok_or_else(|| format!("internal error: program `{name}` missing from the object"))?;
        session
            .programs
            .push(Rc::new(ProgHandle::new(name.clone(), id, program)));
    }
    Ok(session)
}
