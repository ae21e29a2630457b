//! Irrational and float functions (`sqrt`, `exp`, `log`, `sin`..., general `expt`), ratios
//! (`numerator`, `rational`...), float decoding, `random` with random states, `lcm`, `boole`,
//! the remaining bit-field functions and the implementation constants (`most-positive-fixnum`,
//! float limits). Complex numbers do not exist here: a result that would be complex is an error.

use super::arity;
use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::number::{self, num, Num, Number, Op, Rounding};
use crate::value::{BuiltinFn, Value};
use crate::ConstantTable;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use std::cell::Cell;
use std::rc::Rc;
use whistler_syntax::Span;

/// The builtins of this module that need nothing but a name and a function: found when their
/// symbol is first interned (`builtins::builtin`).
pub(super) const BUILTINS: &[(&str, BuiltinFn)] = &[
    ("sqrt", |_, a, s| {
        arity(a, 1, 1, "sqrt", s)?;
        let x = float(&a[0], s)?;
        real_result(x.sqrt(), "sqrt", s)
    }),
    ("isqrt", |_, a, s| {
        arity(a, 1, 1, "isqrt", s)?;
        let n = num(&a[0], s)?.big();
        if n.is_negative() {
            return fail("type-error", "isqrt of a negative number", s);
        }
        Ok(number::from_big(n.sqrt()))
    }),
    ("log", |_, a, s| {
        arity(a, 1, 2, "log", s)?;
        let x = float(&a[0], s)?;
        let result = match a.get(1) {
            Some(base) => x.ln() / float(base, s)?.ln(),
            None => x.ln(),
        };
        real_result(result, "log", s)
    }),
    ("atan", |_, a, s| {
        arity(a, 1, 2, "atan", s)?;
        let y = float(&a[0], s)?;
        Ok(Value::Float(match a.get(1) {
            Some(x) => y.atan2(float(x, s)?),
            None => y.atan(),
        }))
    }),
    ("expt", expt),
    ("numerator", |_, a, s| {
        arity(a, 1, 1, "numerator", s)?;
        match &a[0] {
            Value::Ratio(r) => Ok(number::from_big(r.numer().clone())),
            other => Ok(num(other, s)?.value()),
        }
    }),
    ("denominator", |_, a, s| {
        arity(a, 1, 1, "denominator", s)?;
        match &a[0] {
            Value::Ratio(r) => Ok(number::from_big(r.denom().clone())),
            other => num(other, s).map(|_| Value::int(1)),
        }
    }),
    ("rational", |_, a, s| rational(a, s, false)),
    ("rationalize", |_, a, s| rational(a, s, true)),
    ("rationalp", |i, a, s| {
        arity(a, 1, 1, "rationalp", s)?;
        Ok(i.bool(matches!(
            a[0],
            Value::Int(..) | Value::Big(_) | Value::Ratio(_)
        )))
    }),
    ("complexp", |_, a, s| {
        arity(a, 1, 1, "complexp", s)?;
        Ok(Value::Nil)
    }),
    ("realpart", |_, a, s| {
        arity(a, 1, 1, "realpart", s)?;
        number::number(&a[0], s).map(|n| n.value())
    }),
    ("conjugate", |_, a, s| {
        arity(a, 1, 1, "conjugate", s)?;
        number::number(&a[0], s).map(|n| n.value())
    }),
    ("imagpart", |_, a, s| {
        arity(a, 1, 1, "imagpart", s)?;
        let n = number::number(&a[0], s)?;
        let zero = Number::Integer(Num::Small(0));
        number::arith(&n, &zero, Op::Mul, s).map(|z| z.value())
    }),
    ("phase", |_, a, s| {
        arity(a, 1, 1, "phase", s)?;
        let x = float(&a[0], s)?;
        Ok(Value::Float(if x < 0.0 {
            std::f64::consts::PI
        } else {
            0.0
        }))
    }),
    ("ffloor", |i, a, s| float_rounding(i, a, s, Rounding::Floor)),
    ("fceiling", |i, a, s| {
        float_rounding(i, a, s, Rounding::Ceiling)
    }),
    ("ftruncate", |i, a, s| {
        float_rounding(i, a, s, Rounding::Truncate)
    }),
    ("fround", |i, a, s| float_rounding(i, a, s, Rounding::Round)),
    ("decode-float", decode_float),
    ("integer-decode-float", integer_decode_float),
    ("scale-float", |_, a, s| {
        arity(a, 2, 2, "scale-float", s)?;
        let k = super::int(&a[1], s)?.clamp(-2100, 2100) as i32;
        Ok(Value::Float(float(&a[0], s)? * 2f64.powi(k)))
    }),
    ("float-sign", |_, a, s| {
        arity(a, 1, 2, "float-sign", s)?;
        let x = float(&a[0], s)?;
        let magnitude = match a.get(1) {
            Some(m) => float(m, s)?.abs(),
            None => 1.0,
        };
        Ok(Value::Float(magnitude.copysign(x)))
    }),
    ("float-radix", |_, a, s| {
        arity(a, 1, 1, "float-radix", s)?;
        float(&a[0], s).map(|_| Value::int(2))
    }),
    ("float-digits", |_, a, s| {
        arity(a, 1, 1, "float-digits", s)?;
        float(&a[0], s).map(|_| Value::int(53))
    }),
    ("float-precision", |_, a, s| {
        arity(a, 1, 1, "float-precision", s)?;
        let x = float(&a[0], s)?;
        Ok(Value::int(if x == 0.0 { 0 } else { 53 }))
    }),
    ("random", random),
    ("make-random-state", make_random_state),
    ("random-state-p", |i, a, s| {
        arity(a, 1, 1, "random-state-p", s)?;
        Ok(i.bool(a[0].downcast::<RandomState>().is_some()))
    }),
    ("lcm", |_, a, s| {
        let mut l = BigInt::from(1);
        for v in a {
            let n = num(v, s)?.big();
            if n.is_zero() {
                return Ok(Value::int(0));
            }
            l = l.lcm(&n);
        }
        Ok(number::from_big(l))
    }),
    // `boole`, the `log*` combinations, and the remaining byte functions.
    ("boole", |_, a, s| {
        arity(a, 3, 3, "boole", s)?;
        let op = super::int(&a[0], s)?;
        let (x, y) = (num(&a[1], s)?, num(&a[2], s)?);
        match boole(op, &x, &y) {
            Some(n) => Ok(n.value()),
            None => fail(
                "type-error",
                format!("boole: {op} is not a boole operation"),
                s,
            ),
        }
    }),
    ("logeqv", |_, a, s| logical(a, s, 9)),
    ("lognand", |_, a, s| logical(a, s, 10)),
    ("lognor", |_, a, s| logical(a, s, 11)),
    ("logandc1", |_, a, s| logical(a, s, 12)),
    ("logandc2", |_, a, s| logical(a, s, 13)),
    ("logorc1", |_, a, s| logical(a, s, 14)),
    ("logorc2", |_, a, s| logical(a, s, 15)),
    ("byte-size", |_, a, s| {
        arity(a, 1, 1, "byte-size", s)?;
        Ok(a[0].car())
    }),
    ("byte-position", |_, a, s| {
        arity(a, 1, 1, "byte-position", s)?;
        Ok(a[0].cdr())
    }),
    ("ldb-test", |i, a, s| {
        arity(a, 2, 2, "ldb-test", s)?;
        let field = mask_field(&a[0], &num(&a[1], s)?, s)?;
        Ok(i.bool(!field.is_zero()))
    }),
    ("mask-field", |_, a, s| {
        arity(a, 2, 2, "mask-field", s)?;
        Ok(mask_field(&a[0], &num(&a[1], s)?, s)?.value())
    }),
    ("deposit-field", |_, a, s| {
        arity(a, 3, 3, "deposit-field", s)?;
        let mask = byte_mask(&a[1], s)?;
        let new = number::logand(&num(&a[0], s)?, &mask);
        let kept = number::logand(&num(&a[2], s)?, &number::lognot(&mask));
        Ok(number::logior(&kept, &new).value())
    }),
];

