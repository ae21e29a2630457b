//! The reader's lexer: one token at a time, with comments, strings, characters, numbers and
//! symbols decoded and every malformed piece reported as a diagnostic.

use crate::{Diagnostic, SexpKind, Span, Symbol};

/// One lexical item. `Skipped` stands for a datum that was malformed (already reported): it
/// satisfies a pending prefix but is not put into any list.
pub(crate) enum Token {
    Open,
    Close,
    /// A lone unescaped `.`.
    Dot,
    /// A prefix and the name of the list it builds (`'` builds `quote`).
    Prefix(&'static str),
    /// `#+` (true) or `#-` (false): the next form is a feature test, the one after it is kept
    /// only when the test agrees.
    Feature(bool),
    Atom(SexpKind),
    Skipped,
}

/// A token's characters, each with whether it was escaped (`\c` or inside `|...|`).
struct RawToken {
    chars: Vec<(char, bool)>,
    escaped: bool,
}

impl RawToken {
    fn plain(&self) -> Option<String> {
        (!self.escaped).then(|| self.chars.iter().map(|&(c, _)| c).collect())
    }
}

/// Reads the next token at or after `*pos`, skipping whitespace and comments; `None` at the end.
pub(crate) fn next(
    text: &str,
    pos: &mut usize,
    diags: &mut Vec<Diagnostic>,
    host_code: bool,
) -> Option<(Token, Span)> {
    let bytes = text.as_bytes();
    loop {
        // Runs of ASCII whitespace (indentation) in one sweep.
        while let Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0c) = bytes.get(*pos) {
            *pos += 1;
        }
        let start = *pos;
        let c = text[start..].chars().next()?;
        *pos += c.len_utf8();
        let token = match c {
            // A byte-order mark is not content.
            ' ' | '\t' | '\n' | '\r' | '\x0c' | '\u{feff}' => continue,
            ';' => {
                *pos = text[start..].find('\n').map_or(text.len(), |i| start + i);
                continue;
            }
            '(' => Token::Open,
            ')' => Token::Close,
            '\'' => Token::Prefix("quote"),
            '`' => Token::Prefix("quasiquote"),
            ',' if text[*pos..].starts_with('@') => {
                *pos += 1;
                Token::Prefix("unquote-splicing")
            }
            ',' => Token::Prefix("unquote"),
            '"' => plain_string(text, pos).unwrap_or_else(|| string(text, start, pos, diags)),
            '#' => match dispatch(text, start, pos, diags, host_code) {
                Some(token) => token,
                None => continue,
            },
            c if c.is_control() || c.is_whitespace() => {
                stray_character(c, Span::new(start, *pos), diags);
                continue;
            }
            _ => {
                *pos = start;
                if let Some(token) = plain_token(text, pos, host_code) {
                    return Some((token, Span::new(start, *pos)));
                }
                let raw = raw_token(text, pos, diags);
                classify(raw, Span::new(start, *pos), diags, host_code)
            }
        };
        return Some((token, Span::new(start, *pos)));
    }
}

fn stray_character(c: char, span: Span, diags: &mut Vec<Diagnostic>) {
    let what = if c.is_control() {
        "control character"
    } else {
        "non-ASCII whitespace character"
    };
    diags.push(
        Diagnostic::error(span, format!("{what} U+{:04X} in source", c as u32))
            .with_help("remove it; only spaces, tabs and newlines separate forms"),
    );
}

/// True for characters that end a token.
pub(crate) fn is_terminator(c: char) -> bool {
    matches!(c, '(' | ')' | '\'' | '"' | ';' | '`' | ',') || c.is_whitespace() || c.is_control()
}

/// True for the ASCII bytes that end a token: [`is_terminator`] of an ASCII character.
const fn is_ascii_terminator(b: u8) -> bool {
    b <= b' ' || b == 0x7f || matches!(b, b'(' | b')' | b'\'' | b'"' | b';' | b'`' | b',')
}

