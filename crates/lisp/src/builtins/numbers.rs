//! Arithmetic and comparison across the numeric tower (integers, ratios, floats), rounding
//! division, and bit operations on integers (bignums included).

use super::arity;
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::number::{self, num, Num, Number, Op, Rounding};
use crate::value::BuiltinFn;
use crate::value::Value;
use num_traits::FromPrimitive;
use std::cmp::Ordering;
use whistler_syntax::Span;

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("+", |_, a, s| {
        fold(a, s, Number::Integer(Num::Small(0)), Op::Add)
    }),
    ("*", |_, a, s| {
        fold(a, s, Number::Integer(Num::Small(1)), Op::Mul)
    }),
    ("-", |_, a, s| reduce(a, s, "-", Op::Sub)),
    ("/", |_, a, s| reduce(a, s, "/", Op::Div)),
    ("float", |_, a, s| {
        arity(a, 1, 2, "float", s)?;
        Ok(Value::Float(number::number(&a[0], s)?.to_f64()))
    }),
    ("floatp", |i, a, s| {
        arity(a, 1, 1, "floatp", s)?;
        Ok(i.bool(matches!(a[0], Value::Float(_))))
    }),
    ("realp", |i, a, s| {
        arity(a, 1, 1, "realp", s)?;
        Ok(i.bool(number::real(&a[0]).is_some()))
    }),
    ("logand", |_, a, s| {
        int_fold(a, s, Num::Small(-1), number::logand)
    }),
    ("logior", |_, a, s| {
        int_fold(a, s, Num::Small(0), number::logior)
    }),
    ("logxor", |_, a, s| {
        int_fold(a, s, Num::Small(0), number::logxor)
    }),
    ("1+", |_, a, s| step(a, s, "1+", Op::Add)),
    ("1-", |_, a, s| step(a, s, "1-", Op::Sub)),
    ("abs", |_, a, s| {
        arity(a, 1, 1, "abs", s)?;
        let n = number::number(&a[0], s)?;
        if sign(&n) == Ordering::Less {
            return Ok(negate(&n, s)?.value());
        }
        Ok(n.value())
    }),
    ("lognot", |_, a, s| {
        arity(a, 1, 1, "lognot", s)?;
        Ok(number::lognot(&num(&a[0], s)?).value())
    }),
    ("signum", |_, a, s| {
        arity(a, 1, 1, "signum", s)?;
        Ok(match number::number(&a[0], s)? {
            Number::Float(x) if x == 0.0 || x.is_nan() => Value::Float(x),
            Number::Float(x) => Value::Float(x.signum()),
            n => Value::int(sign(&n) as i64),
        })
    }),
    ("floor", |i, a, s| division(i, a, s, Rounding::Floor)),
    ("truncate", |i, a, s| division(i, a, s, Rounding::Truncate)),
    ("ceiling", |i, a, s| division(i, a, s, Rounding::Ceiling)),
    ("round", |i, a, s| division(i, a, s, Rounding::Round)),
    ("mod", |i, a, s| remainder(i, a, s, Rounding::Floor)),
    ("rem", |i, a, s| remainder(i, a, s, Rounding::Truncate)),
    ("=", |i, a, s| compare(i, a, s, |o| o == Ordering::Equal)),
    ("<", |i, a, s| compare(i, a, s, |o| o == Ordering::Less)),
    (">", |i, a, s| compare(i, a, s, |o| o == Ordering::Greater)),
    ("<=", |i, a, s| compare(i, a, s, |o| o != Ordering::Greater)),
    (">=", |i, a, s| compare(i, a, s, |o| o != Ordering::Less)),
    ("/=", not_equal),
    ("max", |_, a, s| extreme(a, s, Ordering::Greater)),
    ("min", |_, a, s| extreme(a, s, Ordering::Less)),
    ("zerop", |i, a, s| sign_test(i, a, s, Ordering::Equal)),
    ("plusp", |i, a, s| sign_test(i, a, s, Ordering::Greater)),
    ("minusp", |i, a, s| sign_test(i, a, s, Ordering::Less)),
    ("evenp", |i, a, s| parity(i, a, s, false)),
    ("oddp", |i, a, s| parity(i, a, s, true)),
    ("ash", ash),
    ("integer-length", |_, a, s| {
        arity(a, 1, 1, "integer-length", s)?;
        Ok(Value::int(number::integer_length(&num(&a[0], s)?) as i64))
    }),
    ("logtest", |i, a, s| {
        arity(a, 2, 2, "logtest", s)?;
        Ok(i.bool(!number::logand(&num(&a[0], s)?, &num(&a[1], s)?).is_zero()))
    }),
    ("byte", |_, a, s| {
        arity(a, 2, 2, "byte", s)?;
        super::index(&a[0], s)?;
        super::index(&a[1], s)?;
        Ok(Value::cons(a[0].clone(), a[1].clone()))
    }),
    ("ldb", |_, a, s| {
        arity(a, 2, 2, "ldb", s)?;
        let (size, pos) = byte_spec(&a[0], s)?;
        let shifted = number::ash(&num(&a[1], s)?, -pos, s)?;
        Ok(number::logand(&shifted, &mask(size, s)?).value())
    }),
    ("dpb", |_, a, s| {
        arity(a, 3, 3, "dpb", s)?;
        let (size, pos) = byte_spec(&a[1], s)?;
        let field = number::ash(&mask(size, s)?, pos, s)?;
        let new = number::logand(&number::ash(&num(&a[0], s)?, pos, s)?, &field);
        let kept = number::logand(&num(&a[2], s)?, &number::lognot(&field));
        Ok(number::logior(&kept, &new).value())
    }),
    ("logbitp", |i, a, s| {
        arity(a, 2, 2, "logbitp", s)?;
        let bit = super::index(&a[0], s)?;
        Ok(i.bool(num(&a[1], s)?.big().bit(bit as u64)))
    }),
    ("logcount", |_, a, s| {
        arity(a, 1, 1, "logcount", s)?;
        let n = num(&a[0], s)?.big();
        let n = if n.sign() == num_bigint::Sign::Minus {
            !n
        } else {
            n
        };
        Ok(Value::int(n.magnitude().count_ones() as i64))
    }),
    ("gcd", |_, a, s| {
        let mut g = num_bigint::BigInt::from(0);
        for v in a {
            g = num_integer::Integer::gcd(&g, &num(v, s)?.big());
        }
        Ok(number::from_big(g))
    }),
];

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

