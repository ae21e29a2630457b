//! Compile-time constants. Names and `sizeof` are resolved here: file constants, the kernel's
//! named constants ([`whistler_bpf::consts`]), the macro host's globals, struct and type sizes.
//! Anything computed (`(* 4 +base+)`) is evaluated by the macro host's Common Lisp evaluator,
//! with Lisp's semantics (`(/ -8 2)` is -4), once the names only Whistler knows are replaced by
//! their values; programs use the result as a 64-bit integer (two's complement, as C converts).

use super::{form_name, head_symbol, symbol_name, Env, MacroHost};
use crate::diag::{error, with_suggestion};
use whistler_syntax::{Diagnostic, Sexp, SexpKind};

/// Checks that an integer literal fits in 64 bits (signed or unsigned) and returns its bits.
pub fn literal(value: i128, form: &Sexp) -> Result<i64, Diagnostic> {
    if value < i64::MIN as i128 || value > u64::MAX as i128 {
        return Err(error(
            form.span,
            format!("integer literal {value} does not fit in 64 bits"),
        )
        .with_help("BPF registers hold 64 bits: use a value between -2^63 and 2^64-1"));
    }
    Ok(value as i64)
}

/// Looks a constant name up: `t` and `nil`, `defconstant`s, then the kernel's named constants.
pub fn named(env: &Env, name: &str) -> Option<i64> {
    match name {
        "t" => return Some(1),
        "nil" => return Some(0),
        _ => {}
    }
    env.constants
        .get(name)
        .copied()
        .or_else(|| whistler_bpf::consts::by_name(name))
}

/// Evaluates a constant expression.
pub fn eval(env: &Env, host: &mut dyn MacroHost, form: &Sexp) -> Result<i64, Diagnostic> {
    match &form.kind {
        SexpKind::Int(v) => literal(*v, form),
        SexpKind::Char(c) => Ok(*c as i64),
        SexpKind::Symbol(s) => {
            let name = symbol_name(form).unwrap_or("");
            named(env, name)
                .or_else(|| host.constant_value(s))
                .ok_or_else(|| not_constant(env, form))
        }
        SexpKind::List(items) if is_sizeof(form) => sizeof(env, form, items),
        SexpKind::List(items) if !items.is_empty() => {
            let resolved = resolve(env, &*host, form, Unknown::NotConstant)?;
            host.eval_integer(&resolved).map_err(|mut ds| ds.remove(0))
        }
        _ => Err(error(form.span, "expected a constant integer expression")),
    }
}

/// What [`resolve`] makes of a name that is no constant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// In program code it is a variable: the expression is no constant.
    NotConstant,
    /// In a `defconstant`'s value it may be the evaluator's own (bound by a `let`, say).
    LeaveToEvaluator,
}

/// `form` with what only Whistler knows written as integers, for the host to evaluate:
/// `(sizeof T)`, and names of constants (the kernel's, `defconstant`s) the host has no value
/// for.
pub fn resolve(
    env: &Env,
    host: &dyn MacroHost,
    form: &Sexp,
    unknown: Unknown,
) -> Result<Sexp, Diagnostic> {
    whistler_lisp::stack::maybe_grow(64 * 1024, 1024 * 1024, || {
        let int = |v: i64| Sexp::new(SexpKind::Int(v.into()), form.span);
        match &form.kind {
            SexpKind::Symbol(s) if s.is_keyword() || host.describe_global(s).is_some() => {
                Ok(form.clone())
            }
            SexpKind::Symbol(_) => match named(env, symbol_name(form).unwrap_or("")) {
                Some(v) => Ok(int(v)),
                None if unknown == Unknown::LeaveToEvaluator => Ok(form.clone()),
                None => Err(not_constant(env, form)),
            },
            SexpKind::List(items) if is_sizeof(form) => sizeof(env, form, items).map(int),
            SexpKind::List(_) if head_symbol(form).is_some_and(|h| h.name == "quote") => {
                Ok(form.clone())
            }
            SexpKind::List(items) if !items.is_empty() => {
                let mut out = vec![items[0].clone()];
                for item in &items[1..] {
                    out.push(resolve(env, host, item, unknown)?);
                }
                Ok(Sexp::list(out, form.span))
            }
            _ => Ok(form.clone()),
        }
    })
}

fn not_constant(env: &Env, form: &Sexp) -> Diagnostic {
    let name = symbol_name(form).unwrap_or("");
    with_suggestion(
        error(form.span, format!("`{name}` is not a constant")),
        name,
        env.constants.keys().map(String::as_str),
    )
}

fn is_sizeof(form: &Sexp) -> bool {
    head_symbol(form).and_then(form_name) == Some("sizeof")
}

fn sizeof(env: &Env, form: &Sexp, items: &[Sexp]) -> Result<i64, Diagnostic> {
    let [_, name] = items else {
        return Err(error(form.span, "`sizeof` takes one struct or type name"));
    };
    let n = symbol_name(name).unwrap_or("");
    if let Some(ty) = crate::ast::Ty::from_name(n) {
        return Ok(ty.size() as i64);
    }
    match env.struct_index.get(n) {
        Some(&i) => Ok(env.structs[i].size as i64),
        None => Err(with_suggestion(
            error(name.span, format!("unknown struct `{n}`")),
            n,
            env.structs.iter().map(|s| s.name.as_str()),
        )),
    }
}
