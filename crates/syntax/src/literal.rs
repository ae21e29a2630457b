//! Integer and character literals: decimal, `0x`, `#x`/`#b`/`#o`/`#Nr` integers (checked against
//! the i128 range) and `#\c` characters with their standard names.

use crate::token::{is_terminator, Token};
use crate::{Diagnostic, SexpKind, Span};

/// Why a numeric-looking token is not an integer we can read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NumberProblem {
    OutOfRange,
    BadDigits(u32),
    Float,
    Ratio,
}

impl NumberProblem {
    pub(crate) fn diagnostic(&self, span: Span, text: &str) -> Diagnostic {
        match self {
            NumberProblem::OutOfRange => {
                Diagnostic::error(span, format!("integer literal `{text}` is out of range"))
                    .with_help(
                        "integer literals must fit in 128 bits (BPF values are at most 64 bits)",
                    )
            }
            NumberProblem::BadDigits(radix) => Diagnostic::error(
                span,
                format!("`{text}` is not a valid {} number", radix_name(*radix)),
            )
            .with_help(format!(
                "{} digits are {}",
                radix_name(*radix),
                digit_list(*radix)
            )),
            NumberProblem::Float => Diagnostic::error(
                span,
                format!("floating-point literal `{text}` is not supported"),
            )
            .with_help(
                "Whistler has only integers; scale the value, e.g. milliseconds instead of seconds",
            ),
            NumberProblem::Ratio => Diagnostic::error(
                span,
                format!("ratio `{text}` is not supported"),
            )
            .with_help(
                "Whistler has only integers; write the quotient with `(floor a b)` or `(/ a b)`",
            ),
        }
    }
}

fn radix_name(radix: u32) -> String {
    match radix {
        2 => "binary".into(),
        8 => "octal".into(),
        10 => "decimal".into(),
        16 => "hexadecimal".into(),
        r => format!("base-{r}"),
    }
}

fn digit_list(radix: u32) -> String {
    match radix {
        2 => "0 and 1".into(),
        8 => "0 to 7".into(),
        10 => "0 to 9".into(),
        16 => "0 to 9 and a to f".into(),
        r => format!(
            "0 to 9 and letters up to `{}`",
            char::from_digit(r - 1, r).unwrap_or('z')
        ),
    }
}

/// Parses a plain token as a number: `None` when it is a symbol (`1+`, `-`, `+foo+`).
/// Accepts `[+-]digits[.]`, `[+-]0xHEX` and `[+-]#xHEX` / `#b` / `#o`.
pub(crate) fn parse_token(text: &str) -> Option<Result<i128, NumberProblem>> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    // Every number starts (after its sign) with a digit, `.` or `#`; most tokens are symbols.
    if !body
        .as_bytes()
        .first()
        .is_some_and(|&b| b.is_ascii_digit() || b == b'.' || b == b'#')
    {
        return None;
    }
    let (radix, mut digits) = radix_prefix(body)?;
    if radix == 10 {
        digits = digits.strip_suffix('.').unwrap_or(digits);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return looks_like_float_or_ratio(body).map(Err);
        }
    }
    Some(magnitude(digits, radix).and_then(|m| signed(m, negative)))
}

/// Splits off `0x` or `#x`/`#b`/`#o`; plain decimal otherwise.
fn radix_prefix(body: &str) -> Option<(u32, &str)> {
    let lower = (body.as_bytes().get(..2)).map(|p| [p[0], p[1].to_ascii_lowercase()]);
    let radix = match lower {
        Some([b'0', b'x']) if body.len() > 2 => 16,
        Some([b'#', b'x']) => 16,
        Some([b'#', b'b']) => 2,
        Some([b'#', b'o']) => 8,
        _ if body.starts_with('#') => return None,
        _ => return Some((10, body)),
    };
    Some((radix, &body[2..]))
}

