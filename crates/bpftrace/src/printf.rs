//! printf formats: checked against the argument types at compile time, applied in user space
//! to the values an event carries, as C's printf would.

use crate::types::Type;

/// One argument as the runtime decoded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Str(String),
}

/// A conversion: `%[flags][width][.precision][length]conv`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alternate: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
    /// Bits of the argument the conversion prints, from the length modifier as C reads it
    /// (none: `int`, 32; `h`: 16; `hh`: 8; `l`, `ll`, `j`, `z`, `t`: 64). bpftrace hands C's
    /// printf its 64-bit values with the script's conversion, so `%d` of `0x100000005` is 5.
    bits: u32,
    conversion: char,
}

/// The width in bits a length modifier (`h`, `hh`, `l`, `ll`, `j`, `z`, `t`, `L`) gives.
fn length_bits(modifier: &str) -> u32 {
    match modifier {
        "" => 32,
        "h" => 16,
        "hh" => 8,
        _ => 64,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Spec(Spec),
}

fn parse(format: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            text.push('%');
            continue;
        }
        let mut spec = Spec {
            left: false,
            plus: false,
            space: false,
            alternate: false,
            zero: false,
            width: None,
            precision: None,
            bits: 32,
            conversion: 'd',
        };
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.left = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alternate = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::Chars>| {
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            digits.parse::<usize>().ok()
        };
        spec.width = number(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.precision = Some(number(&mut chars).unwrap_or(0));
        }
        let mut modifier = String::new();
        while let Some(&m) = chars
            .peek()
            .filter(|c| matches!(c, 'h' | 'l' | 'z' | 'j' | 't' | 'L'))
        {
            modifier.push(m);
            chars.next();
        }
        spec.bits = length_bits(&modifier);
        let Some(conversion) = chars.next() else {
            return Err("the format ends inside a conversion".into());
        };
        if !"diuxXoscpr".contains(conversion) {
            return Err(format!("unsupported conversion `%{conversion}`"));
        }
        spec.conversion = conversion;
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Spec(spec));
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// Checks a format against its arguments' types.
pub fn check(format: &str, args: &[Type]) -> Result<(), String> {
    let specs: Vec<Spec> = parse(format)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Spec(s) => Some(s),
            Piece::Text(_) => None,
        })
        .collect();
    if specs.len() != args.len() {
        return Err(format!(
            "the format has {} conversion(s) but {} argument(s) follow",
            specs.len(),
            args.len()
        ));
    }
    for (i, (spec, ty)) in specs.iter().zip(args).enumerate() {
        let fits = match spec.conversion {
            'r' => matches!(ty, Type::Buf(_)),
            's' => !matches!(ty, Type::Int { .. } | Type::Buf(_)),
            _ => matches!(ty, Type::Int { .. }),
        };
        if !fits {
            return Err(format!(
                "argument {} is {}, which `%{}` does not print",
                i + 1,
                ty.describe(),
                spec.conversion
            ));
        }
    }
    Ok(())
}

/// The format `print(value)` uses.
pub fn value_format(ty: Type) -> String {
    match ty {
        Type::Int { .. } => "%ld\n".into(),
        _ => "%s\n".into(),
    }
}

/// Applies a checked format.
pub fn format(format: &str, args: &[Arg]) -> String {
    let Ok(pieces) = parse(format) else {
        return format.to_string();
    };
    let mut out = String::new();
    let mut args = args.iter();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Spec(spec) => {
                let arg = args.next().cloned().unwrap_or(Arg::Int(0));
                out.push_str(&convert(&spec, arg));
            }
        }
    }
    out
}

