//! Numbers: integer arithmetic with `i64` fast paths that overflow into bignums (results
//! normalized back to `i64` whenever they fit), and the tower above it ([`Number`]): ratios
//! in lowest terms and double floats, with Common Lisp's contagion (an integer and a ratio give
//! a ratio or an integer, anything with a float gives a float).

use crate::error::{fail, Flow};
use crate::value::{Value, NO_SPAN};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
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
        Value::Ratio(r) => ratio_to_f64(r),
        _ => None,
    }
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

/// A number of any kind, for arithmetic across the tower.
#[derive(Clone, Debug)]
pub enum Number {
    Integer(Num),
    Ratio(BigRational),
    Float(f64),
}

/// The four operations of the tower.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Number {
    pub fn value(self) -> Value {
        match self {
            Number::Integer(n) => n.value(),
            Number::Ratio(r) => ratio_value(r.numer().clone(), r.denom().clone()),
            Number::Float(x) => Value::Float(x),
        }
    }
    pub fn to_f64(&self) -> f64 {
        match self {
            Number::Integer(n) => n.big().to_f64().unwrap_or(f64::NAN),
            Number::Ratio(r) => ratio_to_f64(r).unwrap_or(f64::NAN),
            Number::Float(x) => *x,
        }
    }
    fn to_ratio(&self) -> BigRational {
        match self {
            Number::Integer(n) => BigRational::from_integer(n.big()),
            Number::Ratio(r) => r.clone(),
            Number::Float(x) => BigRational::from_float(*x).unwrap_or_default(),
        }
    }
    pub fn is_zero(&self) -> bool {
        match self {
            Number::Integer(n) => n.is_zero(),
            Number::Ratio(r) => r.is_zero(),
            Number::Float(x) => *x == 0.0,
        }
    }
    pub fn is_float(&self) -> bool {
        matches!(self, Number::Float(_))
    }
}

/// The number in `v`, or a `type-error`.
pub fn number(v: &Value, span: Span) -> Result<Number, Flow> {
    match v {
        Value::Int(n, _) => Ok(Number::Integer(Num::Small(*n))),
        Value::Big(b) => Ok(Number::Integer(Num::Big((**b).clone()))),
        Value::Ratio(r) => Ok(Number::Ratio((**r).clone())),
        Value::Float(x) => Ok(Number::Float(*x)),
        other => fail(
            "type-error",
            format!("{} is not a number", crate::printer::prin1(other)),
            span,
        ),
    }
}

/// `a op b` with contagion; dividing by an exact zero is a `division-by-zero`.
pub fn arith(a: &Number, b: &Number, op: Op, span: Span) -> Result<Number, Flow> {
    if op == Op::Div && b.is_zero() {
        return fail("division-by-zero", "division by zero", span);
    }
    if a.is_float() || b.is_float() {
        let (x, y) = (a.to_f64(), b.to_f64());
        return Ok(Number::Float(match op {
            Op::Add => x + y,
            Op::Sub => x - y,
            Op::Mul => x * y,
            Op::Div => x / y,
        }));
    }
    if let (Number::Integer(x), Number::Integer(y), false) = (a, b, op == Op::Div) {
        let n = match op {
            Op::Add => add(x, y),
            Op::Sub => sub(x, y),
            _ => mul(x, y),
        };
        return Ok(Number::Integer(check_bits(n, span)?));
    }
    let (x, y) = (a.to_ratio(), b.to_ratio());
    let r = match op {
        Op::Add => x + y,
        Op::Sub => x - y,
        Op::Mul => x * y,
        Op::Div => x / y,
    };
    if r.numer().bits() > MAX_BITS || r.denom().bits() > MAX_BITS {
        return fail("storage-condition", "ratio beyond the size limit", span);
    }
    Ok(if r.is_integer() {
        Number::Integer(normalize(r.to_integer()))
    } else {
        Number::Ratio(r)
    })
}

/// Numeric comparison across the tower (`None` when a float is NaN).
pub fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (a, b) {
        (Number::Integer(x), Number::Integer(y)) => Some(compare(x, y)),
        _ if a.is_float() || b.is_float() => a.to_f64().partial_cmp(&b.to_f64()),
        _ => Some(a.to_ratio().cmp(&b.to_ratio())),
    }
}

/// `numerator / denominator` in lowest terms: an integer when the denominator divides.
pub fn ratio_value(numerator: BigInt, denominator: BigInt) -> Value {
    let r = BigRational::new(numerator, denominator);
    if r.is_integer() {
        from_big(r.to_integer())
    } else {
        Value::Ratio(Rc::new(r))
    }
}

fn ratio_to_f64(r: &BigRational) -> Option<f64> {
    let (n, d) = (r.numer().to_f64()?, r.denom().to_f64()?);
    if n.is_finite() && d.is_finite() {
        return Some(n / d);
    }
    // Huge terms: scale both down before dividing.
    let shift = r.numer().bits().max(r.denom().bits()).saturating_sub(1000) as usize;
    Some((r.numer() >> shift).to_f64()? / (r.denom() >> shift).to_f64()?)
}

/// A number literal of host code that is not an integer: `1.5`, `1e3`, `2.5d0`, `1/3`.
pub fn parse_literal(text: &str) -> Value {
    if let Some((n, d)) = text.split_once('/') {
        if let (Ok(n), Ok(d)) = (n.parse::<BigInt>(), d.parse::<BigInt>()) {
            if !d.is_zero() {
                return ratio_value(n, d);
            }
        }
    }
    let text = text.replace(['d', 'f', 's', 'l', 'D', 'F', 'S', 'L'], "e");
    Value::Float(text.parse().unwrap_or(f64::NAN))
}
