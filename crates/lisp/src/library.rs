//! Loading libraries written in Lisp (the prelude, the compiler's macro library) so that a
//! program pays only for the definitions it uses: a top-level `defun` or `defmacro` of a symbol
//! is kept as text, and read and evaluated on the symbol's first use as a function or macro;
//! every other form is evaluated at load, in order.

use crate::error::{EvalError, Flow};
use crate::interp::Interp;
use crate::value::{Sym, NO_SPAN};
use std::borrow::Cow;
use std::ops::Range;
use whistler_syntax::{Diagnostic, ReadOptions, Sexp, SourceFile, Span, Symbol};

/// A library definition waiting for its first use: a top-level list of a library's text.
pub(crate) struct DeferredDefinition {
    pub(crate) is_macro: bool,
    source: Source,
}

enum Source {
    /// Read already (the library could not be split without reading it).
    Form(Sexp),
    /// Not read yet: the list's text and how to read it.
    Text(&'static str, ReadOptions),
}

impl Interp {
    /// Loads a library written in Lisp, `text` being the file `file_name`, and returns the
    /// reader's and the evaluator's errors as diagnostics against it. Definitions are deferred
    /// as the module doc says; until then their symbols count as defined (`fboundp`,
    /// [`Interp::is_macro`], [`Interp::macro_names`]), and a later definition replaces them.
    pub fn load_library(
        &mut self,
        file_name: &str,
        text: &'static str,
        options: ReadOptions,
    ) -> Vec<Diagnostic> {
        let Some(lists) = whistler_syntax::top_level_lists(text) else {
            return self.load_library_read_whole(file_name, text, options);
        };
        let mut errors = Vec::new();
        for range in lists {
            let list = &text[range.clone()];
            if let Some((is_macro, name)) = definition_head(list) {
                let source = Source::Text(list, options);
                let definition = DeferredDefinition { is_macro, source };
                self.symbols.defer(name, definition);
                continue;
            }
            match read_one(file_name, list, options, range.clone()) {
                Ok(form) => errors.extend(self.eval_library_form(&form).err()),
                Err(diagnostics) => return diagnostics,
            }
        }
        errors.iter().flat_map(EvalError::to_diagnostics).collect()
    }

    /// [`Interp::load_library`] for text that must be read whole first.
    fn load_library_read_whole(
        &mut self,
        file_name: &str,
        text: &'static str,
        options: ReadOptions,
    ) -> Vec<Diagnostic> {
        let read = whistler_syntax::read_with(&SourceFile::new(file_name, text), options);
        let mut diagnostics = read.diagnostics;
        for form in read.forms {
            let definition = form.as_list().and_then(|items| match items {
                [head, name, ..] => {
                    let is_macro = head.is_symbol_named("defmacro");
                    let is_definition = is_macro || head.is_symbol_named("defun");
                    is_definition.then_some((is_macro, name.as_symbol()?.clone()))
                }
                _ => None,
            });
            match definition {
                Some((is_macro, name)) => {
                    let source = Source::Form(form);
                    self.defer(&name, DeferredDefinition { is_macro, source });
                }
                None => {
                    let error = self.eval_library_form(&form).err();
                    diagnostics.extend(error.iter().flat_map(EvalError::to_diagnostics));
                }
            }
        }
        diagnostics
    }

    fn defer(&mut self, name: &Symbol, definition: DeferredDefinition) {
        let sym = self.intern_symbol(name);
        crate::special::forget_standard_macro(&sym);
        sym.deferred.replace(Some(definition));
    }

    /// Evaluates every deferred library definition now, returning the errors: how tests prove
    /// that a whole library loads.
    pub fn define_all_deferred(&mut self) -> Vec<EvalError> {
        let deferred: Vec<Sym> = self
            .symbols
            .symbols()
            .into_iter()
            .filter(|s| s.deferred.borrow().is_some())
            .collect();
        let mut errors = Vec::new();
        for sym in &deferred {
            if let Err(flow) = self.define_deferred(sym) {
                errors.push(self.flow_to_error(flow, NO_SPAN));
            }
        }
        errors
    }

    /// Evaluates `sym`'s deferred library definition, if it has one.
    pub(crate) fn define_deferred(&mut self, sym: &Sym) -> Result<(), Flow> {
        let Some(deferred) = sym.deferred.take() else {
            return Ok(());
        };
        let form = match deferred.source {
            Source::Form(form) => form,
            Source::Text(list, options) => {
                let range = 0..list.len();
                read_one(&sym.name, list, options, range).map_err(|diagnostics| {
                    let message = diagnostics.first().map_or("", |d| &d.message);
                    EvalError::new("error", message, NO_SPAN)
                })?
            }
        };
        self.eval_library_form(&form).map(drop).map_err(Flow::from)
    }
}

/// Reads the one list `list`, found at `range` of the file `file_name`; the form's span and
/// any diagnostic are placed at `range`.
fn read_one(
    file_name: &str,
    list: &str,
    options: ReadOptions,
    range: Range<usize>,
) -> Result<Sexp, Vec<Diagnostic>> {
    let read = whistler_syntax::read_with(&SourceFile::new(file_name, list), options);
    let at = Span::new(range.start, range.end);
    match (read.diagnostics.is_empty(), read.forms.into_iter().next()) {
        (true, Some(form)) => Ok(Sexp { span: at, ..form }),
        (_, _) => Err(read
            .diagnostics
            .into_iter()
            .map(|d| Diagnostic { span: at, ..d })
            .collect()),
    }
}

/// `Some((is_macro, name))` when `list` is `(defun NAME ...)` or `(defmacro NAME ...)` with a
/// plain symbol as the name (no package, no escapes), the name as the reader folds it.
fn definition_head(list: &'static str) -> Option<(bool, Cow<'static, str>)> {
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
    Some((is_macro, name))
}
