//! Loading libraries written in Lisp (the prelude, the compiler's macro library) so that a
//! program pays only for the definitions it uses: a top-level `defun` or `defmacro` of a symbol
//! is kept as text, and read and evaluated on the symbol's first use as a function or macro; a
//! `defvar`, `defparameter` or `defconstant` whose value needs no evaluation (a number, a
//! quoted datum, a constant's name) is made when its symbol is first interned; every other form
//! is evaluated at load, in order.

use crate::error::{EvalError, Flow};
use crate::interp::symbols::{LibraryVariable, VariableValue};
use crate::interp::Interp;
use crate::value::{Sym, NO_SPAN};
use std::ops::Range;
use whistler_syntax::{
    DefinitionKind, Diagnostic, LibraryList, ReadOptions, Sexp, SourceFile, Span, Symbol,
    VariableInit,
};

/// A library definition waiting for its first use: a top-level list of a library's text.
pub(crate) struct DeferredDefinition {
    pub(crate) is_macro: bool,
    source: Source,
}

enum Source {
    /// Read already (the library could not be split without reading it). Boxed: the symbol
    /// table keeps a thousand pending definitions, nearly all `Text`, and this keeps each small.
    Form(Box<Sexp>),
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
        match whistler_syntax::library_lists(text) {
            Some(lists) => self.load_split_library(text, &lists, options),
            None => self.load_library_read_whole(file_name, text, options),
        }
    }

    /// [`Interp::load_library`] of a text already split into its top-level lists (by
    /// `whistler_syntax::library_lists`, or at build time by a build script writing
    /// `whistler_syntax::library_table`), so that loading does not skim the text again.
    pub fn load_split_library(
        &mut self,
        text: &'static str,
        lists: &[LibraryList<'static>],
        options: ReadOptions,
    ) -> Vec<Diagnostic> {
        let mut errors = Vec::new();
        for list in lists {
            let range = list.start..list.end;
            let list_text = &text[range.clone()];
            if let Some(definition) = &list.definition {
                let name = definition.name.clone();
                let is_macro = match definition.kind {
                    DefinitionKind::Macro => true,
                    DefinitionKind::Function => false,
                    DefinitionKind::SetfFunction => {
                        let source = Source::Text(list_text, options);
                        let deferred = DeferredDefinition {
                            is_macro: false,
                            source,
                        };
                        self.symbols.defer_setf(name, deferred);
                        continue;
                    }
                    DefinitionKind::Variable(operator, init) => {
                        if let Some(init) = self.variable_value(text, init) {
                            let variable = LibraryVariable { operator, init };
                            self.symbols.define_variable(name, variable);
                            continue;
                        }
                        match read_one(list_text, options, range) {
                            Ok(form) => errors.extend(self.eval_library_form(&form).err()),
                            Err(diagnostics) => return diagnostics,
                        }
                        continue;
                    }
                };
                let source = Source::Text(list_text, options);
                let deferred = DeferredDefinition { is_macro, source };
                self.symbols.defer(name, deferred);
                continue;
            }
            match read_one(list_text, options, range) {
                Ok(form) => errors.extend(self.eval_library_form(&form).err()),
                Err(diagnostics) => return diagnostics,
            }
        }
        errors.iter().flat_map(EvalError::to_diagnostics).collect()
    }

    /// The value a library variable definition's `init` gives, unless the form must be evaluated
    /// (it names a symbol that is not a constant).
    fn variable_value(&mut self, text: &'static str, init: VariableInit) -> Option<VariableValue> {
        let value = match init {
            VariableInit::Integer(n) => crate::number::from_i128(n),
            VariableInit::Symbol { start, end } => {
                let sym = self.symbols.get(&text[start..end])?;
                if !sym.constant.get() {
                    return None;
                }
                let value = sym.value.borrow().clone()?;
                value
            }
            VariableInit::Quoted { start, end } => {
                return Some(VariableValue::Datum(&text[start..end]))
            }
        };
        Some(VariableValue::Value(value))
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
                    let source = Source::Form(Box::new(form));
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
            .filter(|s| s.deferred.borrow().is_some() || s.deferred_setf.borrow().is_some())
            .collect();
        let mut errors = Vec::new();
        for sym in &deferred {
            let defined = self.define_deferred(sym);
            if let Err(flow) = defined.and_then(|()| self.define_deferred_setf(sym)) {
                errors.push(self.flow_to_error(flow, NO_SPAN));
            }
        }
        errors
    }

    /// Evaluates `sym`'s deferred library definition, if it has one.
    pub(crate) fn define_deferred(&mut self, sym: &Sym) -> Result<(), Flow> {
        match sym.deferred.take() {
            Some(deferred) => self.define_library_definition(deferred),
            None => Ok(()),
        }
    }

    /// Evaluates `sym`'s deferred library `(defun (setf NAME) ...)`, if it has one.
    pub(crate) fn define_deferred_setf(&mut self, sym: &Sym) -> Result<(), Flow> {
        match sym.deferred_setf.take() {
            Some(deferred) => self.define_library_definition(deferred),
            None => Ok(()),
        }
    }

    fn define_library_definition(&mut self, deferred: DeferredDefinition) -> Result<(), Flow> {
        let form = match deferred.source {
            Source::Form(form) => *form,
            Source::Text(list, options) => {
                let range = 0..list.len();
                read_one(list, options, range).map_err(|diagnostics| {
                    let message = diagnostics.first().map_or("", |d| &d.message);
                    EvalError::new("error", message, NO_SPAN)
                })?
            }
        };
        self.eval_library_form(&form).map(drop).map_err(Flow::from)
    }
}

/// Reads the one list `list`, found at `range` of its library's text; the form's span and any
/// diagnostic are placed at `range`.
fn read_one(
    list: &str,
    options: ReadOptions,
    range: Range<usize>,
) -> Result<Sexp, Vec<Diagnostic>> {
    let read = whistler_syntax::read_str_with(list, options);
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