/// The bytes that end a plain token's run: non-ASCII bytes, escapes and
/// [`is_ascii_terminator`]s.
static ENDS_PLAIN_TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = !byte.is_ascii() || byte == b'|' || byte == b'\\' || is_ascii_terminator(byte);
        b += 1;
    }
    table
};

/// The common case of [`raw_token`] and [`classify`], without their per-character work: a
/// token of ASCII characters without escapes that is a well-formed number or symbol. `None`
/// (and `*pos` unchanged) for anything else, which the general path then reads and reports.
fn plain_token(text: &str, pos: &mut usize, floats: bool) -> Option<Token> {
    let start = *pos;
    let rest = &text.as_bytes()[start..];
    let len = rest
        .iter()
        .position(|&b| ENDS_PLAIN_TOKEN[usize::from(b)])
        .unwrap_or(rest.len());
    if rest
        .get(len)
        .is_some_and(|&b| !b.is_ascii() || b == b'|' || b == b'\\')
    {
        return None;
    }
    let token = &text[start..start + len];
    if token.starts_with('.') && token.bytes().all(|b| b == b'.') {
        // The consing dot, or only dots (an error the general path reports).
        return None;
    }
    let kind =
        match crate::literal::parse_token(token) {
            Some(Ok(n)) => SexpKind::Int(n),
            Some(Err(
                crate::literal::NumberProblem::Float | crate::literal::NumberProblem::Ratio,
            )) if floats => SexpKind::Symbol(Symbol {
                package: Some(crate::FLOAT_PACKAGE.to_string()),
                name: token.to_ascii_lowercase(),
            }),
            Some(Err(_)) => return None,
            None => SexpKind::Symbol(plain_symbol(token)?),
        };
    *pos = start + len;
    Some(Token::Atom(kind))
}

/// [`symbol`] of a token of ASCII characters without escapes; `None` when malformed.
fn plain_symbol(token: &str) -> Option<Symbol> {
    let (Some(first), Some(last)) = (token.find(':'), token.rfind(':')) else {
        return Some(Symbol::new(token.to_ascii_lowercase()));
    };
    let colons = token[first..=last].bytes().filter(|&b| b == b':').count();
    let contiguous = last - first + 1 == colons && colons <= 2;
    let name = &token[last + 1..];
    if !contiguous || name.is_empty() {
        return None;
    }
    let package = match first {
        0 => "keyword".to_string(),
        _ => token[..first].to_ascii_lowercase(),
    };
    Some(Symbol {
        package: Some(package),
        name: name.to_ascii_lowercase(),
    })
}

/// The common case of [`string`]: a string literal without `\` escapes, taken whole.
fn plain_string(text: &str, pos: &mut usize) -> Option<Token> {
    let rest = &text.as_bytes()[*pos..];
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    if rest[end] != b'"' {
        return None;
    }
    let out = text[*pos..*pos + end].to_string();
    *pos += end + 1;
    Some(Token::Atom(SexpKind::Str(out)))
}

/// Reads a symbol or number token, handling `\` and `|...|` escapes.
fn raw_token(text: &str, pos: &mut usize, diags: &mut Vec<Diagnostic>) -> RawToken {
    let mut raw = RawToken {
        chars: Vec::new(),
        escaped: false,
    };
    let mut bar_open: Option<usize> = None;
    while let Some(c) = text[*pos..].chars().next() {
        let at = *pos;
        if bar_open.is_none() && is_terminator(c) {
            break;
        }
        *pos += c.len_utf8();
        match c {
            '|' => {
                raw.escaped = true;
                bar_open = if bar_open.is_some() { None } else { Some(at) };
            }
            '\\' => {
                raw.escaped = true;
                match text[*pos..].chars().next() {
                    Some(e) => {
                        *pos += e.len_utf8();
                        raw.chars.push((e, true));
                    }
                    None => diags.push(
                        Diagnostic::error(Span::new(at, *pos), "`\\` at the end of the file")
                            .with_help("a backslash escapes the character after it; add one or remove the `\\`"),
                    ),
                }
            }
            c => raw.chars.push((c, bar_open.is_some())),
        }
    }
    if let Some(at) = bar_open {
        diags.push(
            Diagnostic::error(Span::new(at, at + 1), "unterminated `|` in a symbol")
                .with_help("close the escaped part of the symbol with another `|`"),
        );
    }
    raw
}

