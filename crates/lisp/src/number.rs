//! Integer arithmetic: `i64` fast paths that overflow into bignums, and results normalized back
//! to `i64` whenever they fit.

use crate::error::{fail, Flow};
use crate::value::{Value, NO_SPAN};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::rc::Rc;
use whistler_syntax::Span;

/// An integer argument.
#[derive(Clone, Debug)]
pub enum Num {
    Small(i64),
    Big(BigInt),
}

impl Num {
    pub fn big(&self) -> BigInt {
        match self {
            Num::Small(n) => BigInt::from(*n),
            Num::Big(b) => b.clone(),
        }
    }
    pub fn value(self) -> Value {
        match self {
            Num::Small(n) => Value::Int(n, NO_SPAN),
            Num::Big(b) => from_big(b),
        }
    }
    pub fn is_zero(&self) -> bool {
        match self {
            Num::Small(n) => *n == 0,
            Num::Big(b) => b.is_zero(),
        }
    }
}

pub fn from_big(b: BigInt) -> Value {
    match b.to_i64() {
        Some(n) => Value::Int(n, NO_SPAN),
        None => Value::Big(Rc::new(b)),
    }
}

pub fn from_i128(n: i128) -> Value {
    match i64::try_from(n) {
        Ok(n) => Value::Int(n, NO_SPAN),
        Err(_) => Value::Big(Rc::new(BigInt::from(n))),
    }
}

/// Integers are limited to this many bits, so runaway squaring fails instead of eating memory.
pub const MAX_BITS: u64 = 1 << 18;

/// Fails when `n` is beyond [`MAX_BITS`].
pub fn check_bits(n: Num, span: Span) -> Result<Num, Flow> {
    match &n {
        Num::Big(b) if b.bits() > MAX_BITS => fail(
            "storage-condition",
            format!(
                "integer result of {} bits is beyond the {MAX_BITS}-bit limit",
                b.bits()
            ),
            span,
        ),
        _ => Ok(n),
    }
}

/// The number in `v` as a float, when `v` is an integer or a float.
pub fn real(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n, _) => Some(*n as f64),
        Value::Big(b) => b.to_f64(),
        Value::Float(x) => Some(*x),
        _ => None,
    }
}

/// True when any of `args` is a float (so arithmetic is done in floating point).
pub fn any_float(args: &[Value]) -> bool {
    args.iter().any(|a| matches!(a, Value::Float(_)))
}

/// The reals in `args`, or a `type-error`.
pub fn reals(args: &[Value], span: Span) -> Result<Vec<f64>, Flow> {
    args.iter()
        .map(|a| {
            real(a).map_or_else(
                || {
                    fail(
                        "type-error",
                        format!("{} is not a number", crate::printer::prin1(a)),
                        span,
                    )
                },
                Ok,
            )
        })
        .collect()
}

/// The integer in `v`, or a `type-error`.
pub fn num(v: &Value, span: Span) -> Result<Num, Flow> {
    match v {
        Value::Int(n, _) => Ok(Num::Small(*n)),
        Value::Big(b) => Ok(Num::Big((**b).clone())),
        other => fail(
            "type-error",
            format!("{} is not an integer", crate::printer::prin1(other)),
            span,
        ),
    }
}

fn binary(
    a: &Num,
    b: &Num,
    small: fn(i64, i64) -> Option<i64>,
    big: fn(BigInt, BigInt) -> BigInt,
) -> Num {
    if let (Num::Small(x), Num::Small(y)) = (a, b) {
        if let Some(r) = small(*x, *y) {
            return Num::Small(r);
        }
    }
    normalize(big(a.big(), b.big()))
}

pub fn normalize(b: BigInt) -> Num {
    match b.to_i64() {
        Some(n) => Num::Small(n),
        None => Num::Big(b),
    }
}