macro_rules! float_functions {
    ($($name:literal => $f:path),* $(,)?) => {
        &[$(($name, |_, a, s| apply_float(a, s, $name, $f))),*]
    };
}

/// The float functions that apply one `f64` function.
pub(super) const FLOAT_FUNCTIONS: &[(&str, BuiltinFn)] = float_functions! {
    "exp" => f64::exp, "sin" => f64::sin, "cos" => f64::cos, "tan" => f64::tan,
    "asin" => f64::asin, "acos" => f64::acos, "sinh" => f64::sinh, "cosh" => f64::cosh,
    "tanh" => f64::tanh, "asinh" => f64::asinh, "acosh" => f64::acosh,
    "atanh" => f64::atanh,
};

pub fn install(interp: &mut Interp) {
    interp.set_global(
        "*random-state*",
        Value::foreign(RandomState::seeded(0x2545_F491_4F6C_DD1D)),
    );
    interp.define_constant_table(Rc::new(NumericConstants));
}

fn apply_float(args: &[Value], span: Span, name: &str, f: fn(f64) -> f64) -> Result<Value, Flow> {
    arity(args, 1, 1, name, span)?;
    real_result(f(float(&args[0], span)?), name, span)
}

/// `ffloor` and friends: the quotient as a float, and the remainder.
fn float_rounding(
    interp: &mut Interp,
    args: &[Value],
    span: Span,
    rounding: Rounding,
) -> Result<Value, Flow> {
    arity(args, 1, 2, "ffloor", span)?;
    let (q, r) = super::numbers::quotient(args, span, rounding)?;
    let q = Value::Float(q.big().to_f64().unwrap_or(f64::NAN));
    interp.values = Some(vec![q.clone(), r.value()]);
    Ok(q)
}

