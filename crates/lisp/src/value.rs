//! Lisp values: symbols with their value/function cells, conses that remember the span they were
//! read from, integers that grow into bignums, strings (mutable, with identity), characters,
//! vectors, hash tables, functions, conditions and opaque host objects.

use crate::special::SpecialForm;
use num_bigint::BigInt;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use whistler_syntax::Span;

/// The most conses any walk along a list visits. Lists this long cannot be built within the
/// step and size limits, so a walk that gets this far is going round a circular list: it stops
/// instead of hanging.
pub const MAX_LIST_WALK: usize = crate::builtins::MAX_ELEMENTS + 1;

/// The span of values that were not read from source (built by running code).
pub const NO_SPAN: Span = Span {
    start: u32::MAX,
    end: u32::MAX,
};

/// A symbol. Interned symbols are unique per (package, name), so identity is pointer identity.
pub type Sym = Rc<SymData>;

pub struct SymData {
    /// The canonical (lower-case) name.
    pub name: String,
    /// `None` for ordinary symbols, `Some("keyword")` for keywords, else the package written.
    pub package: Option<String>,
    pub(crate) interned: bool,
    pub(crate) value: RefCell<Option<Value>>,
    pub(crate) function: RefCell<Option<Value>>,
    pub(crate) macro_fn: RefCell<Option<Value>>,
    pub(crate) special: Cell<bool>,
    pub(crate) constant: Cell<bool>,
    pub(crate) plist: RefCell<Value>,
    pub(crate) form: Cell<Option<SpecialForm>>,
    /// The `(setf name)` function (`defun (setf name)`, `defsetf`): called with the new value
    /// first, then the place's arguments.
    pub(crate) setf_function: RefCell<Option<Value>>,
    /// A library `defun` or `defmacro` of this symbol, read but not evaluated yet: it is
    /// evaluated when the symbol is first used as a function or macro (`library.rs`).
    pub(crate) deferred: RefCell<Option<crate::library::DeferredDefinition>>,
    /// A library `(defun (setf NAME) ...)` of this symbol, not evaluated yet: evaluated when a
    /// place or `(function (setf NAME))` first needs it (`library.rs`).
    pub(crate) deferred_setf: RefCell<Option<crate::library::DeferredDefinition>>,
}

impl SymData {
    pub(crate) fn new(name: String, package: Option<String>, interned: bool) -> SymData {
        let keyword = package.as_deref() == Some("keyword");
        SymData {
            name,
            package,
            interned,
            value: RefCell::new(None),
            function: RefCell::new(None),
            macro_fn: RefCell::new(None),
            special: Cell::new(false),
            constant: Cell::new(keyword),
            plist: RefCell::new(Value::Nil),
            form: Cell::new(None),
            setf_function: RefCell::new(None),
            deferred: RefCell::new(None),
            deferred_setf: RefCell::new(None),
        }
    }
    pub fn is_keyword(&self) -> bool {
        self.package.as_deref() == Some("keyword")
    }
    /// The name as Common Lisp shows it (`symbol-name`): upper case.
    pub fn lisp_name(&self) -> String {
        self.name.to_uppercase()
    }
    /// True when the symbol names a global macro, defined or deferred.
    pub(crate) fn has_macro(&self) -> bool {
        self.macro_fn.borrow().is_some()
            || self.deferred.borrow().as_ref().is_some_and(|d| d.is_macro)
    }
    /// True when the symbol names a global function, defined or deferred.
    pub(crate) fn has_function(&self) -> bool {
        self.function.borrow().is_some()
            || self.deferred.borrow().as_ref().is_some_and(|d| !d.is_macro)
    }
    /// Drops the cells (they may hold closures that refer back to this symbol).
    pub(crate) fn clear(&self) {
        self.deferred.replace(None);
        self.deferred_setf.replace(None);
        self.value.replace(None);
        self.function.replace(None);
        self.macro_fn.replace(None);
        self.plist.replace(Value::Nil);
        self.setf_function.replace(None);
    }
}

