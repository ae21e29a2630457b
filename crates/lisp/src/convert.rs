//! Conversion between read s-expressions and values, keeping spans: read conses and atoms
//! carry their source spans into values, and back again when a macro's expansion reuses them;
//! anything a macro built itself gets the span of the macro call.

use crate::error::EvalError;
use crate::interp::symbols::SymbolTable;
use crate::interp::{package_key, Interp};
use crate::value::{span_within, Value, NO_SPAN};
use std::cell::RefCell;
use std::rc::Rc;
use whistler_syntax::{Sexp, SexpKind, Span, Symbol, FLOAT_PACKAGE, MAX_DEPTH, VECTOR_LITERAL};

impl Interp {
    /// The value of a read form (conses and atoms keep their spans).
    pub fn sexp_to_value(&mut self, s: &Sexp) -> Value {
        form_value(&self.symbols, s, true)
    }

    /// The value of a read form whose conses and atoms carry no span (a library's code, what
    /// `read` returns to Lisp code).
    pub(crate) fn sexp_to_value_without_spans(&mut self, s: &Sexp) -> Value {
        form_value(&self.symbols, s, false)
    }

    /// The s-expression for a value. Spans inside `span` are kept; all others (code-built
    /// values, pieces of a macro's own definition) become `span`. Values with no written form
    /// (functions, hash tables, host objects) print as symbols such as `#<function f>`; use
    /// [`check_convertible`] first to reject them.
    pub fn value_to_sexp(&self, v: &Value, span: Span) -> Sexp {
        let mut budget = 10_000_000usize;
        to_sexp(v, span, 0, &mut budget)
    }
}

/// The value of a read form, interned in `symbols`; with `keep_spans`, conses and atoms keep
/// their spans.
pub(crate) fn form_value(symbols: &SymbolTable, s: &Sexp, keep_spans: bool) -> Value {
    let span = if keep_spans { s.span } else { NO_SPAN };
    match &s.kind {
        SexpKind::List(items) => match vector_literal(items) {
            Some(elements) => {
                let elements = elements
                    .iter()
                    .map(|e| form_value(symbols, e, keep_spans))
                    .collect();
                Value::Vector(Rc::new(RefCell::new(elements)))
            }
            None => list_value(symbols, items, Value::Nil, span, keep_spans),
        },
        SexpKind::DottedList(items, tail) => {
            let tail = form_value(symbols, tail, keep_spans);
            list_value(symbols, items, tail, span, keep_spans)
        }
        SexpKind::Symbol(sym) if sym.package.is_none() && sym.name == "nil" => Value::Nil,
        SexpKind::Symbol(sym) if sym.package.as_deref() == Some(FLOAT_PACKAGE) => {
            crate::number::parse_literal(&sym.name)
        }
        SexpKind::Symbol(sym) => {
            let package = package_key(sym.package.as_deref());
            Value::Sym(symbols.intern_in(package, &sym.name), span)
        }
        SexpKind::Int(n) => match crate::number::from_i128(*n) {
            Value::Int(n, _) => Value::Int(n, span),
            big => big,
        },
        SexpKind::Str(text) => {
            Value::Str(Rc::new(crate::value::LispString::new(text.clone())), span)
        }
        SexpKind::Char(c) => Value::Char(*c, span),
    }
}

/// Conses for `items` ending in `tail`; each tail cons spans from its element to the end
/// (or has no span, without `keep_spans`).
fn list_value(
    symbols: &SymbolTable,
    items: &[Sexp],
    tail: Value,
    span: Span,
    keep_spans: bool,
) -> Value {
    let mut list = tail;
    for (i, item) in items.iter().enumerate().rev() {
        let car = crate::stack::guard(|| form_value(symbols, item, keep_spans));
        let cell_span = if i == 0 || !keep_spans {
            span
        } else {
            Span {
                start: item.span.start,
                end: span.end,
            }
        };
        list = Value::cons_at(car, list, cell_span);
    }
    list
}

/// The elements of `(%vector-literal (ELEMENTS...))`, how host code reads `#(ELEMENTS...)`.
fn vector_literal(items: &[Sexp]) -> Option<&[Sexp]> {
    match items {
        [head, elements]
            if head
                .as_symbol()
                .is_some_and(|s| s.package.is_none() && s.name == VECTOR_LITERAL) =>
        {
            elements.as_list()
        }
        _ => None,
    }
}