pub fn add(a: &Num, b: &Num) -> Num {
    binary(a, b, i64::checked_add, |x, y| x + y)
}
pub fn sub(a: &Num, b: &Num) -> Num {
    binary(a, b, i64::checked_sub, |x, y| x - y)
}
pub fn mul(a: &Num, b: &Num) -> Num {
    binary(a, b, i64::checked_mul, |x, y| x * y)
}
pub fn logand(a: &Num, b: &Num) -> Num {
    binary(a, b, |x, y| Some(x & y), |x, y| x & y)
}
pub fn logior(a: &Num, b: &Num) -> Num {
    binary(a, b, |x, y| Some(x | y), |x, y| x | y)
}
pub fn logxor(a: &Num, b: &Num) -> Num {
    binary(a, b, |x, y| Some(x ^ y), |x, y| x ^ y)
}
pub fn neg(a: &Num) -> Num {
    sub(&Num::Small(0), a)
}
pub fn lognot(a: &Num) -> Num {
    sub(&Num::Small(-1), a)
}

pub fn compare(a: &Num, b: &Num) -> Ordering {
    match (a, b) {
        (Num::Small(x), Num::Small(y)) => x.cmp(y),
        _ => a.big().cmp(&b.big()),
    }
}

/// How a division rounds its quotient.
#[derive(Clone, Copy)]
pub enum Rounding {
    Floor,
    Truncate,
    Ceiling,
    Round,
}

/// Quotient and remainder of `a / b` rounded as asked; division by zero is an error.
pub fn divide(a: &Num, b: &Num, rounding: Rounding, span: Span) -> Result<(Num, Num), Flow> {
    if b.is_zero() {
        return fail("division-by-zero", "division by zero", span);
    }
    let (x, y) = (a.big(), b.big());
    let (q, r) = match rounding {
        Rounding::Floor => x.div_mod_floor(&y),
        Rounding::Truncate => (&x / &y, &x % &y),
        Rounding::Ceiling => {
            let (q, r) = x.div_mod_floor(&y);
            if r.is_zero() {
                (q, r)
            } else {
                (q + 1, r - &y)
            }
        }
        Rounding::Round => round_half_even(&x, &y),
    };
    Ok((normalize(q), normalize(r)))
}

fn round_half_even(x: &BigInt, y: &BigInt) -> (BigInt, BigInt) {
    let (q, r) = x.div_mod_floor(y);
    let twice = (&r * BigInt::from(2)).abs().cmp(&y.abs());
    let up = match twice {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => q.is_odd(),
    };
    if up {
        let q = q + 1;
        let r = x - &q * y;
        (q, r)
    } else {
        (q, r)
    }
}

/// `(ash n count)`: shift left for positive counts, arithmetic right for negative ones.
pub fn ash(n: &Num, count: i64, span: Span) -> Result<Num, Flow> {
    if count > MAX_BITS as i64 {
        return fail("error", "shift count too large", span);
    }
    let b = n.big();
    check_bits(
        normalize(if count >= 0 {
            b << (count as usize)
        } else {
            let shift = count.unsigned_abs().min(1 << 20) as usize;
            // Arithmetic shift: floor division by 2^shift.
            b.div_floor(&(BigInt::one() << shift))
        }),
        span,
    )
}

pub fn expt(base: &Num, power: &Num, span: Span) -> Result<Num, Flow> {
    let Some(p) = power.big().to_u32().filter(|p| *p <= 1 << 16) else {
        return fail(
            "error",
            "expt: exponent must be a non-negative integer below 65536",
            span,
        );
    };
    let bits = base.big().bits().saturating_mul(p as u64);
    if bits > MAX_BITS {
        return fail(
            "storage-condition",
            format!(
                "expt: the result would have about {bits} bits, beyond the {MAX_BITS}-bit limit"
            ),
            span,
        );
    }
    Ok(normalize(num_traits::pow(base.big(), p as usize)))
}

pub fn integer_length(n: &Num) -> u64 {
    let b = n.big();
    if b.is_negative() {
        (-b - 1u32).bits()
    } else {
        b.bits()
    }
}

pub fn to_string_radix(n: &Num, radix: u32) -> String {
    match n {
        Num::Small(x) if radix == 10 => x.to_string(),
        _ => n.big().to_str_radix(radix).to_uppercase(),
    }
}
