//! The reader: source text to spanned s-expressions, iteratively, with error recovery.
//!
//! Reading never recurses: open lists and pending prefixes (`'`, `` ` ``, `,`, `,@`, `#'`) live
//! on an explicit stack of frames, so any nesting depth is read in constant Rust stack. Lists
//! nested deeper than [`MAX_DEPTH`] are reported once per top-level form and their contents are
//! discarded, so every tree handed to later stages is at most `MAX_DEPTH` levels deep and can be
//! walked recursively (and dropped) safely.
//!
//! Problems never stop the reader: each one becomes a [`Diagnostic`] and reading goes on after it.
//! A top-level form still unfinished at the end of the file is not returned.

use crate::token::{self, Token};
use crate::{Diagnostic, Sexp, SexpKind, SourceFile, Span, Symbol};

/// The deepest nesting of lists the reader builds. Deeper input is a diagnostic ("nesting deeper
/// than N levels"); later stages may recurse over trees up to this depth. Measured in a debug
/// build: `Clone` and `==` of a tree this deep take about 512 KiB of stack, the derived `Debug`
/// about 1 MiB, so a 2 MiB thread (the test default) walks one comfortably.
pub const MAX_DEPTH: usize = 1000;

/// Everything read from one file: the forms that could be read and every problem found.
#[derive(Clone, Debug, Default)]
pub struct ReadResult {
    pub forms: Vec<Sexp>,
    pub diagnostics: Vec<Diagnostic>,
}

/// How to read. The default is what the compiler wants.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// Read syntax that only code running on the host (session files) can use, instead of
    /// reporting it: floating-point and ratio literals (`0.5`, `1e3`, `1/3`) as symbols in the
    /// [`crate::FLOAT_PACKAGE`] package whose name is the literal's text, so that
    /// `(sleep 0.5)` makes sense; vector literals `#(a b)` as `(%vector-literal (a b))`
    /// ([`crate::VECTOR_LITERAL`]).
    pub host_code: bool,
}

/// Reads every top-level form of `file`.
pub fn read(file: &SourceFile) -> ReadResult {
    read_str(&file.text)
}

/// Reads every top-level form of `file` with `options`.
pub fn read_with(file: &SourceFile, options: ReadOptions) -> ReadResult {
    read_text(&file.text, options)
}

/// Reads every top-level form of `text` (spans are byte offsets into `text`).
pub fn read_str(text: &str) -> ReadResult {
    read_text(text, ReadOptions::default())
}

/// Reads every top-level form of `text` with `options` (spans are byte offsets into `text`).
pub fn read_str_with(text: &str, options: ReadOptions) -> ReadResult {
    read_text(text, options)
}

fn read_text(text: &str, options: ReadOptions) -> ReadResult {
    let mut reader = Reader {
        options,
        text,
        pos: 0,
        stack: Vec::new(),
        result: ReadResult::default(),
        depth_reported: false,
        first_column_open: None,
    };
    reader.run();
    reader.result
}

/// Where the reader stands inside a list with respect to a consing dot.
enum Dot {
    /// No `.` seen.
    None,
    /// `.` seen at this span; the tail has not been read yet.
    Pending(Span),
    /// `(a . b)`: the tail (`None` when it was discarded) and the dot's span.
    Tail(Option<Box<Sexp>>, Span),
}

enum Frame {
    /// An open `(` at byte `open`.
    List {
        open: usize,
        items: Vec<Sexp>,
        dot: Dot,
        discard: bool,
    },
    /// A prefix such as `'` waiting for its form; `head` names the list it builds.
    Prefix {
        head: &'static str,
        span: Span,
        discard: bool,
    },
    /// `#+feature form` / `#-feature form`: `test` is the feature's truth once it is read.
    Feature {
        positive: bool,
        span: Span,
        test: Option<bool>,
        discard: bool,
    },
}

impl Frame {
    fn discards(&self) -> bool {
        match self {
            Frame::List { discard, .. }
            | Frame::Prefix { discard, .. }
            | Frame::Feature { discard, .. } => *discard,
        }
    }
}

struct Reader<'a> {
    options: ReadOptions,
    text: &'a str,
    pos: usize,
    stack: Vec<Frame>,
    result: ReadResult,
    /// Whether the current top-level form already got its "nesting too deep" diagnostic.
    depth_reported: bool,
    /// The first `(` in the first column of a line seen while a list was open: where a missing
    /// `)` most likely belongs.
    first_column_open: Option<usize>,
}

