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

/// The files for `language`, as (file name suffix after the stem, contents).
pub fn generate(language: Language, stem: &str, defs: &Definitions<'_>) -> Vec<(String, String)> {
    let one = |language| match language {
        Language::C => (".h".to_string(), c::generate(stem, defs)),
        Language::Go => ("_types.go".to_string(), go::generate(stem, defs)),
        Language::Rust => ("_types.rs".to_string(), rust::generate(defs)),
        Language::Python => ("_types.py".to_string(), python::generate(defs)),
        Language::Lisp | Language::All => ("_types.lisp".to_string(), lisp::generate(defs)),
    };
    match language {
        Language::All => [
            Language::C,
            Language::Go,
            Language::Rust,
            Language::Python,
            Language::Lisp,
        ]
        .into_iter()
        .map(one)
        .collect(),
        language => vec![one(language)],
    }
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
