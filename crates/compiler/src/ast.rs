//! The expanded program: what `expand` produces and `lower` consumes. Names are resolved
//! (variables to [`VarId`]s, maps to indexes, constants to integers) and every built-in
//! convenience form (`when`, `cond`, `getmap`, `defstruct` accessors...) is already desugared into
//! these primitives.

use crate::ops::{BinOp, Cond, UnOp};
use whistler_bpf::Insn;
use whistler_syntax::Span;

/// A local variable, unique within one program.
pub type VarId = u32;

/// A function a helper calls back (`map-for-each`'s body), compiled on its own and placed
/// after its program's body. It sees its parameters and the program's context (`ctx`), not
/// the variables of the code around it; its value is what it returns to the helper.
#[derive(Clone, Debug)]
pub struct Callback {
    pub body: Expr,
    /// Bound to the entry's key and value pointers and to the context the caller passed.
    pub key: VarId,
    pub value: VarId,
    pub context: VarId,
}

/// The record a program passes `for_each_map_elem` as the callback context: a stack region of
/// the caller holding, at these byte offsets, what the callback's entry reads. The callback's
/// entry stores the key and value pointers the helper hands it, then takes the record as its
/// one argument (`codegen::callbacks`); the caller stores the context and its own `ctx`
/// (`lower`).
pub mod callback_record {
    pub const KEY: i16 = 0;
    pub const VALUE: i16 = 8;
    pub const CONTEXT: i16 = 16;
    pub const PROGRAM_CTX: i16 = 24;
    pub const SIZE: u32 = 32;
}

/// A scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
}