fn int_fold(
    args: &[Value],
    span: Span,
    init: Num,
    op: fn(&Num, &Num) -> Num,
) -> Result<Value, Flow> {
    let mut acc = init;
    for a in args {
        acc = op(&acc, &num(a, span)?);
    }
    Ok(acc.value())
}

fn parity(interp: &mut Interp, args: &[Value], span: Span, odd: bool) -> Result<Value, Flow> {
    arity(args, 1, 1, if odd { "oddp" } else { "evenp" }, span)?;
    Ok(interp.bool(num(&args[0], span)?.big().bit(0) == odd))
}

fn fold(args: &[Value], span: Span, init: Number, op: Op) -> Result<Value, Flow> {
    let mut acc = init;
    for a in args {
        acc = number::arith(&acc, &number::number(a, span)?, op, span)?;
    }
    Ok(acc.value())
}

/// `-` and `/`: one argument negates or inverts.
fn reduce(args: &[Value], span: Span, name: &str, op: Op) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, name, span)?;
    let first = number::number(&args[0], span)?;
    if args.len() == 1 {
        let identity = Number::Integer(Num::Small(i64::from(op == Op::Div)));
        return Ok(number::arith(&identity, &first, op, span)?.value());
    }
    let mut acc = first;
    for a in &args[1..] {
        acc = number::arith(&acc, &number::number(a, span)?, op, span)?;
    }
    Ok(acc.value())
}

fn step(args: &[Value], span: Span, name: &str, op: Op) -> Result<Value, Flow> {
    arity(args, 1, 1, name, span)?;
    let one = Number::Integer(Num::Small(1));
    Ok(number::arith(&number::number(&args[0], span)?, &one, op, span)?.value())
}

fn negate(n: &Number, span: Span) -> Result<Number, Flow> {
    number::arith(&Number::Integer(Num::Small(0)), n, Op::Sub, span)
}