fn convert(spec: &Spec, arg: Arg) -> String {
    let (body, sign, numeric) = match (spec.conversion, arg) {
        ('s', Arg::Str(s)) => {
            let s = match spec.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            };
            (s, String::new(), false)
        }
        ('s', Arg::Int(n)) => (n.to_string(), String::new(), false),
        (_, Arg::Str(s)) => (s, String::new(), false),
        ('c', Arg::Int(n)) => (
            char::from_u32(n as u32 & 0xff).unwrap_or('?').to_string(),
            String::new(),
            false,
        ),
        ('d' | 'i', Arg::Int(n)) => {
            let n = signed_in_bits(n, spec.bits);
            let sign = if n < 0 {
                "-"
            } else if spec.plus {
                "+"
            } else if spec.space {
                " "
            } else {
                ""
            };
            (n.unsigned_abs().to_string(), sign.to_string(), true)
        }
        (conversion, Arg::Int(n)) => {
            let bits = if conversion == 'p' { 64 } else { spec.bits };
            let n = unsigned_in_bits(n, bits);
            let (digits, prefix) = match conversion {
                'x' => (format!("{n:x}"), "0x"),
                'X' => (format!("{n:X}"), "0X"),
                'o' => (format!("{n:o}"), "0"),
                'p' => (format!("{n:x}"), "0x"),
                _ => (n.to_string(), ""),
            };
            let prefix = if (spec.alternate && n != 0) || conversion == 'p' {
                prefix
            } else {
                ""
            };
            (digits, prefix.to_string(), true)
        }
    };
    let body = match (numeric, spec.precision) {
        (true, Some(p)) if body.len() < p => format!("{}{body}", "0".repeat(p - body.len())),
        _ => body,
    };
    let width = spec.width.unwrap_or(0);
    let len = sign.len() + body.chars().count();
    if len >= width {
        return format!("{sign}{body}");
    }
    let pad = width - len;
    if spec.left {
        format!("{sign}{body}{}", " ".repeat(pad))
    } else if spec.zero && numeric && spec.precision.is_none() {
        format!("{sign}{}{body}", "0".repeat(pad))
    } else {
        format!("{}{sign}{body}", " ".repeat(pad))
    }
}

/// The low `bits` of `n`, sign-extended: what C's `%d` with that length reads.
fn signed_in_bits(n: i64, bits: u32) -> i64 {
    let shift = 64 - bits;
    (n << shift) >> shift
}

/// The low `bits` of `n`: what C's `%u`/`%x`/`%o` with that length reads.
fn unsigned_in_bits(n: i64, bits: u32) -> u64 {
    let shift = 64 - bits;
    ((n as u64) << shift) >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_as_c_prints_them() {
        let args = [
            Arg::Int(-3),
            Arg::Str("ab".into()),
            Arg::Int(255),
            Arg::Int(42),
            Arg::Int(65),
            Arg::Int(7),
        ];
        assert_eq!(
            format("%5d|%-5s|%x|%05d|%c|%lu|%%\n", &args),
            "   -3|ab   |ff|00042|A|7|%\n"
        );
        assert_eq!(
            format("%#x %8.3d %-4u|", &[Arg::Int(16), Arg::Int(5), Arg::Int(1)]),
            "0x10      005 1   |"
        );
    }

    #[test]
    fn length_modifiers_choose_the_bits_printed() {
        let big = [Arg::Int(0x1_0000_0005), Arg::Int(0xf_0000_0001)];
        assert_eq!(format("%d %x", &big), "5 1");
        assert_eq!(format("%ld %llx", &big), "4294967301 f00000001");
        assert_eq!(
            format(
                "%5d|%hhd|%hu",
                &[Arg::Int(0x1_ffff_fffe), Arg::Int(0x1ff), Arg::Int(-1)]
            ),
            "   -2|-1|65535"
        );
        assert_eq!(
            format(
                "%p %zd",
                &[Arg::Int(0x1_0000_0001), Arg::Int(-0x1_0000_0005)]
            ),
            "0x100000001 -4294967301"
        );
    }

    #[test]
    fn argument_types_are_checked() {
        assert!(check("%d %s", &[Type::INT, Type::Str(16)]).is_ok());
        assert!(check("%d", &[Type::Str(16)]).is_err());
        assert!(check("%d %d", &[Type::INT]).is_err());
        assert!(check("%q", &[Type::INT]).is_err());
    }
}
