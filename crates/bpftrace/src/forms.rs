//! Building the compiler's input forms (spanned s-expressions) directly, every node carrying
//! the span of the bpftrace text it came from, so that the compiler's diagnostics point into
//! the script. Nothing here prints or reads Lisp text.

use whistler_syntax::{Sexp, SexpKind, Span, Symbol};

/// A form builder for one span.
#[derive(Clone, Copy)]
pub struct At(pub Span);

impl At {
    pub fn sym(self, name: &str) -> Sexp {
        Sexp::symbol(name, self.0)
    }
    pub fn keyword(self, name: &str) -> Sexp {
        Sexp::new(SexpKind::Symbol(Symbol::keyword(name)), self.0)
    }
    pub fn int(self, n: i128) -> Sexp {
        Sexp::new(SexpKind::Int(n), self.0)
    }
    pub fn string(self, s: &str) -> Sexp {
        Sexp::new(SexpKind::Str(s.to_string()), self.0)
    }
    pub fn list(self, items: Vec<Sexp>) -> Sexp {
        Sexp::list(items, self.0)
    }
    /// `(head args...)`.
    pub fn call(self, head: &str, args: Vec<Sexp>) -> Sexp {
        let mut items = vec![self.sym(head)];
        items.extend(args);
        self.list(items)
    }
    pub fn progn(self, forms: Vec<Sexp>) -> Sexp {
        self.call("progn", forms)
    }
    /// `(let* ((name init)...) body...)`.
    pub fn let_star(self, bindings: Vec<(String, Sexp)>, body: Vec<Sexp>) -> Sexp {
        let bindings = bindings
            .into_iter()
            .map(|(name, init)| self.list(vec![self.sym(&name), init]))
            .collect();
        let mut items = vec![self.sym("let*"), self.list(bindings)];
        items.extend(body);
        self.list(items)
    }
    /// `(store u64 PTR OFFSET VALUE)`.
    pub fn store64(self, ptr: Sexp, offset: usize, value: Sexp) -> Sexp {
        self.call(
            "store",
            vec![self.sym("u64"), ptr, self.int(offset as i128), value],
        )
    }
    /// `(load u64 PTR OFFSET)` (or another load type).
    pub fn load(self, ty: &str, ptr: Sexp, offset: usize) -> Sexp {
        self.call("load", vec![self.sym(ty), ptr, self.int(offset as i128)])
    }
    /// `(memcpy DST DST-OFFSET SRC 0 LENGTH)`.
    pub fn memcpy(self, dst: Sexp, offset: usize, src: Sexp, length: usize) -> Sexp {
        self.call(
            "memcpy",
            vec![
                dst,
                self.int(offset as i128),
                src,
                self.int(0),
                self.int(length as i128),
            ],
        )
    }
    /// A zeroed stack buffer of `size` bytes.
    pub fn buffer(self, size: usize) -> Sexp {
        self.call("struct-alloc", vec![self.int(size.max(1) as i128)])
    }
}