impl std::fmt::Debug for SymData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.package {
            Some(p) => write!(f, "{p}:{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// A cons cell. `span` is the source text of the list that starts here (or [`NO_SPAN`]).
pub struct Cons {
    pub(crate) car: RefCell<Value>,
    pub(crate) cdr: RefCell<Value>,
    pub span: Span,
}

impl Cons {
    pub fn car(&self) -> Value {
        self.car.borrow().clone()
    }
    pub fn cdr(&self) -> Value {
        self.cdr.borrow().clone()
    }
}

impl Drop for Cons {
    /// Drops long and deep lists without recursion.
    fn drop(&mut self) {
        // Walk the cdr chain in a loop; cars that are conses wait in `pending` (which only
        // allocates when there are any), so lists of atoms drop without allocating.
        let mut pending: Vec<Value> = Vec::new();
        let take = |cell: &mut Cons, pending: &mut Vec<Value>| {
            let car = std::mem::replace(cell.car.get_mut(), Value::Nil);
            if matches!(car, Value::Cons(_)) {
                pending.push(car);
            }
            std::mem::replace(cell.cdr.get_mut(), Value::Nil)
        };
        let mut next = take(self, &mut pending);
        loop {
            if let Value::Cons(rc) = next {
                if let Ok(mut cell) = Rc::try_unwrap(rc) {
                    next = take(&mut cell, &mut pending);
                    continue;
                }
            }
            match pending.pop() {
                Some(value) => next = value,
                None => return,
            }
        }
    }
}

pub type BuiltinFn = fn(&mut crate::Interp, &[Value], Span) -> Result<Value, crate::error::Flow>;
/// A host function registered with [`crate::Interp::define_builtin`].
pub type HostFn = dyn FnMut(&mut crate::Interp, &[Value], Span) -> Result<Value, crate::EvalError>;

pub enum Function {
    Builtin {
        name: &'static str,
        f: BuiltinFn,
    },
    Host {
        name: String,
        f: RefCell<Box<HostFn>>,
    },
    Closure(Closure),
}

pub struct Closure {
    pub name: Option<Sym>,
    pub(crate) params: Rc<crate::lambda_list::LambdaList>,
    pub(crate) body: Value,
    pub(crate) env: Rc<crate::env::Env>,
    /// The block name `return-from` uses inside the body (the function's name for `defun`).
    pub(crate) block: Option<Sym>,
    pub span: Span,
}

impl Function {
    pub fn name(&self) -> String {
        match self {
            Function::Builtin { name, .. } => name.to_string(),
            Function::Host { name, .. } => name.clone(),
            Function::Closure(c) => c
                .name
                .as_ref()
                .map_or_else(|| "lambda".to_string(), |s| s.name.clone()),
        }
    }
}

/// A condition object, as `handler-case` binds it and `error` signals it.
pub struct Condition {
    /// The condition's type name (`simple-error`, `interrupt`, or a `define-condition` name).
    pub ctype: Sym,
    pub message: String,
    /// Slot values by slot name (`define-condition` slots, `:format-control`...).
    pub slots: Vec<(String, Value)>,
}

/// A string's characters. Strings are mutable and have identity, like vectors: `(setf (char s
/// 0) #\x)`, `fill`, `replace`, `nstring-upcase`, `vector-push-extend` change the one object
/// every reference sees. Readers take a snapshot of the text ([`LispString::text`], a reference
/// count, no copy); a change copies the text only while such a snapshot is still held, so no
/// borrow is ever held across Lisp code and a string changed while it is being read is no
/// panic. A string made with a fill pointer is one whose length is its fill pointer.
pub struct LispString {
    text: RefCell<Rc<String>>,
    /// The number of characters (equal to the number of bytes when the text is ASCII, so
    /// character indexes are byte indexes).
    count: Cell<usize>,
}

impl LispString {
    pub fn new(text: String) -> LispString {
        LispString {
            count: Cell::new(text.chars().count()),
            text: RefCell::new(Rc::new(text)),
        }
    }
    /// The current text.
    pub fn text(&self) -> Rc<String> {
        self.text.borrow().clone()
    }
    /// The number of characters.
    pub fn len(&self) -> usize {
        self.count.get()
    }
    pub fn is_empty(&self) -> bool {
        self.count.get() == 0
    }
    /// The byte range of the character at character index `i`.
    fn byte_range(&self, text: &str, i: usize) -> Option<std::ops::Range<usize>> {
        if text.len() == self.count.get() {
            return (i < text.len()).then_some(i..i + 1);
        }
        text.char_indices()
            .nth(i)
            .map(|(at, c)| at..at + c.len_utf8())
    }
    /// The character at character index `i`.
    pub fn char_at(&self, i: usize) -> Option<char> {
        let text = self.text.borrow();
        let range = self.byte_range(&text, i)?;
        text[range].chars().next()
    }
    /// Replaces the character at index `i`; false when `i` is out of bounds.
    pub fn set_char(&self, i: usize, c: char) -> bool {
        let mut cell = self.text.borrow_mut();
        let Some(range) = self.byte_range(&cell, i) else {
            return false;
        };
        Rc::make_mut(&mut cell).replace_range(range, c.encode_utf8(&mut [0u8; 4]));
        true
    }
    /// Appends text (`vector-push-extend`, output to a string with a fill pointer).
    pub fn push_str(&self, more: &str) {
        let mut cell = self.text.borrow_mut();
        Rc::make_mut(&mut cell).push_str(more);
        self.count.set(self.count.get() + more.chars().count());
    }
    /// Replaces the whole text (in-place `sort`, `nreverse`, `nstring-upcase`).
    pub fn set_text(&self, text: String) {
        self.count.set(text.chars().count());
        *self.text.borrow_mut() = Rc::new(text);
    }
    /// The text, leaving the string empty (`get-output-stream-string`).
    pub fn take(&self) -> String {
        self.count.set(0);
        let text = std::mem::take(&mut *self.text.borrow_mut());
        Rc::try_unwrap(text).unwrap_or_else(|shared| shared.to_string())
    }
    /// Removes and returns the last character (`vector-pop`).
    pub fn pop(&self) -> Option<char> {
        let mut cell = self.text.borrow_mut();
        let c = Rc::make_mut(&mut cell).pop()?;
        self.count.set(self.count.get() - 1);
        Some(c)
    }
    /// Keeps the first `n` characters (`(setf (fill-pointer s) n)`).
    pub fn truncate(&self, n: usize) {
        let mut cell = self.text.borrow_mut();
        if n >= self.count.get() {
            return;
        }
        let at = self.byte_range(&cell, n).map_or(cell.len(), |r| r.start);
        Rc::make_mut(&mut cell).truncate(at);
        self.count.set(n);
    }
}

impl std::fmt::Display for LispString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text.borrow())
    }
}

