//! `~R` without a radix: integers as English words (`~R` cardinal, `~:R` ordinal) and as Roman
//! numerals (`~@R`, `~:@R` the old style without subtraction), as CLHS 22.3.2.1 describes.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];

const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// The names of the powers of a thousand, short scale.
const SCALES: [&str; 22] = [
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
    "sextillion",
    "septillion",
    "octillion",
    "nonillion",
    "decillion",
    "undecillion",
    "duodecillion",
    "tredecillion",
    "quattuordecillion",
    "quindecillion",
    "sexdecillion",
    "septendecillion",
    "octodecillion",
    "novemdecillion",
    "vigintillion",
];

/// Words for 1..=999.
fn below_thousand(n: u32, out: &mut Vec<String>) {
    let (hundreds, rest) = (n / 100, n % 100);
    if hundreds > 0 {
        out.push(format!("{} hundred", ONES[hundreds as usize]));
    }
    if rest == 0 {
        return;
    }
    if rest < 20 {
        out.push(ONES[rest as usize].to_string());
    } else if rest % 10 == 0 {
        out.push(TENS[(rest / 10) as usize].to_string());
    } else {
        out.push(format!(
            "{}-{}",
            TENS[(rest / 10) as usize],
            ONES[(rest % 10) as usize]
        ));
    }
}

/// `n` in English words ("negative nineteen", "one million one"), or `None` when it is too
/// large for the names above.
pub fn cardinal(n: &BigInt) -> Option<String> {
    if n.is_zero() {
        return Some("zero".into());
    }
    let mut groups = Vec::new();
    let mut rest = n.abs();
    let thousand = BigInt::from(1000);
    while !rest.is_zero() {
        let (q, r) = rest.div_rem(&thousand);
        groups.push(r.to_u32()?);
        rest = q;
    }
    if groups.len() > SCALES.len() {
        return None;
    }
    let mut words = Vec::new();
    if n.is_negative() {
        words.push("negative".to_string());
    }
    for (scale, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            continue;
        }
        below_thousand(group, &mut words);
        if scale > 0 {
            words.push(SCALES[scale].to_string());
        }
    }
    Some(words.join(" "))
}

/// `n` as an English ordinal ("twenty-first", "one hundredth").
pub fn ordinal(n: &BigInt) -> Option<String> {
    let text = cardinal(n)?;
    let split = text.rfind([' ', '-']).map_or(0, |i| i + 1);
    let (head, last) = text.split_at(split);
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        word if word.ends_with('y') => format!("{}ieth", &word[..word.len() - 1]),
        word => format!("{word}th"),
    };
    Some(format!("{head}{last}"))
}

/// `n` in Roman numerals: 1..=3999, or 1..=4999 in the old style (`IIII` for 4).
pub fn roman(n: &BigInt, old_style: bool) -> Option<String> {
    let limit = if old_style { 4999 } else { 3999 };
    let mut n = n.to_u32().filter(|n| (1..=limit).contains(n))?;
    let table: &[(u32, &str)] = if old_style {
        &[
            (1000, "M"),
            (500, "D"),
            (100, "C"),
            (50, "L"),
            (10, "X"),
            (5, "V"),
            (1, "I"),
        ]
    } else {
        &[
            (1000, "M"),
            (900, "CM"),
            (500, "D"),
            (400, "CD"),
            (100, "C"),
            (90, "XC"),
            (50, "L"),
            (40, "XL"),
            (10, "X"),
            (9, "IX"),
            (5, "V"),
            (4, "IV"),
            (1, "I"),
        ]
    };
    let mut out = String::new();
    for &(value, letters) in table {
        while n >= value {
            out.push_str(letters);
            n -= value;
        }
    }
    Some(out)
}
