//! The symbol table. What the evaluator defines before a program runs (builtins, special
//! operators and native standard macros, deferred library definitions) is made mostly for
//! symbols the program never mentions, so a definition of a symbol not interned yet waits in a
//! table of pending definitions, keyed by name, and is installed when the symbol is first
//! interned or looked up, or when anything lists the table. An evaluator so pays for the
//! names a program uses; what each symbol holds once seen is exactly what defining it eagerly
//! would have left.

use crate::library::DeferredDefinition;
use crate::special::{is_redefinable, SpecialForm};
use crate::value::{BuiltinFn, Function, Sym, SymData, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// The tables' maps: keyed by symbol names, hashed with [`NameHasher`].
type NameMap<K, V> = HashMap<K, V, BuildHasherDefault<NameHasher>>;

pub(crate) struct SymbolTable {
    /// Interned symbols by key: the name, or `package:name` for a package of its own.
    interned: RefCell<NameMap<String, Sym>>,
    /// Definitions of symbols not interned yet, by name (symbols without a package).
    pending: RefCell<NameMap<Cow<'static, str>, Pending>>,
}

/// The definitions a symbol not interned yet will receive.
#[derive(Default)]
struct Pending {
    form: Option<SpecialForm>,
    builtin: Option<(&'static str, BuiltinFn)>,
    deferred: Option<DeferredDefinition>,
    /// A constant's value (`pi`, the kernel's `+xdp-pass+`...).
    constant: Option<Value>,
}

impl Pending {
    fn install(self, sym: &SymData) {
        if let Some(value) = self.constant {
            make_constant(sym, value);
        }
        sym.form.set(self.form);
        if let Some((name, f)) = self.builtin {
            let function = Value::Func(Rc::new(Function::Builtin { name, f }));
            sym.function.replace(Some(function));
        }
        sym.deferred.replace(self.deferred);
    }
}

/// Room for the definitions an evaluator starts with, so that filling the tables does not
/// rehash them.
const STARTING_PENDING: usize = 1024;
const STARTING_INTERNED: usize = 256;

impl Default for SymbolTable {
    fn default() -> SymbolTable {
        SymbolTable {
            interned: RefCell::new(NameMap::with_capacity_and_hasher(
                STARTING_INTERNED,
                Default::default(),
            )),
            pending: RefCell::new(NameMap::with_capacity_and_hasher(
                STARTING_PENDING,
                Default::default(),
            )),
        }
    }
}

impl SymbolTable {
    /// The symbol interned under `key`, installing its pending definitions if it has any.
    pub(crate) fn get(&self, key: &str) -> Option<Sym> {
        if let Some(sym) = self.interned.borrow().get(key) {
            return Some(sym.clone());
        }
        let pending = self.pending.borrow_mut().remove(key)?;
        let sym = Rc::new(SymData::new(key.to_string(), None, true));
        pending.install(&sym);
        self.interned
            .borrow_mut()
            .insert(key.to_string(), sym.clone());
        Some(sym)
    }

    /// The symbol interned under `key`, made by `make` when there is none.
    pub(crate) fn intern(&self, key: &str, make: impl FnOnce() -> SymData) -> Sym {
        if let Some(sym) = self.get(key) {
            return sym;
        }
        let sym = Rc::new(make());
        self.interned
            .borrow_mut()
            .insert(key.to_string(), sym.clone());
        sym
    }

    /// Makes `name` (a symbol without package) a special operator or native standard macro.
    pub(crate) fn define_form(&self, name: &'static str, form: SpecialForm) {
        match self.interned.borrow().get(name) {
            Some(sym) => sym.form.set(Some(form)),
            None => self.pending(Cow::Borrowed(name)).form = Some(form),
        }
    }

    /// Defines the builtin function `name` (a symbol without package).
    pub(crate) fn define_builtin(&self, name: &'static str, f: BuiltinFn) {
        match self.interned.borrow().get(name) {
            Some(sym) => {
                let function = Value::Func(Rc::new(Function::Builtin { name, f }));
                sym.function.replace(Some(function));
            }
            None => self.pending(Cow::Borrowed(name)).builtin = Some((name, f)),
        }
    }

    /// Makes `name` (a symbol without package) a constant of value `value`.
    pub(crate) fn define_constant(&self, name: Cow<'static, str>, value: Value) {
        match self.interned.borrow().get(name.as_ref()) {
            Some(sym) => make_constant(sym, value),
            None => self.pending(name).constant = Some(value),
        }
    }

    /// Gives `name` (a symbol without package) a deferred library definition, which replaces a
    /// native standard macro of that name and an earlier deferred definition
    /// (`special::forget_standard_macro`).
    pub(crate) fn defer(&self, name: Cow<'static, str>, definition: DeferredDefinition) {
        if let Some(sym) = self.interned.borrow().get(name.as_ref()) {
            crate::special::forget_standard_macro(sym);
            sym.deferred.replace(Some(definition));
            return;
        }
        let mut pending = self.pending.borrow_mut();
        let pending = pending.entry(name).or_default();
        if pending.form.is_some_and(is_redefinable) {
            pending.form = None;
        }
        pending.deferred = Some(definition);
    }

    fn pending(&self, name: Cow<'static, str>) -> std::cell::RefMut<'_, Pending> {
        std::cell::RefMut::map(self.pending.borrow_mut(), |p| p.entry(name).or_default())
    }

    /// Every symbol with its key, every pending definition installed first.
    pub(crate) fn entries(&self) -> Vec<(String, Sym)> {
        let names: Vec<Cow<'static, str>> = self.pending.borrow().keys().cloned().collect();
        for name in names {
            self.get(&name);
        }
        let interned = self.interned.borrow();
        interned
            .iter()
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect()
    }

    /// Every symbol, every pending definition installed first.
    pub(crate) fn symbols(&self) -> Vec<Sym> {
        self.entries().into_iter().map(|(_, s)| s).collect()
    }

    /// Drops every symbol's cells (they may hold closures referring back to symbols).
    pub(crate) fn clear_cells(&self) {
        for sym in self.interned.borrow().values() {
            sym.clear();
        }
    }
}

/// What defining `sym` as a constant of value `value` sets.
fn make_constant(sym: &SymData, value: Value) {
    sym.special.set(true);
    sym.constant.set(true);
    sym.value.replace(Some(value));
}

/// A hash for symbol names, which are short: eight bytes at a time, multiplied in, and mixed at
/// the end (splitmix64's finalizer) so that the high bits the map's control bytes use vary too.
/// Much cheaper than the standard library's SipHash, whose resistance to chosen collisions a
/// compiler's symbol table does not need.
#[derive(Default)]
pub(crate) struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        let word = u64::from_le_bytes(last) ^ (bytes.len() as u64) << 56;
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }

    fn write_u8(&mut self, byte: u8) {
        self.write(&[byte]);
    }

    fn finish(&self) -> u64 {
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
}
