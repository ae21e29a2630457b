//! Diagnostics shared by every stage, and their rustc-style rendering.

use crate::{SourceFile, Span};
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    /// Context for the diagnostic before it, such as "in expansion of macro `with-tcp`".
    Note,
}

/// A located message about the user's source: what is wrong (`message`) and, when we can tell,
/// what would be right (`help`, e.g. "did you mean `counts`?").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            help: None,
        }
    }
    pub fn note(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Note,
            message: message.into(),
            span,
            help: None,
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

/// Renders `file:line:col: error: message`, the source line, a `^^^` underline and the help.
pub fn render(file: &SourceFile, d: &Diagnostic) -> String {
    let start = file.line_col(d.span.start);
    let end = file.line_col(d.span.end.max(d.span.start));
    let kind = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}:{}:{}: {kind}: {}",
        file.name, start.line, start.col, d.message
    );
    let text = file.line_text(start.line);
    let gutter = start.line.to_string().len();
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{} | {}", start.line, text);
    let width = if end.line == start.line {
        (end.col.saturating_sub(start.col)).max(1) as usize
    } else {
        (text.chars().count() + 1)
            .saturating_sub(start.col as usize)
            .max(1)
    };
    let _ = writeln!(
        out,
        "{:gutter$} | {}{}",
        "",
        " ".repeat(start.col as usize - 1),
        "^".repeat(width)
    );
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{:gutter$} = help: {}", "", help);
    }
    out
}