/// How a hash table compares keys.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HashTest {
    Eq,
    Eql,
    Equal,
    Equalp,
}

pub struct HashTable {
    pub test: HashTest,
    pub(crate) map: indexmap::IndexMap<crate::hash::HashKey, (Value, Value)>,
}

/// A Lisp value. Atoms read from source remember their span; equality ignores spans.
#[derive(Clone)]
pub enum Value {
    Nil,
    Int(i64, Span),
    Big(Rc<BigInt>),
    /// A ratio in lowest terms whose denominator is above 1 (`(/ 1 3)`).
    Ratio(Rc<num_rational::BigRational>),
    /// Floating-point numbers exist only in host code read with `ReadOptions::host_code`
    /// (`(sleep 0.5)`); BPF programs have none.
    Float(f64),
    Sym(Sym, Span),
    /// A string: mutable, with identity (see [`LispString`]).
    Str(Rc<LispString>, Span),
    Char(char, Span),
    Cons(Rc<Cons>),
    Vector(Rc<RefCell<Vec<Value>>>),
    Hash(Rc<RefCell<HashTable>>),
    Func(Rc<Function>),
    Condition(Rc<Condition>),
    /// An opaque host object (a map handle, a ring consumer, ...).
    Foreign(Rc<dyn Any>),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::printer::prin1(self))
    }
}

