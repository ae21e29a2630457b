//! Evaluation errors: the public [`EvalError`] (a message, the span of the form being evaluated
//! and the macro expansions it happened in) and the internal control-flow type [`Flow`] that
//! also carries `return-from` and `throw` unwinding.

use crate::value::{Value, NO_SPAN};
use whistler_syntax::{Diagnostic, Span};

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// A Lisp condition was signalled and not handled: `condition` is its type name
    /// (`simple-error`, `unbound-variable`, `undefined-function`, `type-error`, ...).
    #[error("{message}")]
    Signal { condition: String, message: String },
    /// The step limit was reached (runaway code).
    #[error("evaluation did not finish within {0} steps")]
    StepLimit(u64),
    /// Calls or macro expansions nested deeper than the limit (runaway recursion).
    #[error("calls nested deeper than {0} levels")]
    DepthLimit(usize),
    /// The host's interrupt flag was set (Ctrl-C) and no `handler-case` caught it.
    #[error("interrupted")]
    Interrupted,
}

/// One macro expansion an error happened in: the macro's name and the span of its call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacroFrame {
    pub name: String,
    pub call_span: Span,
}

/// An error from evaluation, located at the form being evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct EvalError {
    pub kind: ErrorKind,
    pub span: Span,
    /// The expansions the error happened in, innermost first.
    pub expansions: Vec<MacroFrame>,
    /// How to fix it, when we can tell.
    pub help: Option<String>,
}

/// At most this many expansion frames are kept (innermost first).
const MAX_FRAMES: usize = 16;

impl EvalError {
    pub fn new(condition: &str, message: impl Into<String>, span: Span) -> EvalError {
        EvalError {
            kind: ErrorKind::Signal {
                condition: condition.to_string(),
                message: message.into(),
            },
            span,
            expansions: Vec::new(),
            help: None,
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> EvalError {
        self.help = Some(help.into());
        self
    }
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
    /// The condition type name: `step-limit`, `depth-limit`, `interrupt` for the special kinds.
    pub fn condition(&self) -> &str {
        match &self.kind {
            ErrorKind::Signal { condition, .. } => condition,
            ErrorKind::StepLimit(_) => "step-limit",
            ErrorKind::DepthLimit(_) => "depth-limit",
            ErrorKind::Interrupted => "interrupt",
        }
    }
    /// The error and one "in expansion of macro X" note per expansion it happened in.
    pub fn to_diagnostics(&self) -> Vec<Diagnostic> {
        let mut main = Diagnostic::error(self.span, self.message());
        main.help = self.help.clone();
        let mut out = vec![main];
        let mut i = 0;
        while i < self.expansions.len() {
            let frame = &self.expansions[i];
            let repeats = self.expansions[i..]
                .iter()
                .take_while(|f| *f == frame)
                .count();
            let span = if frame.call_span == NO_SPAN {
                self.span
            } else {
                frame.call_span
            };
            let times = if repeats > 1 {
                format!(" ({repeats} times)")
            } else {
                String::new()
            };
            out.push(Diagnostic::note(
                span,
                format!("in expansion of macro `{}`{times}", frame.name),
            ));
            i += repeats;
        }
        out
    }
    /// Records that the error happened inside the expansion of `name` called at `call_span`;
    /// a span outside the call (in the macro's own definition) is replaced by the call's.
    pub(crate) fn in_expansion(&mut self, name: &str, call_span: Span) {
        for frame in &mut self.expansions {
            if frame.call_span == NO_SPAN {
                frame.call_span = call_span;
            }
        }
        if call_span == NO_SPAN {
            // A call built by an outer macro: the outer expansion will supply the span.
        } else if self.span == NO_SPAN
            || self.span.start < call_span.start
            || self.span.end > call_span.end
        {
            self.span = call_span;
        }
        if self.expansions.len() < MAX_FRAMES {
            self.expansions.push(MacroFrame {
                name: name.to_string(),
                call_span,
            });
        }
    }
}

/// A raised error: the public error and, for Lisp conditions, the condition object.
pub struct Raised {
    pub error: EvalError,
    pub condition: Option<Value>,
    /// `handler-bind` handlers have already seen it (at the point it was signalled).
    pub signalled: bool,
}

/// Why evaluation left a form early.
pub enum Flow {
    Error(Box<Raised>),
    /// `return-from` the block with this identity.
    Return {
        block: u64,
        value: Value,
    },
    /// `throw` to a `catch` tag.
    Throw {
        tag: Value,
        value: Value,
    },
}

impl From<EvalError> for Flow {
    fn from(error: EvalError) -> Flow {
        Flow::Error(Box::new(Raised {
            error,
            condition: None,
            signalled: false,
        }))
    }
}

/// Shorthand for a `simple-error` style failure at `span`.
pub fn fail<T>(condition: &str, message: impl Into<String>, span: Span) -> Result<T, Flow> {
    Err(EvalError::new(condition, message, span).into())
}
