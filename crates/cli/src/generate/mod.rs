//! `whistler compile --gen`: type definitions for user space from the compiler's struct layout
//! facts, one small generator per language. Every generator writes the same layout: each
//! `defstruct` with its fields at the compiler's offsets (explicit padding fields fill gaps),
//! and every `defconstant`.
//!
//! Names follow Whistler's: C and Lisp keep the Lisp name in snake case (`struct shape_event`,
//! constants `MAX_SHAPES`), Rust, Python and Go types are camel case (`ShapeEvent`).

mod c;
mod go;
mod lisp;
mod python;
mod rust;

use whistler_compiler::StructLayout;
use whistler_object::BtfTypeRef;

/// A language to generate for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    C,
    Go,
    Rust,
    Python,
    Lisp,
    All,
}

/// What the generators read: the compiled file's structs and constants.
pub struct Definitions<'a> {
    pub structs: &'a [StructLayout],
    pub constants: &'a [(String, i64)],
}

impl Definitions<'_> {
    /// The layout a `BtfTypeRef::Struct` names.
    fn layout(&self, symbol: &str) -> Option<&StructLayout> {
        self.structs.iter().find(|s| s.symbol == symbol)
    }

    fn size(&self, ty: &BtfTypeRef) -> u32 {
        match ty {
            BtfTypeRef::Int { size, .. } => *size,
            BtfTypeRef::Array { elem, count } => self.size(elem) * count,
            BtfTypeRef::Struct(symbol) => self.layout(symbol).map_or(0, |s| s.size),
        }
    }

    /// The Lisp name of the struct `symbol` names.
    fn lisp_name<'b>(&'b self, symbol: &'b str) -> &'b str {
        self.layout(symbol).map_or(symbol, |s| s.lisp_name.as_str())
    }

    /// The struct's members in order, padding included.
    fn members<'b>(&self, layout: &'b StructLayout) -> Vec<Member<'b>> {
        let mut members = Vec::new();
        let mut at = 0;
        for field in &layout.fields {
            if field.offset > at {
                members.push(Member::Padding(members.len(), field.offset - at));
            }
            members.push(Member::Field(&field.lisp_name, &field.ty));
            at = field.offset + self.size(&field.ty);
        }
        if layout.size > at {
            members.push(Member::Padding(members.len(), layout.size - at));
        }
        members
    }
}

/// A struct member: a field (Lisp name and type) or `n` bytes of padding (numbered by place).
enum Member<'a> {
    Field(&'a str, &'a BtfTypeRef),
    Padding(usize, u32),
}

/// What one language spells its own way; [`render`] writes the rest, the same for every
/// language: the start, the constants, each struct with its members in order, the end.
trait Syntax {
    /// What follows the input's stem in the generated file's name (`.h`, `_types.rs`).
    fn file_suffix(&self) -> &'static str;
    /// The file's start: a "generated" comment, includes, a package line.
    fn start(&self, stem: &str) -> String;
    /// One constant, `lisp_name` as the source wrote it.
    fn constant(&self, lisp_name: &str, value: i64) -> String;
    /// The constants' lines together (a language may wrap them in a block).
    fn constants(&self, lines: String) -> String {
        lines
    }
    /// A struct's opening, up to its first member.
    fn struct_start(&self, lisp_name: &str) -> String;
    /// One field, its type spelled by [`Syntax::int`], [`Syntax::array`], [`Syntax::named`].
    fn field(&self, lisp_name: &str, ty: &str) -> String;
    /// Explicit padding (numbered by place), or `None` where the language pads as BPF does.
    fn padding(&self, index: usize, bytes: u32) -> Option<String>;
    /// A struct's closing.
    fn struct_end(&self) -> &'static str;
    /// The file's end.
    fn end(&self, _stem: &str) -> String {
        String::new()
    }
    /// An integer type.
    fn int(&self, size: u32, signed: bool) -> String;
    /// An array of `count` elements of the type spelled `elem`.
    fn array(&self, elem: &str, count: u32) -> String;
    /// Another struct of the file, by its Lisp name.
    fn named(&self, lisp_name: &str) -> String;
}

/// The file `syntax` describes, for `defs`.
fn render(syntax: &dyn Syntax, stem: &str, defs: &Definitions<'_>) -> String {
    let mut out = syntax.start(stem);
    let constants: String = defs
        .constants
        .iter()
        .map(|(name, value)| syntax.constant(name, *value))
        .collect();
    if !constants.is_empty() {
        out.push_str(&syntax.constants(constants));
    }
    for layout in defs.structs {
        out.push_str(&syntax.struct_start(&layout.lisp_name));
        for member in defs.members(layout) {
            let line = match member {
                Member::Field(name, ty) => Some(syntax.field(name, &type_name(syntax, defs, ty))),
                Member::Padding(index, bytes) => syntax.padding(index, bytes),
            };
            out.push_str(&line.unwrap_or_default());
        }
        out.push_str(syntax.struct_end());
    }
    out.push_str(&syntax.end(stem));
    out
}

fn type_name(syntax: &dyn Syntax, defs: &Definitions<'_>, ty: &BtfTypeRef) -> String {
    match ty {
        BtfTypeRef::Int { size, signed } => syntax.int(*size, *signed),
        BtfTypeRef::Array { elem, count } => syntax.array(&type_name(syntax, defs, elem), *count),
        BtfTypeRef::Struct(symbol) => syntax.named(defs.lisp_name(symbol)),
    }
}

/// The files for `language`, as (file name suffix after the stem, contents).
pub fn generate(language: Language, stem: &str, defs: &Definitions<'_>) -> Vec<(String, String)> {
    let syntaxes: Vec<&dyn Syntax> = match language {
        Language::C => vec![&c::C],
        Language::Go => vec![&go::Go],
        Language::Rust => vec![&rust::Rust],
        Language::Python => vec![&python::Python],
        Language::Lisp => vec![&lisp::Lisp],
        Language::All => vec![&c::C, &go::Go, &rust::Rust, &python::Python, &lisp::Lisp],
    };
    syntaxes
        .into_iter()
        .map(|syntax| {
            let suffix = syntax.file_suffix().to_string();
            (suffix, render(syntax, stem, defs))
        })
        .collect()
}

/// `+max-shapes+` → `max_shapes`: earmuffs dropped, dashes as underscores.
fn snake(lisp_name: &str) -> String {
    lisp_name
        .trim_matches(|c| c == '+' || c == '*')
        .replace('-', "_")
        .to_ascii_lowercase()
}

/// `shape-event` → `ShapeEvent`.
fn camel(lisp_name: &str) -> String {
    snake(lisp_name)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The integer type name `u32`/`i16`... that Lisp and Rust share.
fn int_name(size: u32, signed: bool) -> String {
    format!("{}{}", if signed { "i" } else { "u" }, size * 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_whistler() {
        assert_eq!(snake("+max-shapes+"), "max_shapes");
        assert_eq!(snake("shape-event").to_ascii_uppercase(), "SHAPE_EVENT");
        assert_eq!(camel("shape-event"), "ShapeEvent");
        assert_eq!(camel("*x*"), "X");
    }
}