impl Value {
    pub fn int(n: i64) -> Value {
        Value::Int(n, NO_SPAN)
    }
    /// A fresh string.
    pub fn string(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(LispString::new(s.into())), NO_SPAN)
    }
    pub fn sym(s: &Sym) -> Value {
        Value::Sym(s.clone(), NO_SPAN)
    }
    pub fn foreign<T: Any>(object: T) -> Value {
        Value::Foreign(Rc::new(object))
    }
    pub fn cons(car: Value, cdr: Value) -> Value {
        Value::cons_at(car, cdr, NO_SPAN)
    }
    pub fn cons_at(car: Value, cdr: Value, span: Span) -> Value {
        Value::Cons(Rc::new(Cons {
            car: RefCell::new(car),
            cdr: RefCell::new(cdr),
            span,
        }))
    }
    /// A proper list of `items`.
    pub fn list(items: impl IntoIterator<Item = Value, IntoIter: DoubleEndedIterator>) -> Value {
        Value::list_with_tail(items, Value::Nil)
    }
    pub fn list_with_tail(
        items: impl IntoIterator<Item = Value, IntoIter: DoubleEndedIterator>,
        tail: Value,
    ) -> Value {
        items
            .into_iter()
            .rev()
            .fold(tail, |rest, item| Value::cons(item, rest))
    }
    pub fn bool(b: bool, t: &Sym) -> Value {
        if b {
            Value::sym(t)
        } else {
            Value::Nil
        }
    }
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
    pub fn truthy(&self) -> bool {
        !self.is_nil()
    }
    pub fn as_cons(&self) -> Option<&Rc<Cons>> {
        match self {
            Value::Cons(c) => Some(c),
            _ => None,
        }
    }
    pub fn as_sym(&self) -> Option<&Sym> {
        match self {
            Value::Sym(s, _) => Some(s),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n, _) => Some(*n),
            _ => None,
        }
    }
    /// The text of a string (a snapshot: later changes to the string do not show in it).
    pub fn as_str(&self) -> Option<Rc<String>> {
        match self {
            Value::Str(s, _) => Some(s.text()),
            _ => None,
        }
    }
    /// The downcast host object, when this is a [`Value::Foreign`] of type `T`.
    pub fn downcast<T: Any>(&self) -> Option<Rc<T>> {
        match self {
            Value::Foreign(rc) => rc.clone().downcast::<T>().ok(),
            _ => None,
        }
    }
    /// The span this value was read from, or [`NO_SPAN`].
    pub fn span(&self) -> Span {
        match self {
            Value::Int(_, s) | Value::Sym(_, s) | Value::Str(_, s) | Value::Char(_, s) => *s,
            Value::Cons(c) => c.span,
            _ => NO_SPAN,
        }
    }
    pub fn car(&self) -> Value {
        match self {
            Value::Cons(c) => c.car(),
            _ => Value::Nil,
        }
    }
    pub fn cdr(&self) -> Value {
        match self {
            Value::Cons(c) => c.cdr(),
            _ => Value::Nil,
        }
    }
    /// Iterates the elements of a list (stops at a non-cons tail).
    pub fn iter(&self) -> ListIter {
        ListIter {
            next: self.clone(),
            walked: 0,
        }
    }
    /// The elements of a list and what ends it: `Nil` for a proper list, the atom after the dot
    /// for a dotted one, and `Nil` again when the walk stops at [`MAX_LIST_WALK`] cells.
    pub fn items_and_tail(&self) -> (Vec<Value>, Value) {
        let mut items = Vec::new();
        let mut rest = self.clone();
        while let Value::Cons(c) = rest {
            if items.len() == MAX_LIST_WALK {
                return (items, Value::Nil);
            }
            items.push(c.car());
            rest = c.cdr();
        }
        (items, rest)
    }
    /// The elements of a proper list, or `None` for a dotted or circular-looking list.
    pub fn to_vec(&self) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        let mut cur = self.clone();
        loop {
            if out.len() >= MAX_LIST_WALK {
                return None;
            }
            match cur {
                Value::Nil => return Some(out),
                Value::Cons(c) => {
                    out.push(c.car());
                    cur = c.cdr();
                }
                _ => return None,
            }
        }
    }
}

pub struct ListIter {
    next: Value,
    walked: usize,
}

impl Iterator for ListIter {
    type Item = Value;
    fn next(&mut self) -> Option<Value> {
        let Value::Cons(c) = std::mem::replace(&mut self.next, Value::Nil) else {
            return None;
        };
        self.walked += 1;
        if self.walked > MAX_LIST_WALK {
            return None;
        }
        self.next = c.cdr();
        Some(c.car())
    }
}

/// A span is kept when it lies inside `within`; otherwise (built by code, or from another place
/// such as a macro's definition) it becomes `within`.
pub fn span_within(span: Span, within: Span) -> Span {
    if span != NO_SPAN && span.start >= within.start && span.end <= within.end {
        span
    } else {
        within
    }
}