fn atom(kind: SexpKind, v: &Value, within: Span) -> Sexp {
    Sexp {
        kind,
        span: span_within(v.span(), within),
    }
}

fn to_sexp(v: &Value, within: Span, depth: usize, budget: &mut usize) -> Sexp {
    *budget = budget.saturating_sub(1);
    match v {
        Value::Nil => Sexp::symbol("nil", within),
        Value::Int(n, _) => atom(SexpKind::Int(*n as i128), v, within),
        Value::Big(b) => {
            use num_traits::ToPrimitive;
            match b.to_i128() {
                Some(n) => Sexp {
                    kind: SexpKind::Int(n),
                    span: within,
                },
                None => Sexp::symbol(b.to_string(), within),
            }
        }
        Value::Float(x) => Sexp {
            kind: SexpKind::Symbol(Symbol {
                package: Some(FLOAT_PACKAGE.to_string()),
                name: format!("{x:?}"),
            }),
            span: within,
        },
        Value::Ratio(r) => Sexp {
            kind: SexpKind::Symbol(Symbol {
                package: Some(FLOAT_PACKAGE.to_string()),
                name: r.to_string(),
            }),
            span: within,
        },
        Value::Sym(s, _) => atom(
            SexpKind::Symbol(Symbol {
                package: s.package.clone(),
                // An uninterned symbol (a gensym) keeps its `#:` so that it never names the
                // same variable as a symbol the user wrote.
                name: if s.interned || s.package.is_some() {
                    s.name.clone()
                } else {
                    format!("#:{}", s.name)
                },
            }),
            v,
            within,
        ),
        Value::Str(s, _) => atom(SexpKind::Str(s.to_string()), v, within),
        Value::Char(c, _) => atom(SexpKind::Char(*c), v, within),
        Value::Cons(c) => {
            let span = span_within(c.span, within);
            if depth >= MAX_DEPTH || *budget == 0 {
                return Sexp::symbol("...", span);
            }
            let mut items = Vec::new();
            let mut rest = v.clone();
            let tail = loop {
                match rest {
                    Value::Cons(cell) => {
                        if *budget == 0 {
                            break Some(Sexp::symbol("...", span));
                        }
                        items.push(to_sexp(&cell.car(), within, depth + 1, budget));
                        rest = cell.cdr();
                    }
                    Value::Nil => break None,
                    other => break Some(to_sexp(&other, within, depth + 1, budget)),
                }
            };
            match tail {
                None => Sexp::list(items, span),
                Some(t) => Sexp {
                    kind: SexpKind::DottedList(items, Box::new(t)),
                    span,
                },
            }
        }
        other => Sexp::symbol(crate::printer::prin1(other).to_lowercase(), within),
    }
}

/// Checks that a macro expansion can be handed back as source: no functions, hash tables or
/// host objects, no integers beyond 128 bits, no circular lists (at most 10 million conses), at most `MAX_DEPTH` deep.
pub fn check_convertible(v: &Value, call: Span) -> Result<(), EvalError> {
    let mut budget = 10_000_000usize;
    let mut pending = vec![(v.clone(), 0usize)];
    let problem = |what: String| {
        EvalError::new(
            "error",
            format!("the macro expansion contains {what}, which cannot be compiled"),
            call,
        )
    };
    while let Some((value, depth)) = pending.pop() {
        if depth > MAX_DEPTH {
            return Err(problem(format!(
                "forms nested deeper than {MAX_DEPTH} levels"
            )));
        }
        match &value {
            Value::Cons(c) => {
                budget = budget.saturating_sub(1);
                if budget == 0 {
                    return Err(problem(
                        "a circular list (or more than 10 million conses)".into(),
                    ));
                }
                pending.push((c.cdr(), depth));
                pending.push((c.car(), depth + 1));
            }
            Value::Big(b) => {
                use num_traits::ToPrimitive;
                if b.to_i128().is_none() {
                    return Err(problem(format!("the integer {b}")));
                }
            }
            Value::Nil | Value::Int(..) | Value::Sym(..) | Value::Str(..) | Value::Char(..) => {}
            Value::Float(x) => return Err(problem(format!("the floating-point number {x:?}"))),
            Value::Ratio(r) => return Err(problem(format!("the ratio {r}"))),
            other => return Err(problem(crate::printer::prin1(other))),
        }
    }
    let _ = NO_SPAN;
    Ok(())
}
