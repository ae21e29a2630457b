//! The symbol table. What the evaluator defines before a program runs (builtins, special
//! operators and native standard macros, deferred library definitions, library variables whose
//! values need no evaluation) is made mostly for
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
use whistler_syntax::{ReadOptions, VariableOperator};

/// The tables' maps: keyed by symbol names, hashed with [`NameHasher`].
type NameMap<K, V> = HashMap<K, V, BuildHasherDefault<NameHasher>>;

pub(crate) struct SymbolTable {
    /// Interned symbols by key: the name, or `package:name` for a package of its own.
    interned: RefCell<NameMap<String, Sym>>,
    /// Definitions of symbols not interned yet, by name (symbols without a package).
    pending: RefCell<NameMap<Cow<'static, str>, Pending>>,
    /// Tables of constants (symbols without a package) asked when a name is neither interned
    /// nor pending, in the order they were added.
    constant_tables: RefCell<Vec<Rc<dyn ConstantTable>>>,
}

/// Named constants an evaluator defines without listing them first, such as the kernel's
/// (`+xdp-pass+`): asked for a name when the symbol is first interned, for all names when
/// anything lists the symbol table ([`crate::Interp::define_constant_table`]).
pub trait ConstantTable {
    /// The value of the constant `name` (a symbol without a package), if the table holds it.
    fn value(&self, name: &str) -> Option<Value>;
    /// The name of every constant the table holds.
    fn names(&self) -> Vec<String>;
}

/// The definitions a symbol not interned yet will receive. Kept small, the rarer ones boxed:
/// the table holds hundreds, and every page of it an evaluator's start touches costs a fault.
#[derive(Default)]
struct Pending {
    form: Option<SpecialForm>,
    deferred: Option<DeferredDefinition>,
    rare: Option<Box<RarePending>>,
}

/// The definitions few pending symbols have.
#[derive(Default)]
struct RarePending {
    builtin: Option<(&'static str, BuiltinFn)>,
    deferred_setf: Option<DeferredDefinition>,
    /// A constant's value (`pi`, the kernel's `+xdp-pass+`...).
    constant: Option<Value>,
    /// A library's `defvar`, `defparameter` or `defconstant` (at most one of this and
    /// `constant`: a second definition of a variable installs the first).
    variable: Option<LibraryVariable>,
}

/// A library's variable definition whose value needs no evaluation.
pub(crate) struct LibraryVariable {
    pub(crate) operator: VariableOperator,
    pub(crate) init: VariableValue,
}

/// The value a [`LibraryVariable`] definition gives.
pub(crate) enum VariableValue {
    Value(Value),
    /// A quoted datum's text (lists, symbols, integers, strings and characters only), read when
    /// the variable is installed.
    Datum(&'static str),
}

impl LibraryVariable {
    /// What evaluating the definition does to `sym`.
    fn define(self, sym: &SymData, symbols: &SymbolTable) {
        if self.operator != VariableOperator::Defvar || sym.value.borrow().is_none() {
            let value = match self.init {
                VariableValue::Value(value) => value,
                VariableValue::Datum(text) => {
                    // The library's splitting read this text with the same options already.
                    let read = whistler_syntax::read_str_with(text, ReadOptions::default());
                    read.forms.first().map_or(Value::Nil, |datum| {
                        crate::convert::form_value(symbols, datum, false)
                    })
                }
            };
            sym.value.replace(Some(value));
        }
        match self.operator {
            VariableOperator::Defconstant => sym.constant.set(true),
            _ => sym.special.set(true),
        }
    }
}

impl Pending {
    fn install(self, sym: &SymData, symbols: &SymbolTable) {
        let rare = self.rare.map(|rare| *rare).unwrap_or_default();
        if let Some(value) = rare.constant {
            make_constant(sym, value);
        }
        if let Some(variable) = rare.variable {
            variable.define(sym, symbols);
        }
        sym.form.set(self.form);
        if let Some((name, f)) = rare.builtin {
            let function = Value::Func(Rc::new(Function::Builtin { name, f }));
            sym.function.replace(Some(function));
        }
        sym.deferred.replace(self.deferred);
        sym.deferred_setf.replace(rare.deferred_setf);
    }

    fn rare(&mut self) -> &mut RarePending {
        self.rare.get_or_insert_with(Box::default)
    }

    fn has_builtin(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.builtin.is_some())
    }

    /// True when the symbol's value is defined (a constant or a library variable).
    fn defines_value(&self) -> bool {
        let rare = self.rare.as_ref();
        rare.is_some_and(|r| r.constant.is_some() || r.variable.is_some())
    }
}

/// Room for the definitions an evaluator starts with, so that filling the tables does not
/// rehash them.
const STARTING_PENDING: usize = 512;
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
            constant_tables: RefCell::default(),
        }
    }
}