impl Reader<'_> {
    fn run(&mut self) {
        while let Some((tok, span)) = token::next(
            self.text,
            &mut self.pos,
            &mut self.result.diagnostics,
            self.options.host_code,
        ) {
            self.token(tok, span);
        }
        self.finish();
    }

    fn token(&mut self, tok: Token, span: Span) {
        match tok {
            Token::Open => self.open(span),
            Token::Close => self.close(span),
            Token::Dot => self.dot(span),
            Token::Prefix(head) => {
                let discard = self.push_depth_check(span);
                self.stack.push(Frame::Prefix {
                    head,
                    span,
                    discard,
                });
            }
            Token::Feature(positive) => {
                let discard = self.push_depth_check(span);
                self.stack.push(Frame::Feature {
                    positive,
                    span,
                    test: None,
                    discard,
                });
            }
            Token::Atom(kind) => self.emit(Some(Sexp { kind, span })),
            Token::Skipped => self.emit(None),
        }
    }

    /// True when a new frame opened at `span` would be nested deeper than `MAX_DEPTH`;
    /// reports that once per top-level form.
    fn push_depth_check(&mut self, span: Span) -> bool {
        let parent_discards = self.stack.last().is_some_and(Frame::discards);
        let too_deep = parent_discards || self.stack.len() >= MAX_DEPTH;
        if too_deep && !self.depth_reported {
            self.depth_reported = true;
            self.result.diagnostics.push(
                Diagnostic::error(span, format!("nesting deeper than {MAX_DEPTH} levels"))
                    .with_help(
                        "split this form into smaller definitions; forms this deep are not read",
                    ),
            );
        }
        too_deep
    }

    fn open(&mut self, span: Span) {
        let start = span.start as usize;
        let first_column = start == 0 || self.text.as_bytes()[start - 1] == b'\n';
        if first_column && !self.stack.is_empty() && self.first_column_open.is_none() {
            self.first_column_open = Some(start);
        }
        let discard = self.push_depth_check(span);
        self.stack.push(Frame::List {
            open: span.start as usize,
            items: Vec::new(),
            dot: Dot::None,
            discard,
        });
    }

    fn close(&mut self, span: Span) {
        self.abandon_prefixes(span);
        let Some(Frame::List {
            open,
            items,
            dot,
            discard,
        }) = self.stack.pop()
        else {
            self.result.diagnostics.push(
                Diagnostic::error(span, "unexpected `)`")
                    .with_help("no list is open here; remove this `)` or add the `(` it closes"),
            );
            return;
        };
        let whole = Span::new(open, span.end as usize);
        let kind = match dot {
            Dot::None => SexpKind::List(items),
            Dot::Pending(dot_span) => {
                self.result.diagnostics.push(
                    Diagnostic::error(dot_span, "nothing after `.` in a dotted list")
                        .with_help("write the tail after the dot, as in `(a . b)`"),
                );
                SexpKind::List(items)
            }
            Dot::Tail(Some(tail), _) => dotted(items, *tail),
            Dot::Tail(None, _) => SexpKind::List(items),
        };
        let sexp = (!discard).then_some(Sexp { kind, span: whole });
        self.emit(sexp);
    }

    /// Pops prefixes that a `)` or the end of input leaves without a form.
    fn abandon_prefixes(&mut self, at: Span) {
        let place = if at.start == at.end {
            "the end of the file"
        } else {
            "the `)`"
        };
        loop {
            let (span, message, help) = match self.stack.last() {
                Some(Frame::Prefix { head, span, .. }) => (
                    *span,
                    format!("{} is not followed by a form", describe_prefix(head)),
                    format!("write the form it applies to before {place}"),
                ),
                Some(Frame::Feature { positive, span, .. }) => (
                    *span,
                    format!(
                        "`#{}` is not followed by a feature and a form",
                        if *positive { '+' } else { '-' }
                    ),
                    format!("write a feature and a form before {place}, as in `#+whistler (form)`"),
                ),
                _ => return,
            };
            self.stack.pop();
            self.result
                .diagnostics
                .push(Diagnostic::error(span, message).with_help(help));
        }
    }

    fn dot(&mut self, span: Span) {
        let problem = match self.stack.last_mut() {
            Some(Frame::List { items, dot, .. }) => match dot {
                Dot::None if !items.is_empty() => {
                    *dot = Dot::Pending(span);
                    return;
                }
                Dot::None => "nothing before `.` in a dotted list",
                _ => "a list can have only one `.`",
            },
            _ => "`.` outside a list",
        };
        self.result
            .diagnostics
            .push(Diagnostic::error(span, problem).with_help(
                "a dotted list has one or more forms, a `.`, and one tail form: `(a b . c)`",
            ));
    }

    /// Hands a finished form (or `None` for a discarded one) to the innermost open frame.
    fn emit(&mut self, mut sexp: Option<Sexp>) {
        loop {
            match self.stack.last_mut() {
                None => {
                    self.result.forms.extend(sexp);
                    self.depth_reported = false;
                    self.first_column_open = None;
                    return;
                }
                Some(Frame::Prefix { .. }) => {
                    let Some(Frame::Prefix {
                        head,
                        span,
                        discard,
                    }) = self.stack.pop()
                    else {
                        unreachable!("the top frame was just seen to be a prefix")
                    };
                    sexp = match sexp {
                        Some(inner) if !discard => Some(wrap_prefix(head, span, inner)),
                        _ => None,
                    };
                }
                Some(Frame::Feature {
                    test: test @ None, ..
                }) => {
                    *test = Some(match &sexp {
                        Some(expr) => feature_holds(expr, &mut self.result.diagnostics),
                        None => false,
                    });
                    return;
                }
                Some(Frame::Feature { .. }) => {
                    let Some(Frame::Feature {
                        positive,
                        test,
                        discard,
                        ..
                    }) = self.stack.pop()
                    else {
                        unreachable!("the top frame was just seen to be a feature test")
                    };
                    if discard || test != Some(positive) {
                        sexp = None;
                    }
                }
                Some(Frame::List { items, dot, .. }) => {
                    match dot {
                        Dot::None => items.extend(sexp),
                        Dot::Pending(dot_span) => *dot = Dot::Tail(sexp.map(Box::new), *dot_span),
                        Dot::Tail(_, dot_span) => {
                            let at = sexp.map_or(*dot_span, |s| s.span);
                            self.result.diagnostics.push(
                                Diagnostic::error(
                                    at,
                                    "more than one form after `.` in a dotted list",
                                )
                                .with_help("only one tail form may follow the dot: `(a b . c)`"),
                            );
                        }
                    }
                    return;
                }
            }
        }
    }

    /// End of input: report whatever is still open.
    fn finish(&mut self) {
        let end = Span::new(self.text.len(), self.text.len());
        self.abandon_prefixes(end);
        let open_lists = self
            .stack
            .iter()
            .filter(|f| matches!(f, Frame::List { .. }))
            .count();
        // Prefixes below lists are abandoned along with the lists; only lists are reported.
        let outermost = self.stack.iter().find_map(|f| match f {
            Frame::List { open, .. } => Some(*open),
            _ => None,
        });
        if let Some(open) = outermost {
            let message = if open_lists == 1 {
                "unclosed `(`: the list opened here is never closed".to_string()
            } else {
                format!(
                    "unclosed `(`: {open_lists} lists, the outermost opened here, are never closed"
                )
            };
            let help = if open_lists == 1 {
                "add a `)` where this list should end".to_string()
            } else {
                format!("add {open_lists} `)` where these lists should end")
            };
            self.result
                .diagnostics
                .push(Diagnostic::error(Span::new(open, open + 1), message).with_help(help));
            if let Some(at) = self.first_column_open {
                self.result.diagnostics.push(Diagnostic::note(
                    Span::new(at, at + 1),
                    "this form starts in the first column inside the unclosed list; a `)` is probably missing before it",
                ));
            }
        }
        self.stack.clear();
    }
}

