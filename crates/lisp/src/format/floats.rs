//! The floating-point directives of CLHS 22.3.3: `~F` (fixed), `~E` (exponential), `~G`
//! (general: fixed or exponential by magnitude) and `~$` (monetary).
//!
//! Digits: a number prints with the shortest digits that read back as the same float; when a
//! directive asks for fewer digits than that, the exact binary value is rounded, halves away
//! from zero (so `(format nil "~,2f" 2.675d0)` is `"2.67"`: the double is a little below 2.675).

/// Parameters shared by the float directives; `None` is a parameter left out.
#[derive(Clone, Copy, Default)]
pub struct FloatParams {
    pub width: Option<usize>,
    pub digits: Option<usize>,
    pub exponent_digits: Option<usize>,
    pub scale: Option<i64>,
    pub overflow: Option<char>,
    pub pad: char,
    pub plus_sign: bool,
}

/// Decimal digits with the exponent of the first one: the value is `0.d1d2...` × 10^`point`.
struct Digits {
    digits: Vec<u8>,
    point: i64,
}

/// The exact decimal expansion of a finite `a >= 0` (`point` for zero is 1).
fn exact(a: f64) -> Digits {
    let text = format!("{a:.1100e}");
    let (mantissa, exponent) = text.split_once('e').expect("exponent");
    let digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    let last = digits.iter().rposition(|&d| d != 0).map_or(1, |i| i + 1);
    Digits {
        digits: digits[..last].to_vec(),
        point: exponent.parse::<i64>().expect("exponent") + 1,
    }
}

/// The shortest digits that read back as `a >= 0`.
fn shortest(a: f64) -> Digits {
    let text = format!("{a:e}");
    let (mantissa, exponent) = text.split_once('e').expect("exponent");
    Digits {
        digits: mantissa
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect(),
        point: exponent.parse::<i64>().expect("exponent") + 1,
    }
}

/// `a`'s digits up to (not including) the digit at `cut` (an index into the digits, which may
/// be negative or beyond them): the shortest digits when they end before it, else the exact
/// value rounded there. The result may carry into a new leading digit.
fn rounded_at(a: f64, cut: i64) -> Digits {
    let short = shortest(a);
    if short.digits.len() as i64 <= cut {
        return short;
    }
    let mut exact = exact(a);
    if cut < 0 {
        return Digits {
            digits: vec![0],
            point: exact.point,
        };
    }
    let cut = cut as usize;
    let up = exact.digits.get(cut).is_some_and(|&d| d >= 5);
    exact.digits.truncate(cut);
    if up {
        let mut i = exact.digits.len();
        loop {
            if i == 0 {
                exact.digits.insert(0, 1);
                exact.point += 1;
                break;
            }
            i -= 1;
            if exact.digits[i] == 9 {
                exact.digits[i] = 0;
            } else {
                exact.digits[i] += 1;
                break;
            }
        }
    }
    exact
}

fn scaled(x: f64, scale: i64) -> f64 {
    if scale == 0 {
        x
    } else {
        x * 10f64.powi(scale.clamp(-400, 400) as i32)
    }
}

fn sign(x: f64, plus: bool) -> &'static str {
    if x.is_sign_negative() {
        "-"
    } else if plus {
        "+"
    } else {
        ""
    }
}

/// Integer and fraction digits of `a >= 0` with exactly `places` fraction digits.
fn fixed_parts(a: f64, places: usize) -> (String, String) {
    let r = rounded_at(a, shortest(a).point + places as i64);
    // The rounded value's own point: a carry may have added a digit.
    let point = r.point;
    let digit = |i: i64| -> char {
        if i < 0 || i as usize >= r.digits.len() {
            '0'
        } else {
            char::from(b'0' + r.digits[i as usize])
        }
    };
    let int: String = if point <= 0 {
        "0".into()
    } else {
        (0..point).map(digit).collect()
    };
    let frac: String = (point..point + places as i64).map(digit).collect();
    (int, frac)
}

/// The fraction digits `a >= 0` needs to read back (at least one).
fn natural_places(a: f64) -> usize {
    let s = shortest(a);
    (s.digits.len() as i64 - s.point).max(1) as usize
}

fn fit(text: String, p: &FloatParams) -> String {
    let Some(width) = p.width else {
        return text;
    };
    let len = text.chars().count();
    if len > width {
        if let Some(c) = p.overflow {
            return std::iter::repeat_n(c, width).collect();
        }
        return text;
    }
    let mut out: String = std::iter::repeat_n(p.pad, width - len).collect();
    out.push_str(&text);
    out
}