impl SymbolTable {
    /// The symbol interned under `key`, installing its pending definitions if it has any.
    pub(crate) fn get(&self, key: &str) -> Option<Sym> {
        if let Some(sym) = self.interned.borrow().get(key) {
            return Some(sym.clone());
        }
        let pending = self.pending.borrow_mut().remove(key);
        let found = pending.is_some();
        let pending = pending.unwrap_or_default();
        // The builtin tables and constant tables come first: what was defined later, and waits
        // in `pending`, replaces them.
        let (mut builtin, mut constant) = (None, None);
        if !key.contains(':') {
            if !pending.has_builtin() {
                builtin = crate::builtins::builtin(key);
            }
            if !pending.defines_value() {
                constant = self.table_constant(key);
            }
        }
        if !found && builtin.is_none() && constant.is_none() {
            return None;
        }
        let sym = Rc::new(SymData::new(key.to_string(), None, true));
        // Interned before installing: a variable's datum may name the symbol itself.
        self.interned
            .borrow_mut()
            .insert(key.to_string(), sym.clone());
        if let Some((name, f)) = builtin {
            let function = Value::Func(Rc::new(Function::Builtin { name, f }));
            sym.function.replace(Some(function));
        }
        if let Some(value) = constant {
            make_constant(&sym, value);
        }
        pending.install(&sym, self);
        Some(sym)
    }

    /// The symbol interned under `key`, made by `make` when there is none; a new keyword is its
    /// own value.
    pub(crate) fn intern(&self, key: &str, make: impl FnOnce() -> SymData) -> Sym {
        if let Some(sym) = self.get(key) {
            return sym;
        }
        let sym = Rc::new(make());
        if sym.is_keyword() {
            sym.value.replace(Some(Value::sym(&sym)));
        }
        self.interned
            .borrow_mut()
            .insert(key.to_string(), sym.clone());
        sym
    }

    /// The symbol `name` of `package` (`None`, or a package of its own: `package_key`).
    pub(crate) fn intern_in(&self, package: Option<&str>, name: &str) -> Sym {
        let make = || SymData::new(name.to_string(), package.map(String::from), true);
        match package {
            None => self.intern(name, make),
            Some(p) => self.intern(&format!("{p}:{name}"), make),
        }
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
            None => self.pending(Cow::Borrowed(name)).rare().builtin = Some((name, f)),
        }
    }

    /// The value a constant table gives `key`, a symbol without a package.
    fn table_constant(&self, key: &str) -> Option<Value> {
        let tables = self.constant_tables.borrow();
        tables.iter().rev().find_map(|table| table.value(key))
    }

    /// Adds a table of constants; those already interned are made constants now.
    pub(crate) fn add_constant_table(&self, table: Rc<dyn ConstantTable>) {
        let interned: Vec<Sym> = self.interned.borrow().values().cloned().collect();
        for sym in interned.iter().filter(|s| s.package.is_none()) {
            if let Some(value) = table.value(&sym.name) {
                make_constant(sym, value);
            }
        }
        for (name, pending) in self.pending.borrow_mut().iter_mut() {
            if pending.defines_value() {
                if let Some(value) = table.value(name) {
                    pending.rare().constant = Some(value);
                    pending.rare().variable = None;
                }
            }
        }
        self.constant_tables.borrow_mut().push(table);
    }

    /// Makes `name` (a symbol without package) a constant of value `value`.
    pub(crate) fn define_constant(&self, name: Cow<'static, str>, value: Value) {
        match self.pending_value_cell(name.as_ref()) {
            Some(sym) => make_constant(&sym, value),
            None => self.pending(name).rare().constant = Some(value),
        }
    }

    /// Defines the library variable `name` (a symbol without package) as `variable` says.
    pub(crate) fn define_variable(&self, name: Cow<'static, str>, variable: LibraryVariable) {
        match self.pending_value_cell(name.as_ref()) {
            Some(sym) => variable.define(&sym, self),
            None => self.pending(name).rare().variable = Some(variable),
        }
    }

    /// The symbol `name` when it is interned, or has a pending constant or variable definition
    /// or a constant table's value (installed then, so that definitions of its value apply in
    /// order); `None` when a value definition of it can wait.
    fn pending_value_cell(&self, name: &str) -> Option<Sym> {
        if let Some(sym) = self.interned.borrow().get(name) {
            return Some(sym.clone());
        }
        let defines_value = self
            .pending
            .borrow()
            .get(name)
            .is_some_and(Pending::defines_value);
        if defines_value || (!name.contains(':') && self.table_constant(name).is_some()) {
            return self.get(name);
        }
        None
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

    /// Gives `name` (a symbol without package) a deferred library `(defun (setf NAME) ...)`.
    pub(crate) fn defer_setf(&self, name: Cow<'static, str>, definition: DeferredDefinition) {
        match self.interned.borrow().get(name.as_ref()) {
            Some(sym) => drop(sym.deferred_setf.replace(Some(definition))),
            None => self.pending(name).rare().deferred_setf = Some(definition),
        }
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
        for name in crate::builtins::builtin_names() {
            self.get(name);
        }
        let tables = self.constant_tables.borrow().clone();
        for name in tables.iter().flat_map(|table| table.names()) {
            self.get(&name);
        }
        let interned = self.interned.borrow();
        interned
            .iter()
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect()
    }

    /// The keys of every symbol `wanted` accepts, sorted, every pending definition installed
    /// first.
    pub(crate) fn sorted_keys(&self, wanted: impl Fn(&Sym) -> bool) -> Vec<String> {
        let mut keys: Vec<String> = self
            .entries()
            .into_iter()
            .filter(|(_, s)| wanted(s))
            .map(|(key, _)| key)
            .collect();
        keys.sort();
        keys
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
