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

/// A kernel type as the compiler's CO-RE forms read it: `(:int 4 t)`, `(:ptr)`,
/// `(:struct "sock" 760)`, `(:array (:int 1 nil) 16)`...
pub fn kernel_type(at: At, ty: &whistler_object::KernelType) -> Sexp {
    use whistler_object::KernelType;
    let flag = |b: bool| at.sym(if b { "t" } else { "nil" });
    let items = match ty {
        KernelType::Int { size, signed } => {
            vec![at.keyword("int"), at.int(*size as i128), flag(*signed)]
        }
        KernelType::Ptr => vec![at.keyword("ptr")],
        KernelType::Enum { name, size, signed } => vec![
            at.keyword("enum"),
            at.string(name),
            at.int(*size as i128),
            flag(*signed),
        ],
        KernelType::Composite(s) => vec![
            at.keyword(if s.union { "union" } else { "struct" }),
            at.string(&s.name),
            at.int(s.size as i128),
        ],
        KernelType::Array { elem, count } => vec![
            at.keyword("array"),
            kernel_type(at, elem),
            at.int(*count as i128),
        ],
        KernelType::Float { size } => vec![at.keyword("float"), at.int(*size as i128)],
    };
    at.list(items)
}
