//! Lexical environments: a chain of frames binding variables, local functions (`flet`,
//! `labels`) and block names, searched innermost first.

use crate::value::{Sym, Value};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Namespace {
    Variable,
    Function,
    /// A `block` name; the value is the block's identity as an integer.
    Block,
    /// A `macrolet` macro; the value is the expander closure.
    Macro,
    /// A `tagbody` tag; the value is `(tagbody-id . statement-index)`.
    Tag,
}

pub struct Env {
    entries: RefCell<Vec<(Sym, Namespace, Value)>>,
    parent: Option<Rc<Env>>,
}

impl Drop for Env {
    /// Releases a long chain of parents without recursion.
    fn drop(&mut self) {
        let mut parent = self.parent.take();
        while let Some(env) = parent {
            match Rc::try_unwrap(env) {
                Ok(mut env) => parent = env.parent.take(),
                Err(_) => break,
            }
        }
    }
}

impl Env {
    pub fn root() -> Rc<Env> {
        Rc::new(Env {
            entries: RefCell::new(Vec::new()),
            parent: None,
        })
    }
    pub fn child(parent: &Rc<Env>) -> Rc<Env> {
        Rc::new(Env {
            entries: RefCell::new(Vec::new()),
            parent: Some(parent.clone()),
        })
    }
    pub fn bind(&self, sym: &Sym, ns: Namespace, value: Value) {
        self.entries.borrow_mut().push((sym.clone(), ns, value));
    }
    pub fn lookup(&self, sym: &Sym, ns: Namespace) -> Option<Value> {
        self.innermost(|s, n| n == ns && Rc::ptr_eq(s, sym))
            .map(|(_, v)| v)
    }
    /// The innermost binding, here or in a parent, whose symbol and namespace satisfy `wanted`.
    fn innermost(&self, wanted: impl Fn(&Sym, Namespace) -> bool) -> Option<(Namespace, Value)> {
        let mut env = self;
        loop {
            let found = env
                .entries
                .borrow()
                .iter()
                .rev()
                .find(|(s, n, _)| wanted(s, *n))
                .map(|(_, n, v)| (*n, v.clone()));
            if found.is_some() {
                return found;
            }
            env = env.parent.as_deref()?;
        }
    }
    /// Sets an existing binding; false when there is none.
    pub fn set(&self, sym: &Sym, ns: Namespace, value: Value) -> bool {
        let mut env = self;
        loop {
            {
                let mut entries = env.entries.borrow_mut();
                if let Some(entry) = entries
                    .iter_mut()
                    .rev()
                    .find(|(s, n, _)| *n == ns && Rc::ptr_eq(s, sym))
                {
                    entry.2 = value;
                    return true;
                }
            }
            match env.parent.as_deref() {
                Some(parent) => env = parent,
                None => return false,
            }
        }
    }
    /// The names of every lexical variable visible here.
    pub fn variable_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut env = Some(self);
        while let Some(e) = env {
            names.extend(
                e.entries
                    .borrow()
                    .iter()
                    .filter(|(_, ns, _)| *ns == Namespace::Variable)
                    .map(|(s, _, _)| s.name.clone()),
            );
            env = e.parent.as_deref();
        }
        names
    }

    /// True when a local function or local macro of this name shadows the global definition.
    pub fn shadows_function(&self, sym: &Sym) -> Option<(Namespace, Value)> {
        self.innermost(|s, n| {
            matches!(n, Namespace::Function | Namespace::Macro) && Rc::ptr_eq(s, sym)
        })
    }
}
