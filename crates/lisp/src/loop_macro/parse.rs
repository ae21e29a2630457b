//! Parsing `loop` clauses into a [`Spec`](super::Spec): iteration clauses, accumulations,
//! conditionals and the rest, each recognised by name in any package.

use super::{AccKind, Clause, Iter, Limit, Spec};
use crate::error::{fail, Flow};
use crate::value::Value;
use whistler_syntax::Span;

/// Loop keywords are recognised by name in any package (`:collect` works too).
fn word(v: &Value) -> Option<&str> {
    v.as_sym().map(|s| s.name.as_str())
}

const KEYWORDS: &[&str] = &[
    "named",
    "with",
    "for",
    "as",
    "repeat",
    "while",
    "until",
    "do",
    "doing",
    "collect",
    "collecting",
    "append",
    "appending",
    "nconc",
    "nconcing",
    "sum",
    "summing",
    "count",
    "counting",
    "maximize",
    "maximizing",
    "minimize",
    "minimizing",
    "when",
    "if",
    "unless",
    "else",
    "end",
    "and",
    "return",
    "always",
    "never",
    "thereis",
    "initially",
    "finally",
];

fn is_keyword(v: &Value) -> bool {
    word(v).is_some_and(|w| KEYWORDS.contains(&w))
}

pub(super) struct Tokens {
    pub(super) items: Vec<Value>,
    pub(super) pos: usize,
    pub(super) span: Span,
}

impl Tokens {
    fn peek(&self) -> Option<&Value> {
        self.items.get(self.pos)
    }
    fn peek_word(&self) -> Option<&str> {
        self.peek().and_then(word)
    }
    fn next(&mut self, what: &str) -> Result<Value, Flow> {
        let v = self.items.get(self.pos).cloned();
        self.pos += 1;
        v.map_or_else(
            || {
                fail(
                    "program-error",
                    format!("loop: expected {what} at the end"),
                    self.span,
                )
            },
            Ok,
        )
    }
    fn accept(&mut self, words: &[&str]) -> Option<String> {
        let w = self.peek_word()?.to_string();
        if words.contains(&w.as_str()) {
            self.pos += 1;
            Some(w)
        } else {
            None
        }
    }
    fn forms(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(v) = self.peek() {
            if is_keyword(v) {
                break;
            }
            out.push(v.clone());
            self.pos += 1;
        }
        out
    }
}

pub(super) fn parse(t: &mut Tokens) -> Result<Spec, Flow> {
    let mut spec = Spec::default();
    while let Some(v) = t.peek().cloned() {
        let Some(w) = word(&v).map(str::to_string) else {
            return fail(
                "program-error",
                format!(
                    "loop: expected a loop keyword, found {}",
                    crate::printer::prin1(&v)
                ),
                if v.span() == crate::value::NO_SPAN {
                    t.span
                } else {
                    v.span()
                },
            );
        };
        t.pos += 1;
        match w.as_str() {
            "named" => spec.name = t.next("a name")?.as_sym().cloned(),
            "with" => loop {
                let var = t.next("a variable")?;
                let init = if t.accept(&["="]).is_some() {
                    t.next("a value")?
                } else {
                    Value::Nil
                };
                spec.withs.push((var, init));
                if t.accept(&["and"]).is_none() {
                    break;
                }
            },
            "for" | "as" => loop {
                spec.iters.push(parse_for(t)?);
                if t.accept(&["and"]).is_none() {
                    break;
                }
            },
            "repeat" => spec.iters.push(Iter::Repeat(t.next("a count")?)),
            "initially" => spec.initially.extend(t.forms()),
            "finally" => spec.finally.extend(t.forms()),
            _ => {
                t.pos -= 1;
                spec.body.push(parse_clause(t)?);
            }
        }
    }
    Ok(spec)
}

fn parse_for(t: &mut Tokens) -> Result<Iter, Flow> {
    let var = t.next("a variable")?;
    let prep = t.next("for's preposition")?;
    let prep = word(&prep).unwrap_or("").to_string();
    match prep.as_str() {
        "in" | "on" => {
            let list = t.next("a list")?;
            let by = t
                .accept(&["by"])
                .map(|_| t.next("a step function"))
                .transpose()?;
            Ok(Iter::In {
                var,
                list,
                by,
                on: prep == "on",
            })
        }
        "across" => Ok(Iter::Across {
            var,
            vector: t.next("a vector")?,
        }),
        "=" => {
            let init = t.next("a value")?;
            let then = t.accept(&["then"]).map(|_| t.next("a value")).transpose()?;
            Ok(Iter::Equals { var, init, then })
        }
        "being" => parse_hash(t, var),
        "from" | "upfrom" | "downfrom" | "to" | "upto" | "below" | "downto" | "above" | "by" => {
            t.pos -= 1;
            parse_range(t, var)
        }
        other => fail(
            "program-error",
            format!("loop: unknown for-clause preposition `{other}`"),
            t.span,
        ),
    }
}