/// A real argument as a float.
fn float(v: &Value, span: Span) -> Result<f64, Flow> {
    Ok(number::number(v, span)?.to_f64())
}

/// A float result; NaN from a real argument means the true result is complex.
fn real_result(x: f64, name: &str, span: Span) -> Result<Value, Flow> {
    if x.is_nan() {
        return fail(
            "arithmetic-error",
            format!("{name}: the result is a complex number, which this Lisp does not have"),
            span,
        );
    }
    Ok(Value::Float(x))
}

/// `(expt base power)`: exact for a rational base and an integer power, floating otherwise.
fn expt(_: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 2, 2, "expt", span)?;
    let base = number::number(&args[0], span)?;
    let power = number::number(&args[1], span)?;
    let Number::Integer(p) = &power else {
        return real_result(base.to_f64().powf(power.to_f64()), "expt", span);
    };
    if base.is_float() {
        let p = p.big().to_i32().unwrap_or(i32::MAX);
        return Ok(Value::Float(base.to_f64().powi(p)));
    }
    let magnitude = Num::Big(p.big().abs());
    let raised = match &base {
        Number::Integer(b) => Number::Integer(number::expt(b, &magnitude, span)?),
        Number::Ratio(r) => {
            let n = number::expt(&Num::Big(r.numer().clone()), &magnitude, span)?;
            let d = number::expt(&Num::Big(r.denom().clone()), &magnitude, span)?;
            number::arith(&Number::Integer(n), &Number::Integer(d), Op::Div, span)?
        }
        Number::Float(_) => unreachable!("handled above"),
    };
    if p.big().is_negative() {
        let one = Number::Integer(Num::Small(1));
        return Ok(number::arith(&one, &raised, Op::Div, span)?.value());
    }
    Ok(raised.value())
}