/// `~w,d,k,overflowchar,padcharF`.
pub fn fixed(x: f64, p: &FloatParams) -> String {
    let x = scaled(x, p.scale.unwrap_or(0));
    let a = x.abs();
    let sign = sign(x, p.plus_sign);
    let places = match (p.digits, p.width) {
        (Some(d), _) => d,
        (None, Some(w)) => {
            let natural = natural_places(a);
            let int_len = fixed_parts(a, 0).0.len();
            let room = w as i64 - sign.len() as i64 - int_len as i64 - 1;
            natural.min(room.max(0) as usize)
        }
        (None, None) => natural_places(a),
    };
    let (int, frac) = fixed_parts(a, places);
    let mut text = format!("{sign}{int}.{frac}");
    if int == "0" && p.width.is_some_and(|w| text.len() > w) {
        text = format!("{sign}.{frac}");
    }
    fit(text, p)
}

/// `~w,d,e,k,overflowchar,padchar,exptcharE` (the exponent marker is `e`).
pub fn exponential(x: f64, p: &FloatParams) -> String {
    let k = p.scale.unwrap_or(1);
    let a = x.abs();
    let sign = sign(x, p.plus_sign);
    let significant = |d: usize| -> i64 {
        if k > 0 {
            d as i64 + 1
        } else {
            (d as i64 + k).max(1)
        }
    };
    let build = |count: i64| -> String {
        let r = if a == 0.0 {
            Digits {
                digits: vec![0],
                point: 1,
            }
        } else {
            rounded_at(a, count)
        };
        let mut digits = r.digits.clone();
        digits.resize(count.max(k).max(1) as usize, 0);
        let exponent = r.point - k;
        let text: String = digits.iter().map(|&d| char::from(b'0' + d)).collect();
        let mantissa = if k > 0 {
            let (before, after) = text.split_at((k as usize).min(text.len()));
            let after = if after.is_empty() { "0" } else { after };
            format!("{before}.{after}")
        } else {
            format!("0.{}{text}", "0".repeat((-k) as usize))
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        let exp_digits = format!(
            "{:0>width$}",
            exponent.unsigned_abs(),
            width = p.exponent_digits.unwrap_or(1)
        );
        if p.exponent_digits
            .is_some_and(|e| exp_digits.len() > e.max(1))
        {
            if let (Some(c), Some(w)) = (p.overflow, p.width) {
                return std::iter::repeat_n(c, w).collect();
            }
        }
        format!("{sign}{mantissa}e{exp_sign}{exp_digits}")
    };
    let text = match p.digits {
        Some(d) => build(significant(d)),
        None => {
            let natural = if a == 0.0 {
                1
            } else {
                shortest(a).digits.len() as i64
            };
            let mut count = natural.max(k);
            let mut text = build(count);
            if let Some(w) = p.width {
                while text.len() > w && count > k.max(1) {
                    count -= 1;
                    text = build(count);
                }
            }
            text
        }
    };
    fit(text, p)
}

/// `~w,d,e,k,overflowchar,padchar,exptcharG`: `~F` followed by spaces when the number's
/// magnitude suits its digits, else `~E`.
pub fn general(x: f64, p: &FloatParams) -> String {
    let a = x.abs();
    let n = if a == 0.0 { 0 } else { shortest(a).point };
    let q = if a == 0.0 {
        1
    } else {
        shortest(a).digits.len() as i64
    };
    let d = p.digits.map_or_else(|| q.max(n.min(7)), |d| d as i64);
    let ee = p.exponent_digits.map_or(4, |e| e + 2);
    let dd = d - n;
    if (0..=d).contains(&dd) {
        let fixed_params = FloatParams {
            width: p.width.map(|w| w.saturating_sub(ee)),
            digits: Some(dd as usize),
            scale: None,
            ..*p
        };
        let mut text = fixed(x, &fixed_params);
        text.push_str(&" ".repeat(ee));
        text
    } else {
        exponential(x, p)
    }
}

/// `~d,n,w,padchar$`: `d` fraction digits (2), at least `n` integer digits (1), padded to `w`;
/// `sign_first` (`~:$`) puts the sign before the padding.
pub fn monetary(
    x: f64,
    digits: usize,
    int_digits: usize,
    width: usize,
    pad: char,
    plus: bool,
    sign_first: bool,
) -> String {
    let a = x.abs();
    let sign = sign(x, plus);
    let (int, frac) = fixed_parts(a, digits);
    let int = format!("{int:0>int_digits$}");
    let body = format!("{int}.{frac}");
    let len = sign.len() + body.chars().count();
    let padding: String = std::iter::repeat_n(pad, width.saturating_sub(len)).collect();
    if sign_first {
        format!("{sign}{padding}{body}")
    } else {
        format!("{padding}{sign}{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_uses_the_exact_value_and_halves_go_away_from_zero() {
        assert_eq!(fixed_parts(2.675, 2), ("2".into(), "67".into()));
        assert_eq!(fixed_parts(2.5, 0), ("3".into(), "".into()));
        assert_eq!(fixed_parts(9.996, 2), ("10".into(), "00".into()));
        assert_eq!(fixed_parts(0.001, 2), ("0".into(), "00".into()));
        assert_eq!(fixed_parts(2.71, 8), ("2".into(), "71000000".into()));
        assert_eq!(
            fixed_parts(1e21, 1),
            ("1000000000000000000000".into(), "0".into())
        );
    }
}