fn parse_range(t: &mut Tokens, var: Value) -> Result<Iter, Flow> {
    let Some(var) = var.as_sym().cloned() else {
        return fail(
            "program-error",
            "loop: a numeric for needs a variable",
            t.span,
        );
    };
    let (mut from, mut limit, mut by, mut down) = (Value::int(0), None, None, false);
    while let Some(w) = t.accept(&[
        "from", "upfrom", "downfrom", "to", "upto", "below", "downto", "above", "by",
    ]) {
        let value = t.next("a value")?;
        match w.as_str() {
            "from" | "upfrom" => from = value,
            "downfrom" => {
                from = value;
                down = true;
            }
            "to" | "upto" => limit = Some((value, Limit::Inclusive)),
            "below" => limit = Some((value, Limit::Exclusive)),
            "downto" => {
                limit = Some((value, Limit::Inclusive));
                down = true;
            }
            "above" => {
                limit = Some((value, Limit::Exclusive));
                down = true;
            }
            _ => by = Some(value),
        }
    }
    Ok(Iter::Range {
        var,
        from,
        limit,
        by,
        down,
    })
}

fn parse_hash(t: &mut Tokens, var: Value) -> Result<Iter, Flow> {
    t.accept(&["the", "each"]);
    let kind = t.next("hash-keys or hash-values")?;
    let values = matches!(word(&kind), Some("hash-value" | "hash-values"));
    t.accept(&["of", "in"]);
    let table = t.next("a hash table")?;
    let mut other = None;
    if t.accept(&["using"]).is_some() {
        other = Some(t.next("(hash-value var)")?.cdr().car());
    }
    Ok(Iter::Hash {
        var,
        table,
        values,
        other,
    })
}

fn accumulation(w: &str) -> Option<AccKind> {
    Some(match w {
        "collect" | "collecting" => AccKind::Collect,
        "append" | "appending" | "nconc" | "nconcing" => AccKind::Append,
        "sum" | "summing" => AccKind::Sum,
        "count" | "counting" => AccKind::Count,
        "maximize" | "maximizing" => AccKind::Maximize,
        "minimize" | "minimizing" => AccKind::Minimize,
        _ => return None,
    })
}

fn parse_clause(t: &mut Tokens) -> Result<Clause, Flow> {
    let v = t.next("a clause")?;
    let w = word(&v).unwrap_or("").to_string();
    if let Some(kind) = accumulation(&w) {
        let form = t.next("a value")?;
        let into = match t.accept(&["into"]) {
            Some(_) => t.next("a variable")?.as_sym().cloned(),
            None => None,
        };
        return Ok(Clause::Accumulate { kind, form, into });
    }
    Ok(match w.as_str() {
        "do" | "doing" => Clause::Do(t.forms()),
        "while" => Clause::While(t.next("a test")?, true),
        "until" => Clause::While(t.next("a test")?, false),
        "return" => Clause::Return(t.next("a value")?),
        "always" => Clause::Always(t.next("a test")?, true),
        "never" => Clause::Always(t.next("a test")?, false),
        "thereis" => Clause::Thereis(t.next("a test")?),
        "when" | "if" | "unless" => {
            let test = t.next("a test")?;
            let then = parse_conjunction(t)?;
            let otherwise = if t.accept(&["else"]).is_some() {
                parse_conjunction(t)?
            } else {
                Vec::new()
            };
            t.accept(&["end"]);
            Clause::Cond {
                test,
                negate: w == "unless",
                then,
                otherwise,
            }
        }
        other => {
            return fail(
                "program-error",
                format!("loop: unknown or misplaced clause `{other}`"),
                if v.span() == crate::value::NO_SPAN {
                    t.span
                } else {
                    v.span()
                },
            )
        }
    })
}

fn parse_conjunction(t: &mut Tokens) -> Result<Vec<Clause>, Flow> {
    let mut clauses = vec![parse_clause(t)?];
    while t.accept(&["and"]).is_some() {
        clauses.push(parse_clause(t)?);
    }
    Ok(clauses)
}
