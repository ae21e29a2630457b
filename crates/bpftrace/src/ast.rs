//! The bpftrace syntax tree: probes with their attach points, predicates and statements; every
//! node keeps the span of its source text for diagnostics.

use whistler_syntax::Span;

/// A whole script.
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// `config = { name = value; ... }`.
    pub config: Vec<(String, Expr)>,
    pub macros: Vec<Macro>,
    pub functions: Vec<Function>,
    /// C struct and union declarations (`struct NAME { ... };`), laid out by
    /// [`crate::script_types`] when `offsetof` names them.
    pub structs: Vec<StructDecl>,
    pub probes: Vec<Probe>,
}

/// `macro name($a, b) { ... }`: expanded in place at each call.
#[derive(Clone, Debug)]
pub struct Macro {
    pub name: String,
    pub params: Vec<String>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// `fn name($a : int64, ...) : int64 { ... }`: inlined at each call, its parameters bound to
/// the arguments' values, `return EXPR` giving the call's value.
#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    /// Each parameter's name (without `$`) and integer type name.
    pub params: Vec<(String, String)>,
    /// An integer type name, or `void`.
    pub ret: String,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// `struct NAME { members };` (or `union`) at the top level, as written.
#[derive(Clone, Debug)]
pub struct StructDecl {
    pub name: String,
    pub union: bool,
    /// The text between the braces.
    pub members: String,
    pub span: Span,
}

/// Attach points sharing one action.
#[derive(Clone, Debug)]
pub struct Probe {
    pub attach_points: Vec<(String, Span)>,
    pub predicate: Option<Expr>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    Expr(Expr),
    /// `@m[k] = v`, `$x = v`; compound assignments are desugared by the parser.
    Assign(Expr, Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    Unroll(u64, Vec<Stmt>),
    While(Expr, Vec<Stmt>),
    /// `for ($i : a..b) { }`.
    ForRange(String, Expr, Expr, Vec<Stmt>),
    /// `for ($kv : @map) { }`: the variable, the map's name and the map's span, the body.
    ForMap(String, String, Span, Vec<Stmt>),
    Break,
    Continue,
    /// `return;` leaves the probe; in a function, `return EXPR;` gives the call's value.
    Return(Option<Expr>),
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    Str(String),
    /// `$name`.
    Var(String),
    /// `@name[keys]` (`@` alone for the anonymous map, no keys for a scalar map).
    Map(String, Vec<Expr>),
    /// A builtin named by an identifier: `pid`, `comm`, `args`...
    Builtin(String),
    /// `$1`, `$#` is `PositionalCount`.
    Positional(u32),
    PositionalCount,
    Call(String, Vec<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `expr.field` or `expr->field`.
    Field(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Tuple(Vec<Expr>),
    /// `(TYPE)expr`.
    Cast(String, Box<Expr>),
    /// `sizeof(TYPE)` of a type name.
    SizeofType(String),
    /// `offsetof(struct NAME, field.subfield)`: the struct's name and the field path.
    Offsetof(String, Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Shl,
    Shr,
    BitAnd,
    BitOr,
    BitXor,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    BitNot,
    Neg,
    /// `*expr`: an 8-byte kernel read.
    Deref,
}
