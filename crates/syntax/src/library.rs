//! A library's top-level lists classified without reading them: which are plain `(defun NAME
//! ...)` or `(defmacro NAME ...)` definitions, which the evaluator keeps as text until first
//! use, and which are other forms. Done when a library is loaded, or once at build time: a
//! build script writes the table with [`library_table`] and the crate includes it, so loading
//! the library does not even skim its text.

use crate::skim::top_level_lists;
use std::borrow::Cow;
use std::fmt::Write;

/// One top-level list of a library: the bytes `start..end` of its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryList<'a> {
    pub start: usize,
    pub end: usize,
    /// `Some` when the list is a plain definition.
    pub definition: Option<LibraryDefinition<'a>>,
}

/// What a plain `(defun NAME ...)` or `(defmacro NAME ...)` defines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryDefinition<'a> {
    pub is_macro: bool,
    /// The name as the reader folds it.
    pub name: Cow<'a, str>,
}

/// The top-level lists of `text`, classified; `None` when the text cannot be split without
/// reading it (see [`top_level_lists`]).
pub fn library_lists(text: &str) -> Option<Vec<LibraryList<'_>>> {
    let lists = top_level_lists(text)?;
    let classified = lists.into_iter().map(|range| LibraryList {
        definition: definition_head(&text[range.clone()]),
        start: range.start,
        end: range.end,
    });
    Some(classified.collect())
}

/// The Rust expression of a `&'static [whistler_syntax::LibraryList<'static>]` holding
/// [`library_lists`] of `text`, for a build script to write and a crate to `include!`; `None`
/// when the text cannot be split.
pub fn library_table(text: &str) -> Option<String> {
    let mut table = String::from("&[\n");
    for list in library_lists(text)? {
        let definition = match list.definition {
            Some(d) => format!(
                "Some(whistler_syntax::LibraryDefinition {{ is_macro: {}, \
                 name: std::borrow::Cow::Borrowed({:?}) }})",
                d.is_macro, d.name
            ),
            None => "None".to_string(),
        };
        writeln!(
            table,
            "    whistler_syntax::LibraryList {{ start: {}, end: {}, definition: {definition} }},",
            list.start, list.end
        )
        .expect("writing to a string");
    }
    table.push(']');
    Some(table)
}

/// What `list` defines when it is `(defun NAME ...)` or `(defmacro NAME ...)` with a plain
/// symbol as the name (no package, no escapes).
fn definition_head(list: &str) -> Option<LibraryDefinition<'_>> {
    let mut words = list[1..].split_ascii_whitespace();
    let is_macro = match words.next()? {
        "defmacro" => true,
        "defun" => false,
        _ => return None,
    };
    let name = words.next()?;
    let plain = |c: char| c.is_ascii_graphic() && !"()'\"`,;|\\:#".contains(c);
    if !name.chars().all(plain) {
        return None;
    }
    let name = match name.bytes().any(|b| b.is_ascii_uppercase()) {
        true => Cow::Owned(name.to_ascii_lowercase()),
        false => Cow::Borrowed(name),
    };
    Some(LibraryDefinition { is_macro, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_told_from_other_forms() {
        let text = "(defun f (x) x)\n(defvar *v* 1)\n(defmacro My-Mac () nil)\n(defun |odd| () 1)";
        let lists = library_lists(text).unwrap();
        let heads: Vec<Option<(bool, &str)>> = lists
            .iter()
            .map(|l| l.definition.as_ref().map(|d| (d.is_macro, d.name.as_ref())))
            .collect();
        assert_eq!(
            heads,
            [Some((false, "f")), None, Some((true, "my-mac")), None]
        );
        assert_eq!(&text[lists[1].start..lists[1].end], "(defvar *v* 1)");
    }

    #[test]
    fn the_table_spells_the_lists() {
        let table = library_table("(defmacro m () 1) (foo)").unwrap();
        assert!(table.contains("start: 0, end: 17"), "{table}");
        assert!(table.contains("Cow::Borrowed(\"m\")"), "{table}");
        assert!(
            table.contains("start: 18, end: 23, definition: None"),
            "{table}"
        );
        assert_eq!(library_table("atom (list)"), None);
    }
}
