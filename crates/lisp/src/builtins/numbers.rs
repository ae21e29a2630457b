//! Arithmetic, comparison and bit operations on integers (bignums included).

use super::arity;
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::number::{self, num, Num, Rounding};
use crate::value::Value;
use std::cmp::Ordering;
use whistler_syntax::Span;

pub fn install(interp: &mut Interp) {
    interp.define_fn("+", |_, a, s| match number::any_float(a) {
        true => float_fold(a, s, 0.0, |x, y| x + y),
        false => fold(a, s, Num::Small(0), number::add),
    });
    interp.define_fn("*", |_, a, s| match number::any_float(a) {
        true => float_fold(a, s, 1.0, |x, y| x * y),
        false => fold(a, s, Num::Small(1), number::mul),
    });
    interp.define_fn("float", |_, a, s| {
        arity(a, 1, 2, "float", s)?;
        Ok(Value::Float(number::reals(&a[..1], s)?[0]))
    });
    interp.define_fn("floatp", |i, a, s| {
        arity(a, 1, 1, "floatp", s)?;
        Ok(i.bool(matches!(a[0], Value::Float(_))))
    });
    interp.define_fn("realp", |i, a, s| {
        arity(a, 1, 1, "realp", s)?;
        Ok(i.bool(number::real(&a[0]).is_some()))
    });
    interp.define_fn("logand", |_, a, s| {
        fold(a, s, Num::Small(-1), number::logand)
    });
    interp.define_fn("logior", |_, a, s| {
        fold(a, s, Num::Small(0), number::logior)
    });
    interp.define_fn("logxor", |_, a, s| {
        fold(a, s, Num::Small(0), number::logxor)
    });
    interp.define_fn("-", minus);
    interp.define_fn("/", divide);
    interp.define_fn("1+", |_, a, s| {
        unary(a, s, "1+", |n| number::add(&n, &Num::Small(1)))
    });
    interp.define_fn("1-", |_, a, s| {
        unary(a, s, "1-", |n| number::sub(&n, &Num::Small(1)))
    });
    interp.define_fn("abs", |_, a, s| {
        if let [Value::Float(x)] = a {
            return Ok(Value::Float(x.abs()));
        }
        unary(a, s, "abs", |n| {
            if number::compare(&n, &Num::Small(0)).is_lt() {
                number::neg(&n)
            } else {
                n
            }
        })
    });
    interp.define_fn("lognot", |_, a, s| {
        unary(a, s, "lognot", |n| number::lognot(&n))
    });
    interp.define_fn("signum", |_, a, s| {
        unary(a, s, "signum", |n| {
            Num::Small(number::compare(&n, &Num::Small(0)) as i64)
        })
    });
    interp.define_fn("floor", |i, a, s| division(i, a, s, Rounding::Floor));
    interp.define_fn("truncate", |i, a, s| division(i, a, s, Rounding::Truncate));
    interp.define_fn("ceiling", |i, a, s| division(i, a, s, Rounding::Ceiling));
    interp.define_fn("round", |i, a, s| division(i, a, s, Rounding::Round));
    interp.define_fn("mod", |i, a, s| remainder(i, a, s, Rounding::Floor));
    interp.define_fn("rem", |i, a, s| remainder(i, a, s, Rounding::Truncate));
    interp.define_fn("=", |i, a, s| compare(i, a, s, |o| o == Ordering::Equal));
    interp.define_fn("<", |i, a, s| compare(i, a, s, |o| o == Ordering::Less));
    interp.define_fn(">", |i, a, s| compare(i, a, s, |o| o == Ordering::Greater));
    interp.define_fn("<=", |i, a, s| compare(i, a, s, |o| o != Ordering::Greater));
    interp.define_fn(">=", |i, a, s| compare(i, a, s, |o| o != Ordering::Less));
    interp.define_fn("/=", not_equal);
    interp.define_fn("max", |_, a, s| extreme(a, s, Ordering::Greater));
    interp.define_fn("min", |_, a, s| extreme(a, s, Ordering::Less));
    interp.define_fn("zerop", |i, a, s| test(i, a, s, |n| n.is_zero()));
    interp.define_fn("plusp", |i, a, s| {
        test(i, a, s, |n| number::compare(n, &Num::Small(0)).is_gt())
    });
    interp.define_fn("minusp", |i, a, s| {
        test(i, a, s, |n| number::compare(n, &Num::Small(0)).is_lt())
    });
    interp.define_fn("evenp", |i, a, s| test(i, a, s, |n| !n.big().bit(0)));
    interp.define_fn("oddp", |i, a, s| test(i, a, s, |n| n.big().bit(0)));
    interp.define_fn("ash", ash);
    interp.define_fn("expt", |_, a, s| {
        arity(a, 2, 2, "expt", s)?;
        Ok(number::expt(&num(&a[0], s)?, &num(&a[1], s)?, s)?.value())
    });
    interp.define_fn("integer-length", |_, a, s| {
        arity(a, 1, 1, "integer-length", s)?;
        Ok(Value::int(number::integer_length(&num(&a[0], s)?) as i64))
    });
    interp.define_fn("logtest", |i, a, s| {
        arity(a, 2, 2, "logtest", s)?;
        Ok(i.bool(!number::logand(&num(&a[0], s)?, &num(&a[1], s)?).is_zero()))
    });
    interp.define_fn("byte", |_, a, s| {
        arity(a, 2, 2, "byte", s)?;
        super::index(&a[0], s)?;
        super::index(&a[1], s)?;
        Ok(Value::cons(a[0].clone(), a[1].clone()))
    });
    interp.define_fn("ldb", |_, a, s| {
        arity(a, 2, 2, "ldb", s)?;
        let (size, pos) = byte_spec(&a[0], s)?;
        let shifted = number::ash(&num(&a[1], s)?, -pos, s)?;
        Ok(number::logand(&shifted, &mask(size, s)?).value())
    });
    interp.define_fn("dpb", |_, a, s| {
        arity(a, 3, 3, "dpb", s)?;
        let (size, pos) = byte_spec(&a[1], s)?;
        let field = number::ash(&mask(size, s)?, pos, s)?;
        let new = number::logand(&number::ash(&num(&a[0], s)?, pos, s)?, &field);
        let kept = number::logand(&num(&a[2], s)?, &number::lognot(&field));
        Ok(number::logior(&kept, &new).value())
    });
    interp.define_fn("logbitp", |i, a, s| {
        arity(a, 2, 2, "logbitp", s)?;
        let bit = super::index(&a[0], s)?;
        Ok(i.bool(num(&a[1], s)?.big().bit(bit as u64)))
    });
    interp.define_fn("logcount", |_, a, s| {
        arity(a, 1, 1, "logcount", s)?;
        let n = num(&a[0], s)?.big();
        let n = if n.sign() == num_bigint::Sign::Minus {
            !n
        } else {
            n
        };
        Ok(Value::int(n.magnitude().count_ones() as i64))
    });
    interp.define_fn("gcd", |_, a, s| {
        let mut g = num_bigint::BigInt::from(0);
        for v in a {
            g = num_integer::Integer::gcd(&g, &num(v, s)?.big());
        }
        Ok(number::from_big(g))
    });
    interp.define_fn("isqrt", |_, a, s| {
        arity(a, 1, 1, "isqrt", s)?;
        let n = num(&a[0], s)?.big();
        if n.sign() == num_bigint::Sign::Minus {
            return fail("type-error", "isqrt of a negative number", s);
        }
        Ok(number::from_big(n.sqrt()))
    });
}

