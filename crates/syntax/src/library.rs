//! A library's top-level lists classified without reading them: which are plain `(defun NAME
//! ...)`, `(defun (setf NAME) ...)` or `(defmacro NAME ...)` definitions, which the evaluator keeps as text until first
//! use, which define a variable with a value known without evaluating anything (`(defvar NAME
//! 0)`, `(defconstant NAME 'DATUM "doc")`), which the evaluator defines when the name is first
//! used, and which are other forms. Done when a library is loaded, or once at build time: a
//! build script writes the table with [`library_table`] and the crate includes it, so loading
//! the library does not even skim its text.

use crate::skim::top_level_lists;
use crate::{ReadOptions, SexpKind, FLOAT_PACKAGE, VECTOR_LITERAL};
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

/// What a plain definition defines: `(defun NAME ...)`, `(defmacro NAME ...)`, or a variable
/// whose value needs no evaluation (see [`VariableInit`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryDefinition<'a> {
    pub kind: DefinitionKind,
    /// The name as the reader folds it.
    pub name: Cow<'a, str>,
}

/// Which definition a [`LibraryDefinition`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefinitionKind {
    Function,
    Macro,
    /// `(defun (setf NAME) ...)`: NAME's setf function.
    SetfFunction,
    /// `(defvar NAME INIT [DOC])`, `(defparameter ...)` or `(defconstant ...)`.
    Variable(VariableOperator, VariableInit),
}

/// The operator of a variable definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariableOperator {
    Defvar,
    Defparameter,
    Defconstant,
}

/// A variable definition's initial value form, when it is one of these. Positions are in the
/// library's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariableInit {
    /// An integer literal.
    Integer(i128),
    /// A plain symbol (no package, no escapes, no capitals), named by the bytes `start..end`:
    /// its value is the symbol's value when
    /// that is a constant (`nil`, `t`, another `defconstant`), and the form is evaluated when
    /// it is not.
    Symbol { start: usize, end: usize },
    /// `'DATUM`, the datum being the bytes `start..end`: lists, symbols, integers, strings
    /// and characters only.
    Quoted { start: usize, end: usize },
}

/// The top-level lists of `text`, classified; `None` when the text cannot be split without
/// reading it (see [`top_level_lists`]).
pub fn library_lists(text: &str) -> Option<Vec<LibraryList<'_>>> {
    let lists = top_level_lists(text)?;
    let classified = lists.into_iter().map(|range| LibraryList {
        definition: definition_head(text, range.start, range.end),
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
                "Some(whistler_syntax::LibraryDefinition {{ kind: {}, \
                 name: std::borrow::Cow::Borrowed({:?}) }})",
                kind_expression(d.kind),
                d.name
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

/// The Rust expression of `kind`.
fn kind_expression(kind: DefinitionKind) -> String {
    let kind = match kind {
        DefinitionKind::Variable(operator, init) => {
            let init = match init {
                VariableInit::Integer(n) => format!("Integer({n})"),
                VariableInit::Symbol { start, end } => {
                    format!("Symbol {{ start: {start}, end: {end} }}")
                }
                VariableInit::Quoted { start, end } => {
                    format!("Quoted {{ start: {start}, end: {end} }}")
                }
            };
            format!(
                "Variable(whistler_syntax::VariableOperator::{operator:?}, \
                 whistler_syntax::VariableInit::{init})"
            )
        }
        other => format!("{other:?}"),
    };
    format!("whistler_syntax::DefinitionKind::{kind}")
}

/// What the list `text[start..end]` defines when it is `(defun NAME ...)`, `(defun (setf NAME)
/// ...)` or `(defmacro NAME ...)` with a plain symbol as NAME (no package, no escapes), or a
/// variable definition
/// [`variable_init`] accepts.
fn definition_head(text: &str, start: usize, end: usize) -> Option<LibraryDefinition<'_>> {
    let list = &text[start..end];
    let mut words = list[1..].split_ascii_whitespace();
    let kind = match words.next()? {
        "defmacro" => DefinitionKind::Macro,
        "defun" => DefinitionKind::Function,
        "defvar" | "defparameter" | "defconstant" => return variable(text, start, end),
        _ => return None,
    };
    let mut name = words.next()?;
    let kind = match (kind, name) {
        (DefinitionKind::Function, "(setf") => {
            name = words.next()?.strip_suffix(')')?;
            DefinitionKind::SetfFunction
        }
        (kind, _) => kind,
    };
    let name = plain_name(name)?;
    Some(LibraryDefinition { kind, name })
}

/// `name` as the reader folds it, when it is a plain symbol (no package, no escapes).
fn plain_name(name: &str) -> Option<Cow<'_, str>> {
    let plain = |c: char| c.is_ascii_graphic() && !"()'\"`,;|\\:#".contains(c);
    if !name.chars().all(plain) {
        return None;
    }
    Some(match name.bytes().any(|b| b.is_ascii_uppercase()) {
        true => Cow::Owned(name.to_ascii_lowercase()),
        false => Cow::Borrowed(name),
    })
}