/// Decides whether a token is the consing dot, a number or a symbol.
fn classify(raw: RawToken, span: Span, diags: &mut Vec<Diagnostic>, floats: bool) -> Token {
    if let Some(text) = raw.plain() {
        if text == "." {
            return Token::Dot;
        }
        if text.chars().all(|c| c == '.') {
            diags.push(
                Diagnostic::error(span, format!("`{text}` is not a valid symbol")).with_help(
                    "a token made only of dots cannot be read; write `|...|` for such a symbol",
                ),
            );
            return Token::Skipped;
        }
        if let Some(number) = crate::literal::parse_token(&text) {
            return match number {
                Ok(n) => Token::Atom(SexpKind::Int(n)),
                Err(
                    crate::literal::NumberProblem::Float | crate::literal::NumberProblem::Ratio,
                ) if floats => Token::Atom(SexpKind::Symbol(Symbol {
                    package: Some(crate::FLOAT_PACKAGE.to_string()),
                    name: text.to_lowercase(),
                })),
                Err(problem) => {
                    diags.push(problem.diagnostic(span, &text));
                    Token::Skipped
                }
            };
        }
    }
    match symbol(&raw.chars, span, diags) {
        Some(sym) => Token::Atom(SexpKind::Symbol(sym)),
        None => Token::Skipped,
    }
}

/// Folds unescaped characters to lower case.
fn fold(chars: &[(char, bool)]) -> String {
    let mut out = String::new();
    for &(c, escaped) in chars {
        if escaped {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Builds a symbol, splitting `pkg:name`, `pkg::name` and `:keyword` on unescaped colons.
fn symbol(chars: &[(char, bool)], span: Span, diags: &mut Vec<Diagnostic>) -> Option<Symbol> {
    let colons: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i] == (':', false))
        .collect();
    let Some(&first) = colons.first() else {
        return Some(Symbol::new(fold(chars)));
    };
    let last = *colons.last().unwrap_or(&first);
    let contiguous = last - first + 1 == colons.len() && colons.len() <= 2;
    let name = &chars[last + 1..];
    if !contiguous || name.is_empty() {
        let text: String = chars.iter().map(|&(c, _)| c).collect();
        let help = if name.is_empty() {
            "write the symbol's name after the package marker, as in `bpf:attach`"
        } else {
            "a symbol has at most one package marker: `pkg:name`, `pkg::name` or `:keyword`"
        };
        diags.push(Diagnostic::error(span, format!("malformed symbol `{text}`")).with_help(help));
        return None;
    }
    let package = if first == 0 {
        "keyword".to_string()
    } else {
        fold(&chars[..first])
    };
    Some(Symbol {
        package: Some(package),
        name: fold(name),
    })
}

/// A string literal after its opening `"` at `start`: `\` escapes the next character.
fn string(text: &str, start: usize, pos: &mut usize, diags: &mut Vec<Diagnostic>) -> Token {
    let mut out = String::new();
    let mut chars = text[*pos..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                *pos += i + 1;
                return Token::Atom(SexpKind::Str(out));
            }
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => break,
            },
            c => out.push(c),
        }
    }
    *pos = text.len();
    diags.push(
        Diagnostic::error(Span::new(start, start + 1), "unterminated string")
            .with_help("the string starting here has no closing `\"`; add one where it should end"),
    );
    Token::Skipped
}