/// The sign of a number as an ordering against zero (NaN counts as zero).
fn sign(n: &Number) -> Ordering {
    number::compare_numbers(n, &Number::Integer(Num::Small(0))).unwrap_or(Ordering::Equal)
}

fn sign_test(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    want: Ordering,
) -> Result<Value, Flow> {
    arity(args, 1, 1, "predicate", span)?;
    let n = number::number(&args[0], span)?;
    Ok(interp.bool(sign(&n) == want))
}

/// `floor`, `truncate`, `ceiling`, `round` of any reals: the integer quotient and the
/// remainder `number - quotient * divisor` (a float when either argument is one).
fn division(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    rounding: Rounding,
) -> Result<Value, Flow> {
    arity(args, 1, 2, "division", span)?;
    let (q, r) = quotient(args, span, rounding)?;
    let q = q.value();
    interp.values = Some(vec![q.clone(), r.value()]);
    Ok(q)
}

pub(super) fn quotient(
    args: &[Value],
    span: Span,
    rounding: Rounding,
) -> Result<(Num, Number), Flow> {
    let a = number::number(&args[0], span)?;
    let b = match args.get(1) {
        Some(v) => number::number(v, span)?,
        None => Number::Integer(Num::Small(1)),
    };
    if let (Number::Integer(x), Number::Integer(y)) = (&a, &b) {
        let (q, r) = number::divide(x, y, rounding, span)?;
        return Ok((q, Number::Integer(r)));
    }
    if b.is_zero() {
        return fail("division-by-zero", "division by zero", span);
    }
    let q = if a.is_float() || b.is_float() {
        let q = a.to_f64() / b.to_f64();
        let q = match rounding {
            Rounding::Floor => q.floor(),
            Rounding::Truncate => q.trunc(),
            Rounding::Ceiling => q.ceil(),
            Rounding::Round => q.round_ties_even(),
        };
        if !q.is_finite() {
            return fail(
                "arithmetic-error",
                format!("cannot convert {q} to an integer"),
                span,
            );
        }
        number::normalize(num_bigint::BigInt::from_f64(q).unwrap_or_default())
    } else {
        let Number::Ratio(r) = number::arith(&a, &b, Op::Div, span)? else {
            unreachable!("a non-integer exact quotient is a ratio")
        };
        let (n, d) = (Num::Big(r.numer().clone()), Num::Big(r.denom().clone()));
        number::divide(&n, &d, rounding, span)?.0
    };
    let product = number::arith(&Number::Integer(q.clone()), &b, Op::Mul, span)?;
    let r = number::arith(&a, &product, Op::Sub, span)?;
    Ok((q, r))
}

fn remainder(
    _: &mut Interp,
    args: &[Value],
    span: Span,
    rounding: Rounding,
) -> Result<Value, Flow> {
    arity(args, 2, 2, "mod", span)?;
    Ok(quotient(args, span, rounding)?.1.value())
}

fn numbers(args: &[Value], span: Span) -> Result<Vec<Number>, Flow> {
    args.iter().map(|a| number::number(a, span)).collect()
}

fn compare(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    ok: fn(Ordering) -> bool,
) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "comparison", span)?;
    let nums = numbers(args, span)?;
    let holds = nums
        .windows(2)
        .all(|w| number::compare_numbers(&w[0], &w[1]).is_some_and(ok));
    Ok(interp.bool(holds))
}

fn not_equal(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    let nums = numbers(args, span)?;
    for (i, a) in nums.iter().enumerate() {
        let same = |b: &Number| number::compare_numbers(a, b) == Some(Ordering::Equal);
        if nums[i + 1..].iter().any(same) {
            return Ok(Value::Nil);
        }
    }
    Ok(interp.t())
}

fn extreme(args: &[Value], span: Span, want: Ordering) -> Result<Value, Flow> {
    arity(args, 1, usize::MAX, "max/min", span)?;
    let nums = numbers(args, span)?;
    let mut best = nums[0].clone();
    for n in &nums[1..] {
        if number::compare_numbers(n, &best) == Some(want) {
            best = n.clone();
        }
    }
    Ok(best.value())
}

fn ash(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 2, "ash", span)?;
    let count = super::int(&args[1], span)?;
    Ok(number::ash(&num(&args[0], span)?, count, span)?.value())
}