/// The variable definition `text[start..end]`, when it is `(OPERATOR NAME INIT [DOC])` with a
/// plain name, an `INIT` that [`VariableInit`] describes and a string as `DOC`. The list is read
/// to tell (only lists that start with a variable definition's operator are).
fn variable(text: &str, start: usize, end: usize) -> Option<LibraryDefinition<'_>> {
    let read = crate::read_str_with(&text[start..end], ReadOptions::default());
    let [form] = read.forms.as_slice() else {
        return None;
    };
    if !read.diagnostics.is_empty() {
        return None;
    }
    let items = form.as_list()?;
    let (operator, name, init) = match items {
        [operator, name, init] => (operator, name, init),
        [operator, name, init, doc] if doc.as_str().is_some() => (operator, name, init),
        _ => return None,
    };
    let operator = match operator.as_symbol()?.name.as_str() {
        "defvar" => VariableOperator::Defvar,
        "defparameter" => VariableOperator::Defparameter,
        _ => VariableOperator::Defconstant,
    };
    let at = |span: crate::Span| (start + span.start as usize, start + span.end as usize);
    let (name_start, name_end) = at(name.span);
    let name = plain_name(&text[name_start..name_end])?;
    let init = match &init.kind {
        SexpKind::Int(n) => VariableInit::Integer(*n),
        SexpKind::Symbol(_) => {
            let (start, end) = at(init.span);
            let Cow::Borrowed(_) = plain_name(&text[start..end])? else {
                return None;
            };
            VariableInit::Symbol { start, end }
        }
        SexpKind::List(items) => match items.as_slice() {
            [quote, datum] if quote.is_symbol_named("quote") && is_plain_datum(datum) => {
                let (start, end) = at(datum.span);
                VariableInit::Quoted { start, end }
            }
            _ => return None,
        },
        _ => return None,
    };
    let kind = DefinitionKind::Variable(operator, init);
    Some(LibraryDefinition { kind, name })
}

/// True when `datum` is made of lists, plain symbols, integers, strings and characters only,
/// which read the same with every [`ReadOptions`].
fn is_plain_datum(datum: &crate::Sexp) -> bool {
    match &datum.kind {
        SexpKind::List(items) => items.iter().all(is_plain_datum),
        SexpKind::DottedList(items, tail) => {
            items.iter().all(is_plain_datum) && is_plain_datum(tail)
        }
        SexpKind::Symbol(s) => {
            s.package.as_deref() != Some(FLOAT_PACKAGE) && s.name != VECTOR_LITERAL
        }
        SexpKind::Int(_) | SexpKind::Str(_) | SexpKind::Char(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_told_from_other_forms() {
        let text =
            "(defun f (x) x)\n(defvar *v* (f 1))\n(defmacro My-Mac () nil)\n(defun |odd| () 1)\n\
                    (defun (setf f) (v x) v) (defun (setf |g|) (v) v)";
        let lists = library_lists(text).unwrap();
        let heads: Vec<Option<(DefinitionKind, &str)>> = lists
            .iter()
            .map(|l| l.definition.as_ref().map(|d| (d.kind, d.name.as_ref())))
            .collect();
        use DefinitionKind::{Function, Macro, SetfFunction};
        let expected = [
            Some((Function, "f")),
            None,
            Some((Macro, "my-mac")),
            None,
            Some((SetfFunction, "f")),
            None,
        ];
        assert_eq!(heads, expected);
        assert_eq!(&text[lists[1].start..lists[1].end], "(defvar *v* (f 1))");
    }

    #[test]
    fn variables_with_values_known_without_evaluating() {
        let text = "(defvar *a* #x10) (defparameter *B* nil) (defconstant +c+ '(:k \"s\" #\\x (1 . 2)) \"doc\")\n\
                    (defvar *d* +c+) (defvar *e* 1.5) (defvar *f* '#(1)) (defvar *g* 'X) (defvar *h* NIL)\n\
                    (defvar *i*) (defvar *j* 1 2) (defvar |k| 1)";
        let lists = library_lists(text).unwrap();
        let kinds: Vec<Option<(DefinitionKind, &str)>> = lists
            .iter()
            .map(|l| l.definition.as_ref().map(|d| (d.kind, d.name.as_ref())))
            .collect();
        use VariableInit::{Integer, Quoted, Symbol};
        use VariableOperator::{Defconstant, Defparameter, Defvar};
        let variable =
            |operator, init, name| Some((DefinitionKind::Variable(operator, init), name));
        let at = |what: &str, from: usize| {
            let start = from + text[from..].find(what).unwrap();
            (start, start + what.len())
        };
        let (start, end) = at("nil", 0);
        let (c_start, c_end) = at("(:k \"s\" #\\x (1 . 2))", 0);
        let (d_start, d_end) = at("+c+", c_end);
        let (g_start, g_end) = at("X", d_end);
        assert_eq!(
            kinds,
            [
                variable(Defvar, Integer(16), "*a*"),
                variable(Defparameter, Symbol { start, end }, "*b*"),
                variable(
                    Defconstant,
                    Quoted {
                        start: c_start,
                        end: c_end
                    },
                    "+c+"
                ),
                variable(
                    Defvar,
                    Symbol {
                        start: d_start,
                        end: d_end
                    },
                    "*d*"
                ),
                None,
                None,
                variable(
                    Defvar,
                    Quoted {
                        start: g_start,
                        end: g_end
                    },
                    "*g*"
                ),
                None,
                None,
                None,
                None,
            ]
        );
    }

    #[test]
    fn the_table_spells_the_lists() {
        let table = library_table("(defmacro m () 1) (foo) (defvar *v* 'x)").unwrap();
        assert!(table.contains("start: 0, end: 17"), "{table}");
        assert!(table.contains("Cow::Borrowed(\"m\")"), "{table}");
        assert!(
            table.contains("start: 18, end: 23, definition: None"),
            "{table}"
        );
        assert!(
            table.contains(
                "kind: whistler_syntax::DefinitionKind::Variable(\
                 whistler_syntax::VariableOperator::Defvar, \
                 whistler_syntax::VariableInit::Quoted { start: 37, end: 38 })"
            ),
            "{table}"
        );
        assert_eq!(library_table("atom (list)"), None);
    }
}