/// `#` syntax. `None` means the dispatch was a comment (nothing to return).
fn dispatch(
    text: &str,
    start: usize,
    pos: &mut usize,
    diags: &mut Vec<Diagnostic>,
    host_code: bool,
) -> Option<Token> {
    let digits = text[*pos..]
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len() - *pos);
    let arg = &text[*pos..*pos + digits];
    *pos += digits;
    let Some(c) = text[*pos..].chars().next() else {
        diags.push(
            Diagnostic::error(Span::new(start, *pos), "`#` at the end of the file")
                .with_help("`#` starts syntax such as `#'f`, `#\\a`, `#x1f` or `#| comment |#`"),
        );
        return Some(Token::Skipped);
    };
    *pos += c.len_utf8();
    let token = match (c.to_ascii_lowercase(), arg.is_empty()) {
        ('|', true) => return block_comment(text, start, pos, diags),
        ('\'', true) => Token::Prefix("function"),
        ('\\', true) => crate::literal::character(text, start, pos, diags),
        ('x', true) => radix_number(16, text, start, pos, diags),
        ('b', true) => radix_number(2, text, start, pos, diags),
        ('o', true) => radix_number(8, text, start, pos, diags),
        ('r', false) => match arg.parse::<u32>() {
            Ok(radix @ 2..=36) => radix_number(radix, text, start, pos, diags),
            _ => {
                diags.push(
                    Diagnostic::error(
                        Span::new(start, *pos),
                        format!("radix {arg} is not between 2 and 36"),
                    )
                    .with_help("write `#NrDIGITS` with N from 2 to 36, e.g. `#16rff`"),
                );
                Token::Skipped
            }
        },
        (':', true) => uninterned(text, start, pos, diags),
        // `#p"/path"`: a pathname is just its string for us.
        ('p', true) if text[*pos..].starts_with('"') => {
            *pos += 1;
            string(text, *pos - 1, pos, diags)
        }
        // `#(a b)` reads as `(%vector-literal (a b))`: the `(` is read again as the list's.
        ('(', true) if host_code => {
            *pos -= 1;
            Token::Prefix(crate::VECTOR_LITERAL)
        }
        ('+', true) => Token::Feature(true),
        ('-', true) => Token::Feature(false),
        _ => unsupported_dispatch(c, text, start, pos, diags),
    };
    Some(token)
}

fn radix_number(
    radix: u32,
    text: &str,
    start: usize,
    pos: &mut usize,
    diags: &mut Vec<Diagnostic>,
) -> Token {
    let raw = raw_token(text, pos, diags);
    let span = Span::new(start, *pos);
    let digits: String = raw.chars.iter().map(|&(c, _)| c).collect();
    match crate::literal::parse_radix(&digits, radix) {
        Ok(n) => Token::Atom(SexpKind::Int(n)),
        Err(problem) => {
            diags.push(problem.diagnostic(span, &text[start..*pos]));
            Token::Skipped
        }
    }
}

fn uninterned(text: &str, start: usize, pos: &mut usize, diags: &mut Vec<Diagnostic>) -> Token {
    let raw = raw_token(text, pos, diags);
    let span = Span::new(start, *pos);
    if raw.chars.is_empty() || raw.chars.contains(&(':', false)) {
        diags.push(
            Diagnostic::error(span, "malformed uninterned symbol")
                .with_help("write `#:name` with a name and no package marker"),
        );
        return Token::Skipped;
    }
    Token::Atom(SexpKind::Symbol(Symbol::new(fold(&raw.chars))))
}