impl Ty {
    pub fn from_name(name: &str) -> Option<Ty> {
        Some(match name {
            "u8" => Ty::U8,
            "u16" => Ty::U16,
            "u32" => Ty::U32,
            "u64" => Ty::U64,
            "i8" | "s8" => Ty::I8,
            "i16" | "s16" => Ty::I16,
            "i32" | "s32" => Ty::I32,
            "i64" | "s64" => Ty::I64,
            _ => return None,
        })
    }
    pub fn size(self) -> u32 {
        match self {
            Ty::U8 | Ty::I8 => 1,
            Ty::U16 | Ty::I16 => 2,
            Ty::U32 | Ty::I32 => 4,
            Ty::U64 | Ty::I64 => 8,
        }
    }
    pub fn signed(self) -> bool {
        matches!(self, Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64)
    }
    /// The integer type of `size` bytes and this signedness, if there is one.
    pub fn integer(size: u32, signed: bool) -> Option<Ty> {
        Some(match (size, signed) {
            (1, false) => Ty::U8,
            (2, false) => Ty::U16,
            (4, false) => Ty::U32,
            (8, false) => Ty::U64,
            (1, true) => Ty::I8,
            (2, true) => Ty::I16,
            (4, true) => Ty::I32,
            (8, true) => Ty::I64,
            _ => return None,
        })
    }
    pub fn unsigned_of_size(size: u32) -> Ty {
        match size {
            1 => Ty::U8,
            2 => Ty::U16,
            4 => Ty::U32,
            _ => Ty::U64,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Ty::U8 => "u8",
            Ty::U16 => "u16",
            Ty::U32 => "u32",
            Ty::U64 => "u64",
            Ty::I8 => "i8",
            Ty::I16 => "i16",
            Ty::I32 => "i32",
            Ty::I64 => "i64",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    pub kind: ExprKind,
    /// The source form this expression came from.
    pub span: Span,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
    pub fn int(v: i64, span: Span) -> Expr {
        Expr::new(ExprKind::Int(v), span)
    }
    pub fn boxed(self) -> Box<Expr> {
        Box::new(self)
    }
    /// `(let ((var init)) body)` with the variable untyped (it keeps `init`'s value as is).
    pub fn let_in(var: VarId, init: Expr, body: Expr, span: Span) -> Expr {
        Expr::typed_let(var, None, init, body, span)
    }
    /// `(let ((var init)) body)` converting `init` to `ty` when given.
    pub fn typed_let(var: VarId, ty: Option<Ty>, init: Expr, body: Expr, span: Span) -> Expr {
        let (init, body) = (init.boxed(), body.boxed());
        Expr::new(
            ExprKind::Let {
                var,
                ty,
                init,
                body,
            },
            span,
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprKind {
    Int(i64),
    Var(VarId),
    /// The context pointer the program received.
    Ctx,
    /// Evaluates `init`, converts it to `ty` (truncating or sign-extending), binds `var` for `body`.
    Let {
        var: VarId,
        ty: Option<Ty>,
        init: Box<Expr>,
        body: Box<Expr>,
    },
    /// Assigns (converting to the variable's type); the value is the new value.
    Set {
        var: VarId,
        ty: Option<Ty>,
        value: Box<Expr>,
    },
    /// Evaluates in order; the value is the last one's (0 when empty).
    Seq(Vec<Expr>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// Value: 0 at the first zero operand, else the last operand's value.
    And(Vec<Expr>),
    /// Value: the first non-zero operand's value, else 0.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// 1 or 0.
    Cmp {
        cond: Cond,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Bin {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnOp,
        arg: Box<Expr>,
    },
    /// Converts to a type: truncation, then sign extension for signed types.
    Convert {
        ty: Ty,
        arg: Box<Expr>,
    },
    Load {
        ty: Ty,
        ptr: Box<Expr>,
        offset: Box<Expr>,
    },
    Store {
        ty: Ty,
        ptr: Box<Expr>,
        offset: Box<Expr>,
        value: Box<Expr>,
    },
    AtomicAdd {
        ty: Ty,
        ptr: Box<Expr>,
        offset: Box<Expr>,
        value: Box<Expr>,
    },
    Call {
        helper: u32,
        args: Vec<Expr>,
    },
    /// The address of a map (for helper arguments), by index into the object's maps.
    MapRef(u32),
    /// A number about the kernel's types (a member's byte offset, whether a type exists...),
    /// relocated by the loader for the running kernel.
    KernelValue(Box<whistler_object::KernelValue>),
    /// The kernel struct member `field` of the struct at `ptr`, read with one load at the
    /// running kernel's offset and width (and sign-extended when signed); `ptr` is memory the
    /// program may load from directly (the context of a tracepoint, a BTF-typed pointer).
    FieldLoad {
        ptr: Box<Expr>,
        field: Box<whistler_object::KernelFieldRef>,
    },
    /// A pointer to a fresh stack region of `size` bytes (zeroed when `zero`).
    StackAlloc {
        size: u32,
        zero: bool,
    },
    /// Stores a scalar of `size` bytes into a short-lived stack temporary and yields its
    /// address: how scalar keys and values reach map helpers. Valid until the next helper call.
    Spill {
        size: u32,
        value: Box<Expr>,
    },
    Return(Box<Expr>),
    /// Calls `for_each_map_elem` on map `map` with the program's callback number `callback`,
    /// which sees `context`'s value; the value is the number of entries visited.
    ForEachMapElem {
        map: u32,
        callback: u32,
        context: Box<Expr>,
    },
    /// `dotimes` with a constant count; `var` runs from 0 to `count - 1`.
    Dotimes {
        var: VarId,
        count: u32,
        body: Box<Expr>,
    },
    Asm(Insn),
}

impl std::fmt::Display for Expr {
    /// A compact s-expression form of the expanded program (for expansion dumps).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |f: &mut std::fmt::Formatter<'_>, head: &str, items: &[&Expr]| {
            write!(f, "({head}")?;
            for i in items {
                write!(f, " {i}")?;
            }
            write!(f, ")")
        };
        match &self.kind {
            ExprKind::Int(v) => write!(f, "{v}"),
            ExprKind::Var(v) => write!(f, "%{v}"),
            ExprKind::Ctx => write!(f, "ctx"),
            ExprKind::Let {
                var,
                ty,
                init,
                body,
            } => {
                let ty = ty.map_or(String::new(), |t| format!(" {}", t.name()));
                write!(f, "(let (%{var}{ty} {init}) {body})")
            }
            ExprKind::Set { var, value, .. } => write!(f, "(set %{var} {value})"),
            ExprKind::Seq(items) => list(f, "seq", &items.iter().collect::<Vec<_>>()),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => list(f, "if", &[cond, then, otherwise]),
            ExprKind::And(items) => list(f, "and", &items.iter().collect::<Vec<_>>()),
            ExprKind::Or(items) => list(f, "or", &items.iter().collect::<Vec<_>>()),
            ExprKind::Not(x) => list(f, "not", &[x]),
            ExprKind::Cmp { cond, lhs, rhs } => list(f, cond.name(), &[lhs, rhs]),
            ExprKind::Bin { op, lhs, rhs } => list(f, op.name(), &[lhs, rhs]),
            ExprKind::Unary { op, arg } => list(f, op.name(), &[arg]),
            ExprKind::Convert { ty, arg } => list(f, &format!("convert {}", ty.name()), &[arg]),
            ExprKind::Load { ty, ptr, offset } => {
                list(f, &format!("load {}", ty.name()), &[ptr, offset])
            }
            ExprKind::Store {
                ty,
                ptr,
                offset,
                value,
            } => list(f, &format!("store {}", ty.name()), &[ptr, offset, value]),
            ExprKind::AtomicAdd {
                ty,
                ptr,
                offset,
                value,
            } => list(
                f,
                &format!("atomic-add {}", ty.name()),
                &[ptr, offset, value],
            ),
            ExprKind::Call { helper, args } => {
                let name = whistler_bpf::helpers::by_id(*helper)
                    .map_or_else(|| helper.to_string(), |h| h.lisp_name());
                list(f, &format!("call {name}"), &args.iter().collect::<Vec<_>>())
            }
            ExprKind::ForEachMapElem {
                map,
                callback,
                context,
            } => write!(
                f,
                "(map-for-each (map {map}) callback-{callback} {context})"
            ),
            ExprKind::MapRef(m) => write!(f, "(map {m})"),
            ExprKind::KernelValue(v) => write!(
                f,
                "(kernel-value {} {} {})",
                v.kind.lisp_names()[0],
                v.subject_name(),
                v.local_value().unwrap_or(0)
            ),
            ExprKind::FieldLoad { ptr, field } => write!(
                f,
                "(field-load {ptr} {}.{} {})",
                field.structure.name, field.member.name, field.member.offset
            ),
            ExprKind::StackAlloc { size, zero } => write!(
                f,
                "(stack-alloc {size}{})",
                if *zero { " zeroed" } else { "" }
            ),
            ExprKind::Spill { size, value } => list(f, &format!("spill {size}"), &[value]),
            ExprKind::Return(v) => list(f, "return", &[v]),
            ExprKind::Dotimes { var, count, body } => {
                write!(f, "(dotimes (%{var} {count}) {body})")
            }
            ExprKind::Asm(i) => write!(
                f,
                "(asm {:#x} {} {} {} {})",
                i.code, i.dst, i.src, i.off, i.imm
            ),
        }
    }
}