/// `(a . b)`, normalized as Common Lisp reads it: `(a . (b c))` is `(a b c)` and `(a . nil)` is
/// `(a)`.
fn dotted(mut items: Vec<Sexp>, tail: Sexp) -> SexpKind {
    match tail.kind {
        SexpKind::List(rest) => {
            items.extend(rest);
            SexpKind::List(items)
        }
        SexpKind::DottedList(rest, last) => {
            items.extend(rest);
            SexpKind::DottedList(items, last)
        }
        SexpKind::Symbol(ref s) if s.package.is_none() && s.name == "nil" => SexpKind::List(items),
        _ => SexpKind::DottedList(items, Box::new(tail)),
    }
}

/// `'x` as `(quote x)`: the head symbol carries the prefix's span, the list spans both.
fn wrap_prefix(head: &'static str, span: Span, inner: Sexp) -> Sexp {
    let whole = span.to(inner.span);
    let head = Sexp {
        kind: SexpKind::Symbol(Symbol::new(head)),
        span,
    };
    Sexp {
        kind: SexpKind::List(vec![head, inner]),
        span: whole,
    }
}

/// A prefix named for a message, from the name of the list it builds.
fn describe_prefix(head: &str) -> &'static str {
    match head {
        "quote" => "quote `'`",
        "quasiquote" => "backquote",
        "unquote" => "unquote `,`",
        "unquote-splicing" => "unquote-splicing `,@`",
        _ => "`#'`",
    }
}

/// The features `#+` tests for. We are not any particular Lisp implementation, so `#+sbcl`
/// forms are skipped and `#-sbcl` forms are read.
pub const FEATURES: &[&str] = &["whistler", "common-lisp"];

/// Evaluates a feature expression: a symbol, or `(:and ...)`, `(:or ...)`, `(:not x)`.
fn feature_holds(expr: &Sexp, diags: &mut Vec<Diagnostic>) -> bool {
    if let Some(sym) = expr.as_symbol() {
        return FEATURES.contains(&sym.name.as_str());
    }
    let operator = expr.as_list().and_then(|items| {
        let (head, args) = items.split_first()?;
        Some((head.as_symbol()?.name.as_str(), args))
    });
    match operator {
        Some(("and", args)) => args.iter().all(|a| feature_holds(a, diags)),
        Some(("or", args)) => args.iter().any(|a| feature_holds(a, diags)),
        Some(("not", [arg])) => !feature_holds(arg, diags),
        _ => {
            diags.push(
                Diagnostic::error(expr.span, "malformed feature expression")
                    .with_help("a feature is a symbol such as `:sbcl`, or `(:and ...)`, `(:or ...)`, `(:not x)`"),
            );
            false
        }
    }
}