fn unsupported_dispatch(
    c: char,
    text: &str,
    start: usize,
    pos: &mut usize,
    diags: &mut Vec<Diagnostic>,
) -> Token {
    let span = Span::new(start, *pos);
    let shown = &text[start..*pos];
    let (message, help) = match c {
        '(' => (
            "vector literals `#(...)` are not supported".to_string(),
            "use a list, e.g. `'(1 2 3)` or `(list 1 2 3)`",
        ),
        _ => (
            format!("unknown `{shown}` syntax"),
            "supported `#` syntax: `#'f`, `#\\c`, `#x`, `#b`, `#o`, `#Nr`, `#:name`, `#p\"path\"`, `#+feature`, `#| ... |#`",
        ),
    };
    diags.push(Diagnostic::error(span, message).with_help(help));
    if c == '(' {
        // Read the elements as a list so the rest of the file stays in step.
        return Token::Open;
    }
    Token::Skipped
}

/// A nested `#| ... |#` comment after its opening `#|` at `start`.
fn block_comment(
    text: &str,
    start: usize,
    pos: &mut usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<Token> {
    let bytes = text.as_bytes();
    let mut depth = 1usize;
    let mut i = *pos;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'|', b'#') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    *pos = i;
                    return None;
                }
            }
            (b'#', b'|') => {
                depth += 1;
                i += 2;
            }
            _ => i += 1,
        }
    }
    *pos = text.len();
    diags.push(
        Diagnostic::error(Span::new(start, start + 2), "unterminated `#|` comment")
            .with_help("add a matching `|#` where the comment should end (`#|` comments nest)"),
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the general path (`raw_token` + `classify`) makes of `token`: its atom, or `None`.
    fn general(token: &str, floats: bool) -> Option<SexpKind> {
        let (mut pos, mut diags) = (0, Vec::new());
        let raw = raw_token(token, &mut pos, &mut diags);
        match classify(raw, Span::new(0, pos), &mut diags, floats) {
            Token::Atom(kind) if diags.is_empty() => Some(kind),
            _ => None,
        }
    }

    /// The one-sweep path reads every plain token as the general path does, and declines
    /// (leaving it to the general path) every token that needs escapes or a diagnostic.
    #[test]
    fn plain_tokens_read_as_the_general_path_reads_them() {
        let tokens = [
            "foo",
            "FOO",
            "Mixed-Case",
            "1+",
            "-",
            "+",
            "+foo+",
            "*x*",
            "12",
            "-12",
            "+7",
            "12.",
            "0x1F",
            "#x1f",
            "#B101",
            "#o17",
            "0x",
            "1.5",
            "1/2",
            ".5",
            "1e3",
            ":key",
            ":KEY",
            "pkg:name",
            "Pkg::Name",
            "a:b:c",
            "a:",
            ":",
            "a:::b",
            "&optional",
            "%float",
            "x#y",
            "99999999999999999999999999999999999999999",
            "1..2",
            "a.b",
        ];
        for token in tokens {
            for floats in [false, true] {
                let mut pos = 0;
                let plain = plain_token(token, &mut pos, floats);
                match plain {
                    Some(Token::Atom(kind)) => {
                        assert_eq!(pos, token.len(), "{token}");
                        assert_eq!(Some(kind), general(token, floats), "{token}");
                    }
                    Some(_) => panic!("{token}: a plain token is an atom"),
                    None => {
                        assert_eq!(pos, 0, "{token}");
                        assert_eq!(general(token, floats), None, "{token} reads plainly");
                    }
                }
            }
        }
        for escaped in ["a|b|", "a\\b", "é", "..", "."] {
            assert!(plain_token(escaped, &mut 0, true).is_none(), "{escaped}");
        }
    }

    #[test]
    fn plain_strings_are_taken_whole_and_escapes_left_to_the_general_path() {
        let mut pos = 1;
        let Some(Token::Atom(SexpKind::Str(s))) = plain_string("\"ab c\" rest", &mut pos) else {
            panic!("a plain string");
        };
        assert_eq!((s.as_str(), pos), ("ab c", 6));
        assert!(plain_string("\"a\\\"b\"", &mut 1).is_none());
        assert!(plain_string("\"unterminated", &mut 1).is_none());
    }
}