/// `(byte size position)` as made by `byte`.
fn byte_spec(v: &Value, span: Span) -> Result<(i64, i64), Flow> {
    match (v.car().as_i64(), v.cdr().as_i64()) {
        (Some(size), Some(pos)) if size >= 0 && pos >= 0 => Ok((size, pos)),
        _ => fail(
            "type-error",
            format!(
                "{} is not a byte specifier; use (byte size position)",
                crate::printer::prin1(v)
            ),
            span,
        ),
    }
}

/// `size` one bits.
fn mask(size: i64, span: Span) -> Result<Num, Flow> {
    let one = number::ash(&Num::Small(1), size, span)?;
    Ok(number::sub(&one, &Num::Small(1)))
}

fn fold(args: &[Value], span: Span, init: Num, op: fn(&Num, &Num) -> Num) -> Result<Value, Flow> {
    let mut acc = init;
    for a in args {
        acc = number::check_bits(op(&acc, &num(a, span)?), span)?;
    }
    Ok(acc.value())
}

fn unary(args: &[Value], span: Span, name: &str, op: impl Fn(Num) -> Num) -> Result<Value, Flow> {
    arity(args, 1, 1, name, span)?;
    Ok(op(num(&args[0], span)?).value())
}

fn float_fold(
    args: &[Value],
    span: Span,
    init: f64,
    op: fn(f64, f64) -> f64,
) -> Result<Value, Flow> {
    Ok(Value::Float(
        number::reals(args, span)?.into_iter().fold(init, op),
    ))
}

/// `-` and `/` in floating point: one argument negates or inverts.
fn float_reduce(
    args: &[Value],
    span: Span,
    identity: f64,
    op: fn(f64, f64) -> f64,
) -> Result<Value, Flow> {
    let xs = number::reals(args, span)?;
    Ok(Value::Float(match xs.as_slice() {
        [x] => op(identity, *x),
        [first, rest @ ..] => rest.iter().fold(*first, |a, b| op(a, *b)),
        [] => identity,
    }))
}

