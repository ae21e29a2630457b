//! Loading a session: options, the loaded object, and the trait generated session types
//! implement.

use crate::{Error, Result};
use std::marker::PhantomData;
use std::path::PathBuf;
use whistler_loader::LoadOptions;

/// Implemented by the types `session!` declares.
pub trait Session: Sized {
    /// The BPF ELF object compiled at build time.
    const OBJECT: &'static [u8];
    /// Takes the session's programs and maps out of a freshly loaded object.
    fn from_loaded(loaded: &mut LoadedObject) -> Result<Self>;
    /// The session's maps that hold keyed entries (hashes, arrays, their per-CPU and LRU
    /// kinds...), each with its name as written in the Lisp: what `whistler::metrics` serves.
    fn keyed_maps(&self) -> Vec<(&'static str, &whistler_loader::Map)> {
        Vec::new()
    }
}

/// A loaded object whose programs and maps are handed to a session's fields; what is not
/// handed over closes with it.
pub struct LoadedObject {
    session: whistler_session::Session,
}

impl LoadedObject {
    /// Takes the program `name` (the Lisp name in snake case) out of the object for a session field.
    pub fn take_program(&mut self, name: &str) -> Result<crate::Program> {
        self.session
            .take_program(name)
            .ok_or_else(|| Error::NoSuchProgram(name.to_string()))
    }

    /// Takes the map `name` out of the object as the handle type `M`, checking its key and value sizes.
    pub fn take_map<M: crate::maps::FromMap>(&mut self, name: &str) -> Result<M> {
        let map = self
            .session
            .take_map(name)
            .ok_or_else(|| Error::NoSuchMap(name.to_string()))?;
        M::from_map(map)
    }
}

/// Options for [`Session`] loading; `S::builder().pin_path(...).max_entries(...).load()`.
pub struct SessionBuilder<S> {
    options: LoadOptions,
    _session: PhantomData<S>,
}

impl<S: Session> Default for SessionBuilder<S> {
    fn default() -> Self {
        SessionBuilder::new()
    }
}

impl<S: Session> SessionBuilder<S> {
    /// Options with the loader's defaults: no pinning, sizes as the Lisp declares them.
    pub fn new() -> Self {
        SessionBuilder {
            options: LoadOptions::default(),
            _session: PhantomData,
        }
    }

    /// Pins every map under `dir` (bpffs) and reuses maps already pinned there.
    pub fn pin_path(mut self, dir: impl Into<PathBuf>) -> Self {
        self.options = self.options.pin_dir(dir).pin_all_maps(true);
        self
    }

    /// Overrides a map's `max_entries` (by its Lisp name, `pkt-count`, or its C name, `pkt_count`).
    pub fn max_entries(mut self, map: &str, entries: u32) -> Self {
        // The object names maps by C identifiers, and the loader matches overrides on those.
        self.options
            .max_entries
            .insert(whistler_object::symbol_name(map), entries);
        self
    }

    /// Sets the bytes of a `.rodata` variable before load.
    pub fn rodata(mut self, symbol: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.options = self.options.rodata_symbol(symbol, bytes);
        self
    }

    /// The verifier log level used for every load (1 or 2 for a full log even on success).
    pub fn verifier_log_level(mut self, level: u32) -> Self {
        self.options = self.options.log_level(level);
        self
    }

    /// Relocates kernel struct reads (CO-RE) for the kernel whose BTF is in the file `path`
    /// instead of `/sys/kernel/btf/vmlinux`: for kernels built without it (btfhub-style
    /// files). The layouts `session!` compiled against come from the build machine's kernel,
    /// or from the file `$WHISTLER_BTF` names while it compiles.
    pub fn kernel_btf(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.kernel_btf = Some(path.into());
        self
    }

    /// Creates the maps and loads the programs.
    pub fn load(self) -> Result<S> {
        let session = whistler_session::Session::load(S::OBJECT, &self.options)?;
        S::from_loaded(&mut LoadedObject { session })
    }
}