/// `rational` converts a float exactly; `rationalize` finds the simplest ratio that reads
/// back as the same float.
fn rational(args: &[Value], span: Span, simplest: bool) -> Result<Value, Flow> {
    arity(args, 1, 1, "rational", span)?;
    let Value::Float(x) = args[0] else {
        return number::number(&args[0], span).map(|n| n.value());
    };
    let Some(exact) = num_rational::BigRational::from_float(x) else {
        return fail(
            "arithmetic-error",
            format!("{x} has no rational value"),
            span,
        );
    };
    if !simplest {
        return Ok(number::ratio_value(
            exact.numer().clone(),
            exact.denom().clone(),
        ));
    }
    // Continued fraction convergents until one reads back as the same float.
    let (mut h0, mut h1) = (BigInt::from(0), BigInt::from(1));
    let (mut k0, mut k1) = (BigInt::from(1), BigInt::from(0));
    let mut rest = exact;
    for _ in 0..100 {
        let a = rest.floor().to_integer();
        (h0, h1) = (h1.clone(), &a * &h1 + &h0);
        (k0, k1) = (k1.clone(), &a * &k1 + &k0);
        let candidate = h1.to_f64().unwrap_or(f64::NAN) / k1.to_f64().unwrap_or(f64::NAN);
        let fraction = &rest - num_rational::BigRational::from_integer(a);
        if candidate == x || fraction.is_zero() {
            break;
        }
        rest = fraction.recip();
    }
    Ok(number::ratio_value(h1, k1))
}

/// `(decode-float x)` → significand in [0.5, 1), exponent, sign.
fn decode_float(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 1, "decode-float", span)?;
    let x = float(&args[0], span)?;
    let (significand, exponent) = if x == 0.0 {
        (0.0, 0)
    } else {
        let exponent = x.abs().log2().floor() as i32 + 1;
        let mut significand = x.abs() / 2f64.powi(exponent);
        let mut exponent = exponent;
        if significand >= 1.0 {
            significand /= 2.0;
            exponent += 1;
        }
        (significand, exponent)
    };
    let values = vec![
        Value::Float(significand),
        Value::int(i64::from(exponent)),
        Value::Float(1f64.copysign(x)),
    ];
    interp.values = Some(values.clone());
    Ok(values[0].clone())
}

/// `(integer-decode-float x)` → integer significand, exponent, sign (1 or -1).
fn integer_decode_float(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 1, "integer-decode-float", span)?;
    let bits = float(&args[0], span)?.to_bits();
    let sign = if bits >> 63 == 0 { 1 } else { -1 };
    let raw_exponent = ((bits >> 52) & 0x7ff) as i64;
    let fraction = (bits & ((1 << 52) - 1)) as i64;
    let (significand, exponent) = match raw_exponent {
        0 if fraction == 0 => (0, 0),
        0 => (fraction, -1074),
        e => (fraction | (1 << 52), e - 1075),
    };
    let values = vec![
        Value::int(significand),
        Value::int(exponent),
        Value::int(sign),
    ];
    interp.values = Some(values.clone());
    Ok(values[0].clone())
}

/// A random state: xorshift64* (good enough for scripts, not for secrets).
pub struct RandomState {
    state: Cell<u64>,
}