fn minus(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "-", span)?;
    if number::any_float(args) {
        return float_reduce(args, span, 0.0, |x, y| x - y);
    }
    let first = num(&args[0], span)?;
    if args.len() == 1 {
        return Ok(number::neg(&first).value());
    }
    let mut acc = first;
    for a in &args[1..] {
        acc = number::sub(&acc, &num(a, span)?);
    }
    Ok(acc.value())
}

fn divide(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "/", span)?;
    if number::any_float(args) {
        return float_reduce(args, span, 1.0, |x, y| x / y);
    }
    let (mut acc, rest) = if args.len() == 1 {
        (Num::Small(1), args)
    } else {
        (num(&args[0], span)?, &args[1..])
    };
    for a in rest {
        let d = num(a, span)?;
        let (q, r) = number::divide(&acc, &d, Rounding::Truncate, span)?;
        if !r.is_zero() {
            return fail(
                "arithmetic-error",
                format!(
                    "(/ {} {}) is not an integer; ratios are not supported",
                    number::to_string_radix(&acc, 10),
                    number::to_string_radix(&d, 10)
                ),
                span,
            )
            .map_err(|e| {
                with_help(
                    e,
                    "use floor, truncate, round or ceiling for integer division",
                )
            });
        }
        acc = q;
    }
    Ok(acc.value())
}

fn with_help(flow: Flow, help: &str) -> Flow {
    match flow {
        Flow::Error(mut raised) => {
            raised.error.help = Some(help.to_string());
            Flow::Error(raised)
        }
        other => other,
    }
}

fn division(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    rounding: Rounding,
) -> Result<Value, Flow> {
    arity(args, 1, 2, "division", span)?;
    if number::any_float(args) {
        let xs = number::reals(args, span)?;
        let q = xs[0] / xs.get(1).copied().unwrap_or(1.0);
        let q = match rounding {
            Rounding::Floor => q.floor(),
            Rounding::Truncate => q.trunc(),
            Rounding::Ceiling => q.ceil(),
            Rounding::Round => q.round_ties_even(),
        };
        if !q.is_finite() || q.abs() > 1e30 {
            return fail(
                "arithmetic-error",
                format!("cannot convert {q} to an integer"),
                span,
            );
        }
        return Ok(number::from_i128(q as i128));
    }
    let a = num(&args[0], span)?;
    let b = match args.get(1) {
        Some(v) => num(v, span)?,
        None => Num::Small(1),
    };
    let (q, r) = number::divide(&a, &b, rounding, span)?;
    let (q, r) = (q.value(), r.value());
    interp.values = Some(vec![q.clone(), r]);
    Ok(q)
}

fn remainder(
    _: &mut Interp,
    args: &[Value],
    span: Span,
    rounding: Rounding,
) -> Result<Value, Flow> {
    arity(args, 2, 2, "mod", span)?;
    let (_, r) = number::divide(&num(&args[0], span)?, &num(&args[1], span)?, rounding, span)?;
    Ok(r.value())
}

fn compare(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    ok: fn(Ordering) -> bool,
) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "comparison", span)?;
    if number::any_float(args) {
        let xs = number::reals(args, span)?;
        let holds = xs
            .windows(2)
            .all(|w| w[0].partial_cmp(&w[1]).is_some_and(ok));
        return Ok(interp.bool(holds));
    }
    let nums = args
        .iter()
        .map(|a| num(a, span))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(interp.bool(nums.windows(2).all(|w| ok(number::compare(&w[0], &w[1])))))
}

fn not_equal(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let nums = args
        .iter()
        .map(|a| num(a, span))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, a) in nums.iter().enumerate() {
        if nums[i + 1..].iter().any(|b| number::compare(a, b).is_eq()) {
            return Ok(Value::Nil);
        }
    }
    Ok(interp.t())
}

fn extreme(args: &[Value], span: Span, want: Ordering) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "max/min", span)?;
    if number::any_float(args) {
        let xs = number::reals(args, span)?;
        let best = xs.iter().copied().reduce(|a, b| {
            if b.partial_cmp(&a) == Some(want) {
                b
            } else {
                a
            }
        });
        return Ok(Value::Float(best.unwrap_or(0.0)));
    }
    let mut best = num(&args[0], span)?;
    for a in &args[1..] {
        let n = num(a, span)?;
        if number::compare(&n, &best) == want {
            best = n;
        }
    }
    Ok(best.value())
}

fn test(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    pred: fn(&Num) -> bool,
) -> Result<Value, Flow> {
    arity(args, 1, 1, "predicate", span)?;
    if let Value::Float(x) = args[0] {
        // zerop, plusp, minusp by the sign; evenp/oddp are integer-only.
        let as_int = Num::Small(x.signum() as i64 * i64::from(x != 0.0));
        return Ok(interp.bool(pred(&as_int)));
    }
    Ok(interp.bool(pred(&num(&args[0], span)?)))
}

fn ash(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 2, "ash", span)?;
    let count = super::int(&args[1], span)?;
    Ok(number::ash(&num(&args[0], span)?, count, span)?.value())
}
