//! The Whistler reader: source text to spanned s-expressions plus a list of diagnostics.
//!
//! The reader never panics and never stops at the first error. Every node carries the byte span
//! of the text it was read from. Diagnostics are shared by every later stage (`Diagnostic`) and
//! rendered rustc-style with the source line underlined (`render`).

mod diagnostic;
mod library;
mod literal;
mod print;
mod reader;
mod skim;
mod source;
pub mod suggest;
mod token;

pub use diagnostic::{render, Diagnostic, Severity};
pub use print::{
    write_char_literal, write_string_literal, write_symbol, write_symbol_name, LetterCase,
};
pub use reader::{read, read_str, read_str_with, read_with, ReadOptions, ReadResult, MAX_DEPTH};

/// The package of the symbols that stand for floating-point and ratio literals when reading
/// with [`ReadOptions::host_code`]; the symbol's name is the literal (`0.5`, `1/3`).
pub const FLOAT_PACKAGE: &str = "%float";

/// The head of the form a vector literal `#(a b)` reads as with [`ReadOptions::host_code`]:
/// `(%vector-literal (a b))`, printed back as `#(a b)`.
pub const VECTOR_LITERAL: &str = "%vector-literal";
pub use library::{
    library_lists, library_table, DefinitionKind, LibraryDefinition, LibraryList, VariableInit,
    VariableOperator,
};
pub use skim::top_level_lists;
pub use source::{LineCol, SourceFile, Span};

/// A symbol as read: names are case-insensitive and stored lower-cased (`XDP_PASS` reads as
/// `xdp_pass`). `pkg:sym` and `pkg::sym` keep their package; keywords (`:type`) have
/// `package == Some("keyword")`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    pub package: Option<String>,
    pub name: String,
}

impl Symbol {
    pub fn new(name: impl Into<String>) -> Symbol {
        Symbol {
            package: None,
            name: name.into(),
        }
    }
    pub fn keyword(name: impl Into<String>) -> Symbol {
        Symbol {
            package: Some("keyword".into()),
            name: name.into(),
        }
    }
    pub fn is_keyword(&self) -> bool {
        self.package.as_deref() == Some("keyword")
    }
}

impl std::fmt::Display for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.package.as_deref() {
            None => write!(f, "{}", self.name),
            Some("keyword") => write!(f, ":{}", self.name),
            Some(p) => write!(f, "{}:{}", p, self.name),
        }
    }
}

/// One s-expression with the span of its source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sexp {
    pub kind: SexpKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SexpKind {
    /// `(a b c)`. `'x` reads as `(quote x)`, `` `x `` as `(quasiquote x)`, `,x` as `(unquote x)`,
    /// `,@x` as `(unquote-splicing x)` and `#'f` as `(function f)`; the synthesized head symbol
    /// carries the span of the prefix character(s).
    List(Vec<Sexp>),
    /// `(a b . c)`: the proper elements and the tail.
    DottedList(Vec<Sexp>, Box<Sexp>),
    Symbol(Symbol),
    /// Integers in every accepted radix. Literals outside the i128 range are diagnostics.
    Int(i128),
    Str(String),
    Char(char),
}

impl Sexp {
    pub fn as_symbol(&self) -> Option<&Symbol> {
        match &self.kind {
            SexpKind::Symbol(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[Sexp]> {
        match &self.kind {
            SexpKind::List(items) => Some(items),
            _ => None,
        }
    }
    pub fn new(kind: SexpKind, span: Span) -> Sexp {
        Sexp { kind, span }
    }
    /// A symbol with no package.
    pub fn symbol(name: impl Into<String>, span: Span) -> Sexp {
        Sexp::new(SexpKind::Symbol(Symbol::new(name)), span)
    }
    pub fn list(items: Vec<Sexp>, span: Span) -> Sexp {
        Sexp::new(SexpKind::List(items), span)
    }
    pub fn as_int(&self) -> Option<i128> {
        match self.kind {
            SexpKind::Int(n) => Some(n),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            SexpKind::Str(s) => Some(s),
            _ => None,
        }
    }
    /// True when this is a symbol with no package (or keyword) and the given (lower-case) name.
    pub fn is_symbol_named(&self, name: &str) -> bool {
        matches!(&self.kind, SexpKind::Symbol(s) if s.name == name && !s.is_keyword())
    }
}