impl RandomState {
    fn seeded(seed: u64) -> RandomState {
        RandomState {
            state: Cell::new(seed.max(1)),
        }
    }
    fn next(&self) -> u64 {
        let mut x = self.state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn random(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 1, 2, "random", span)?;
    let state = match args.get(1) {
        Some(s) => s.downcast::<RandomState>(),
        None => interp
            .global("*random-state*")
            .and_then(|s| s.downcast::<RandomState>()),
    };
    let Some(state) = state else {
        return fail("type-error", "random: not a random state", span);
    };
    match number::number(&args[0], span)? {
        Number::Float(limit) if limit > 0.0 => {
            let unit = (state.next() >> 11) as f64 / (1u64 << 53) as f64;
            Ok(Value::Float(unit * limit))
        }
        Number::Integer(limit) if number::compare(&limit, &Num::Small(0)).is_gt() => {
            let limit = limit.big();
            let words = limit.bits().div_ceil(64) as usize + 1;
            let mut n = BigInt::zero();
            for _ in 0..words {
                n = (n << 64) + BigInt::from(state.next());
            }
            Ok(number::from_big(n.mod_floor(&limit)))
        }
        _ => fail(
            "type-error",
            format!(
                "random: {} is not a positive integer or float",
                crate::printer::prin1(&args[0])
            ),
            span,
        ),
    }
}

/// `(make-random-state &optional state)`: a copy of `state` (or of `*random-state*` for nil),
/// or a freshly seeded one for `t`.
fn make_random_state(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, Flow> {
    arity(args, 0, 1, "make-random-state", span)?;
    let seed = match args.first() {
        Some(v) if v.as_sym().is_some_and(|s| s.name == "t") => {
            let now = interp.host.wall_clock().map_err(|e| e.at(span))?;
            now.as_nanos() as u64
        }
        Some(v) if v.truthy() => match v.downcast::<RandomState>() {
            Some(s) => s.state.get(),
            None => return fail("type-error", "make-random-state: not a random state", span),
        },
        _ => interp
            .global("*random-state*")
            .and_then(|s| s.downcast::<RandomState>())
            .map_or(1, |s| s.state.get()),
    };
    Ok(Value::Foreign(Rc::new(RandomState::seeded(seed))))
}

fn logical(args: &[Value], span: Span, op: i64) -> Result<Value, Flow> {
    arity(args, 2, 2, "logical operation", span)?;
    let (x, y) = (num(&args[0], span)?, num(&args[1], span)?);
    Ok(boole(op, &x, &y).map_or(Value::Nil, Num::value))
}

fn boole(op: i64, x: &Num, y: &Num) -> Option<Num> {
    use number::{logand, logior, lognot, logxor};
    Some(match op {
        0 => Num::Small(0),
        1 => Num::Small(-1),
        2 => x.clone(),
        3 => y.clone(),
        4 => lognot(x),
        5 => lognot(y),
        6 => logand(x, y),
        7 => logior(x, y),
        8 => logxor(x, y),
        9 => lognot(&logxor(x, y)),
        10 => lognot(&logand(x, y)),
        11 => lognot(&logior(x, y)),
        12 => logand(&lognot(x), y),
        13 => logand(x, &lognot(y)),
        14 => logior(&lognot(x), y),
        15 => logior(x, &lognot(y)),
        _ => return None,
    })
}

/// The bits of `(byte size position)` as a mask.
fn byte_mask(spec: &Value, span: Span) -> Result<Num, Flow> {
    let (Some(size), Some(position)) = (spec.car().as_i64(), spec.cdr().as_i64()) else {
        return fail(
            "type-error",
            "not a byte specifier; use (byte size position)",
            span,
        );
    };
    let ones = number::sub(&number::ash(&Num::Small(1), size, span)?, &Num::Small(1));
    number::ash(&ones, position, span)
}

fn mask_field(spec: &Value, n: &Num, span: Span) -> Result<Num, Flow> {
    Ok(number::logand(n, &byte_mask(spec, span)?))
}

/// `boole`'s operation codes, by name (`boole-clr` is 0).
const BOOLE_OPS: [&str; 16] = [
    "boole-clr",
    "boole-set",
    "boole-1",
    "boole-2",
    "boole-c1",
    "boole-c2",
    "boole-and",
    "boole-ior",
    "boole-xor",
    "boole-eqv",
    "boole-nand",
    "boole-nor",
    "boole-andc1",
    "boole-andc2",
    "boole-orc1",
    "boole-orc2",
];

/// Integer constants: fixnum bounds and implementation limits.
const INTEGER_CONSTANTS: [(&str, i64); 9] = [
    ("most-positive-fixnum", i64::MAX),
    ("most-negative-fixnum", i64::MIN),
    ("array-dimension-limit", super::MAX_ELEMENTS as i64),
    ("array-rank-limit", 1),
    ("array-total-size-limit", super::MAX_ELEMENTS as i64),
    ("call-arguments-limit", 4_611_686_018_427_387_903),
    ("lambda-parameters-limit", 4_611_686_018_427_387_903),
    ("multiple-values-limit", 1_073_741_824),
    ("char-code-limit", 0x11_0000),
];

/// The float kinds: all floats are doubles here, so each float constant has the double's value
/// under every kind's name.
const FLOAT_KINDS: [&str; 4] = ["short", "single", "double", "long"];

/// `PREFIX-KIND-float` constants, by prefix.
const FLOAT_BOUNDS: [(&str, f64); 6] = [
    ("most-positive", f64::MAX),
    ("most-negative", f64::MIN),
    ("least-positive", f64::from_bits(1)),
    ("least-negative", -f64::from_bits(1)),
    ("least-positive-normalized", f64::MIN_POSITIVE),
    ("least-negative-normalized", -f64::MIN_POSITIVE),
];

/// `KIND-float-SUFFIX` constants, by suffix.
const FLOAT_EPSILONS: [(&str, f64); 2] = [
    ("epsilon", f64::EPSILON / 2.0 * (1.0 + f64::EPSILON)),
    (
        "negative-epsilon",
        f64::EPSILON / 4.0 * (1.0 + f64::EPSILON),
    ),
];

/// The standard's numeric constants (`pi`, fixnum and float bounds, implementation limits,
/// `boole`'s operation codes), defined when a program names one
/// ([`Interp::define_constant_table`]).
pub(super) struct NumericConstants;

impl ConstantTable for NumericConstants {
    fn value(&self, name: &str) -> Option<Value> {
        if name == "pi" {
            return Some(Value::Float(std::f64::consts::PI));
        }
        if name.starts_with("boole-") {
            let code = BOOLE_OPS.iter().position(|&op| op == name)?;
            return Some(Value::int(code as i64));
        }
        if let Some(&(_, n)) = INTEGER_CONSTANTS.iter().find(|(n, _)| *n == name) {
            return Some(Value::int(n));
        }
        float_constant(name).map(Value::Float)
    }

    fn names(&self) -> Vec<String> {
        let mut names = vec!["pi".to_string()];
        names.extend(BOOLE_OPS.iter().map(|op| op.to_string()));
        names.extend(INTEGER_CONSTANTS.iter().map(|(name, _)| name.to_string()));
        for kind in FLOAT_KINDS {
            names.extend(
                FLOAT_BOUNDS
                    .iter()
                    .map(|(p, _)| format!("{p}-{kind}-float")),
            );
            names.extend(
                FLOAT_EPSILONS
                    .iter()
                    .map(|(s, _)| format!("{kind}-float-{s}")),
            );
        }
        names
    }
}

/// The value of the float constant `name` (`most-positive-double-float`,
/// `single-float-epsilon`...).
fn float_constant(name: &str) -> Option<f64> {
    // Most names asked for are none of these: tell them apart by their end first.
    if !name.ends_with("-float") && !name.ends_with("epsilon") {
        return None;
    }
    if let Some(rest) = name.strip_suffix("-float") {
        let (prefix, kind) = rest.rsplit_once('-')?;
        FLOAT_KINDS.contains(&kind).then_some(())?;
        return FLOAT_BOUNDS
            .iter()
            .find(|(p, _)| *p == prefix)
            .map(|&(_, x)| x);
    }
    let (kind, suffix) = name.split_once("-float-")?;
    FLOAT_KINDS.contains(&kind).then_some(())?;
    FLOAT_EPSILONS
        .iter()
        .find(|(s, _)| *s == suffix)
        .map(|&(_, x)| x)
}