/// `1.5`, `.5`, `1e3`, `1/2`: numbers of kinds we reject with a clear message.
fn looks_like_float_or_ratio(body: &str) -> Option<NumberProblem> {
    if let Some((n, d)) = body.split_once('/') {
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        return (all_digits(n) && all_digits(d)).then_some(NumberProblem::Ratio);
    }
    let (mantissa, exponent) = match body.find(|c: char| "eEdDfFsSlL".contains(c)) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits_only(int) && digits_only(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits_only(e)
    });
    let has_point = mantissa.contains('.') && !frac.is_empty();
    (mantissa_ok && exponent_ok && (has_point || exponent.is_some()))
        .then_some(NumberProblem::Float)
}

/// Digits (with an optional sign) in `radix`, as after `#x`.
pub(crate) fn parse_radix(text: &str, radix: u32) -> Result<i128, NumberProblem> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    magnitude(digits, radix).and_then(|m| signed(m, negative))
}

fn magnitude(digits: &str, radix: u32) -> Result<u128, NumberProblem> {
    if digits.is_empty() {
        return Err(NumberProblem::BadDigits(radix));
    }
    let mut value: u128 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix).ok_or(NumberProblem::BadDigits(radix))?;
        value = value
            .checked_mul(radix as u128)
            .and_then(|v| v.checked_add(d as u128))
            .ok_or(NumberProblem::OutOfRange)?;
    }
    Ok(value)
}

fn signed(magnitude: u128, negative: bool) -> Result<i128, NumberProblem> {
    if negative {
        if magnitude <= i128::MAX as u128 + 1 {
            Ok((magnitude as i128).wrapping_neg())
        } else {
            Err(NumberProblem::OutOfRange)
        }
    } else {
        i128::try_from(magnitude).map_err(|_| NumberProblem::OutOfRange)
    }
}

/// The standard character names (compared case-insensitively) and their characters.
pub(crate) const CHAR_NAMES: &[(&str, char)] = &[
    ("space", ' '),
    ("newline", '\n'),
    ("tab", '\t'),
    ("return", '\r'),
    ("linefeed", '\n'),
    ("page", '\x0c'),
    ("backspace", '\x08'),
    ("rubout", '\x7f'),
    ("delete", '\x7f'),
    ("nul", '\0'),
    ("null", '\0'),
    ("escape", '\x1b'),
    ("esc", '\x1b'),
    ("bell", '\x07'),
];

/// A character literal after `#\` (which starts at `start`).
pub(crate) fn character(
    text: &str,
    start: usize,
    pos: &mut usize,
    diags: &mut Vec<Diagnostic>,
) -> Token {
    let Some(first) = text[*pos..].chars().next() else {
        diags.push(
            Diagnostic::error(Span::new(start, *pos), "`#\\` at the end of the file")
                .with_help("write the character after `#\\`, e.g. `#\\a` or `#\\Space`"),
        );
        return Token::Skipped;
    };
    let name_start = *pos;
    *pos += first.len_utf8();
    while let Some(c) = text[*pos..].chars().next() {
        if is_terminator(c) {
            break;
        }
        *pos += c.len_utf8();
    }
    let name = &text[name_start..*pos];
    if name.chars().count() == 1 {
        return Token::Atom(SexpKind::Char(first));
    }
    match named_char(name) {
        Some(c) => Token::Atom(SexpKind::Char(c)),
        None => {
            diags.push(
                Diagnostic::error(Span::new(start, *pos), format!("unknown character name `#\\{name}`"))
                    .with_help("use one character (`#\\a`) or a name: Space, Newline, Tab, Return, Page, Backspace, Rubout, Nul, Escape, Bell, or U+XXXX"),
            );
            Token::Skipped
        }
    }
}

fn named_char(name: &str) -> Option<char> {
    let lower = name.to_ascii_lowercase();
    if let Some(&(_, c)) = CHAR_NAMES.iter().find(|(n, _)| *n == lower) {
        return Some(c);
    }
    let hex = lower
        .strip_prefix("u+")
        .or_else(|| lower.strip_prefix('u'))?;
    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
}
