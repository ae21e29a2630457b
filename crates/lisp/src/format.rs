//! `format` control strings: ~a ~s ~d ~b ~o ~x ~r ~c ~p ~% ~& ~t ~~ ~* ~newline, iteration
//! ~{ ~}, conditionals ~[ ~; ~] (with ~:[ and ~@[), ~^, case conversion ~( ~), and column
//! parameters such as `~5d`, `~8,'0x`, `~10a`, `~:d`.

use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::number::{self, Num};
use crate::printer::{prin1, princ};
use crate::value::Value;
use whistler_syntax::Span;

#[derive(Clone, Debug)]
enum Param {
    Absent,
    Int(i64),
    Char(char),
    /// `v`: the next argument supplies the parameter.
    FromArg,
    /// `#`: the number of remaining arguments.
    Remaining,
}

#[derive(Debug)]
struct Directive {
    op: char,
    params: Vec<Param>,
    colon: bool,
    at: bool,
    /// Clauses of `~[`, the body of `~{` and `~(`.
    clauses: Vec<Vec<Item>>,
    /// `~:;` made the last clause of `~[` the default.
    last_is_default: bool,
}

#[derive(Debug)]
enum Item {
    Text(String),
    Directive(Directive),
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    span: Span,
    _text: &'a str,
}

/// What ended a parsed sequence: the end of the string or a closing directive.
struct End {
    op: Option<char>,
    colon: bool,
}

impl Parser<'_> {
    fn error<T>(&self, message: &str) -> Result<T, Flow> {
        fail(
            "format-error",
            format!("format: {message} (at position {})", self.pos),
            self.span,
        )
    }

    fn sequence(&mut self, closers: &[char]) -> Result<(Vec<Item>, End), Flow> {
        let mut items = Vec::new();
        let mut text = String::new();
        while self.pos < self.chars.len() {
            let c = self.chars[self.pos];
            self.pos += 1;
            if c != '~' {
                text.push(c);
                continue;
            }
            let (params, colon, at, op) = self.directive_head()?;
            if closers.contains(&op) {
                if !text.is_empty() {
                    items.push(Item::Text(std::mem::take(&mut text)));
                }
                return Ok((
                    items,
                    End {
                        op: Some(op),
                        colon,
                    },
                ));
            }
            if op == '\n' {
                self.skip_newline(colon, at, &mut text);
                continue;
            }
            if !text.is_empty() {
                items.push(Item::Text(std::mem::take(&mut text)));
            }
            let mut d = Directive {
                op,
                params,
                colon,
                at,
                clauses: Vec::new(),
                last_is_default: false,
            };
            match op {
                '{' => d.clauses.push(self.body('}')?),
                '(' => d.clauses.push(self.body(')')?),
                '[' => self.clauses(&mut d)?,
                '}' | ')' | ']' | ';' => return self.error(&format!("unexpected ~{op}")),
                _ => {}
            }
            items.push(Item::Directive(d));
        }
        if !text.is_empty() {
            items.push(Item::Text(text));
        }
        Ok((
            items,
            End {
                op: None,
                colon: false,
            },
        ))
    }

    fn body(&mut self, close: char) -> Result<Vec<Item>, Flow> {
        let (items, end) = self.sequence(&[close])?;
        if end.op != Some(close) {
            return self.error(&format!("missing ~{close}"));
        }
        Ok(items)
    }

    fn clauses(&mut self, d: &mut Directive) -> Result<(), Flow> {
        loop {
            let (items, end) = self.sequence(&[';', ']'])?;
            d.clauses.push(items);
            match end.op {
                Some(';') => d.last_is_default |= end.colon,
                Some(_) => return Ok(()),
                None => return self.error("missing ~]"),
            }
        }
    }

    fn skip_newline(&mut self, colon: bool, at: bool, text: &mut String) {
        if at {
            text.push('\n');
        }
        if !colon {
            while self.pos < self.chars.len() && matches!(self.chars[self.pos], ' ' | '\t') {
                self.pos += 1;
            }
        }
    }

    fn directive_head(&mut self) -> Result<(Vec<Param>, bool, bool, char), Flow> {
        let mut params = Vec::new();
        loop {
            let param = self.param()?;
            let more = self.chars.get(self.pos) == Some(&',');
            params.push(param);
            if !more {
                break;
            }
            self.pos += 1;
        }
        if params.len() == 1 && matches!(params[0], Param::Absent) {
            params.clear();
        }
        let (mut colon, mut at) = (false, false);
        while let Some(&c) = self.chars.get(self.pos) {
            match c {
                ':' => colon = true,
                '@' => at = true,
                _ => break,
            }
            self.pos += 1;
        }
        let Some(&op) = self.chars.get(self.pos) else {
            return self.error("control string ends inside a directive");
        };
        self.pos += 1;
        Ok((params, colon, at, op.to_ascii_lowercase()))
    }

    fn param(&mut self) -> Result<Param, Flow> {
        let start = self.pos;
        match self.chars.get(self.pos) {
            Some('\'') => {
                let Some(&c) = self.chars.get(self.pos + 1) else {
                    return self.error("missing character after '");
                };
                self.pos += 2;
                Ok(Param::Char(c))
            }
            Some('v' | 'V') => {
                self.pos += 1;
                Ok(Param::FromArg)
            }
            Some('#') => {
                self.pos += 1;
                Ok(Param::Remaining)
            }
            Some(c) if c.is_ascii_digit() || *c == '-' || *c == '+' => {
                self.pos += 1;
                while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                text.parse()
                    .map(Param::Int)
                    .or_else(|_| self.error("bad numeric parameter"))
            }
            _ => Ok(Param::Absent),
        }
    }
}

/// The largest padding width or repeat count a directive may ask for.
const MAX_COUNT: i64 = 1_000_000;

/// The arguments a format run consumes.
struct Args<'a> {
    list: &'a [Value],
    pos: usize,
}

impl Args<'_> {
    fn next(&mut self, span: Span) -> Result<Value, Flow> {
        let v = self.list.get(self.pos).cloned();
        self.pos += 1;
        v.map_or_else(
            || {
                fail(
                    "format-error",
                    "format: not enough arguments for the control string",
                    span,
                )
            },
            Ok,
        )
    }
    fn remaining(&self) -> usize {
        self.list.len().saturating_sub(self.pos)
    }
}

/// Whether `~^` asked to stop.
enum Outcome {
    Done,
    Escape,
}

struct Run<'i> {
    interp: &'i mut Interp,
    out: String,
    /// Whether output before `out` ended a line (for `~&` at the very start).
    line_start: bool,
    span: Span,
}

/// Formats `control` with `args` to a string.
pub fn format(
    interp: &mut Interp,
    control: &str,
    args: &[Value],
    span: Span,
) -> Result<String, Flow> {
    format_at(interp, control, args, span, true)
}

/// Formats, knowing whether the destination is at the start of a line.
pub fn format_at(
    interp: &mut Interp,
    control: &str,
    args: &[Value],
    span: Span,
    line_start: bool,
) -> Result<String, Flow> {
    let mut parser = Parser {
        chars: control.chars().collect(),
        pos: 0,
        span,
        _text: control,
    };
    let (items, end) = parser.sequence(&[])?;
    if let Some(op) = end.op {
        return fail("format-error", format!("format: unexpected ~{op}"), span);
    }
    let mut run = Run {
        interp,
        out: String::new(),
        line_start,
        span,
    };
    let mut cursor = Args { list: args, pos: 0 };
    run.items(&items, &mut cursor)?;
    Ok(run.out)
}

impl Run<'_> {
    fn items(&mut self, items: &[Item], args: &mut Args) -> Result<Outcome, Flow> {
        for item in items {
            match item {
                Item::Text(t) => self.out.push_str(t),
                Item::Directive(d) => {
                    if let Outcome::Escape = self.directive(d, args)? {
                        return Ok(Outcome::Escape);
                    }
                }
            }
        }
        Ok(Outcome::Done)
    }

    /// A numeric parameter, clamped so that padding and repeat counts stay reasonable.
    fn param(&self, d: &Directive, i: usize, args: &mut Args) -> Result<Option<i64>, Flow> {
        Ok(self
            .raw_param(d, i, args)?
            .map(|n| n.clamp(-MAX_COUNT, MAX_COUNT)))
    }

    fn raw_param(&self, d: &Directive, i: usize, args: &mut Args) -> Result<Option<i64>, Flow> {
        Ok(match d.params.get(i) {
            Some(Param::Int(n)) => Some(*n),
            Some(Param::Char(c)) => Some(*c as i64),
            Some(Param::FromArg) => args.next(self.span)?.as_i64(),
            Some(Param::Remaining) => Some(args.remaining() as i64),
            _ => None,
        })
    }

    fn char_param(
        &self,
        d: &Directive,
        i: usize,
        args: &mut Args,
        default: char,
    ) -> Result<char, Flow> {
        Ok(match d.params.get(i) {
            Some(Param::Char(c)) => *c,
            Some(Param::FromArg) => match args.next(self.span)? {
                Value::Char(c, _) => c,
                _ => default,
            },
            _ => default,
        })
    }

    fn fresh_line(&mut self) {
        let at_start = if self.out.is_empty() {
            self.line_start
        } else {
            self.out.ends_with('\n')
        };
        if !at_start {
            self.out.push('\n');
        }
    }

    fn column(&self) -> usize {
        self.out
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.chars().count())
    }

    fn directive(&mut self, d: &Directive, args: &mut Args) -> Result<Outcome, Flow> {
        match d.op {
            'a' | 's' => {
                let mincol = self.param(d, 0, args)?.unwrap_or(0).max(0) as usize;
                let pad = self.char_param(d, 3, args, ' ')?;
                let v = args.next(self.span)?;
                let text = match (&v, d.op, d.colon) {
                    (Value::Nil, _, true) => "()".to_string(),
                    (_, 'a', _) => princ(&v),
                    _ => prin1(&v),
                };
                self.out.push_str(&pad_text(&text, mincol, pad, d.at));
            }
            'd' | 'b' | 'o' | 'x' => {
                let radix = match d.op {
                    'd' => 10,
                    'b' => 2,
                    'o' => 8,
                    _ => 16,
                };
                self.integer(d, args, radix, 0)?;
            }
            'r' => {
                let radix = self.param(d, 0, args)?.unwrap_or(10).clamp(2, 36) as u32;
                self.integer(d, args, radix, 1)?;
            }
            'f' => {
                let width = self.param(d, 0, args)?.unwrap_or(0).max(0) as usize;
                let digits = self.param(d, 1, args)?;
                let v = args.next(self.span)?;
                let text = match (crate::number::real(&v), digits) {
                    (Some(x), Some(n)) => format!("{x:.*}", n.clamp(0, 100) as usize),
                    (Some(x), None) => format!("{x:?}"),
                    (None, _) => princ(&v),
                };
                let text = if d.at && !text.starts_with('-') {
                    format!("+{text}")
                } else {
                    text
                };
                self.out.push_str(&pad_text(&text, width, ' ', true));
            }
            'c' => {
                let v = args.next(self.span)?;
                self.out.push_str(&princ(&v));
            }
            'p' => self.plural(d, args)?,
            '%' | '~' | '|' => {
                let n = self.param(d, 0, args)?.unwrap_or(1).max(0) as usize;
                let c = match d.op {
                    '%' => '\n',
                    '~' => '~',
                    _ => '\x0c',
                };
                self.out.extend(std::iter::repeat_n(c, n));
            }
            '&' => {
                let n = self.param(d, 0, args)?.unwrap_or(1).max(0) as usize;
                if n > 0 {
                    self.fresh_line();
                    self.out.extend(std::iter::repeat_n('\n', n - 1));
                }
            }
            't' => {
                let colnum = self.param(d, 0, args)?.unwrap_or(1).max(0) as usize;
                let col = self.column();
                let n = if col < colnum { colnum - col } else { 1 };
                self.out.extend(std::iter::repeat_n(' ', n));
            }
            '*' => self.skip(d, args)?,
            '^' => {
                let stop = match d.params.first() {
                    Some(_) => self.param(d, 0, args)? == Some(0),
                    None => args.remaining() == 0,
                };
                if stop {
                    return Ok(Outcome::Escape);
                }
            }
            '{' => self.iterate(d, args)?,
            '[' => return self.conditional(d, args),
            '(' => self.case_conversion(d, args)?,
            '?' => {
                let control = args.next(self.span)?;
                let sub_args: Vec<Value> = args.next(self.span)?.iter().collect();
                let text = format(self.interp, &princ(&control), &sub_args, self.span)?;
                self.out.push_str(&text);
            }
            other => {
                return fail(
                    "format-error",
                    format!("format: unknown directive ~{other}"),
                    self.span,
                );
            }
        }
        Ok(Outcome::Done)
    }

    fn integer(
        &mut self,
        d: &Directive,
        args: &mut Args,
        radix: u32,
        first: usize,
    ) -> Result<(), Flow> {
        let mincol = self.param(d, first, args)?.unwrap_or(0).max(0) as usize;
        let pad = self.char_param(d, first + 1, args, ' ')?;
        let comma = self.char_param(d, first + 2, args, ',')?;
        let interval = self.param(d, first + 3, args)?.unwrap_or(3).max(1) as usize;
        let v = args.next(self.span)?;
        let text = match &v {
            Value::Int(..) | Value::Big(_) => {
                let n = number::num(&v, self.span)?;
                let negative = number::compare(&n, &Num::Small(0)).is_lt();
                let digits = number::to_string_radix(
                    &number::normalize(n.big().magnitude().clone().into()),
                    radix,
                );
                let digits = if d.colon {
                    group(&digits, comma, interval)
                } else {
                    digits
                };
                let sign = if negative {
                    "-"
                } else if d.at {
                    "+"
                } else {
                    ""
                };
                format!("{sign}{digits}")
            }
            other => princ(other),
        };
        self.out.push_str(&pad_text(&text, mincol, pad, true));
        Ok(())
    }

    fn plural(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        if d.colon {
            args.pos = args.pos.saturating_sub(1);
        }
        let v = args.next(self.span)?;
        let one = v.as_i64() == Some(1);
        self.out.push_str(match (d.at, one) {
            (false, true) => "",
            (false, false) => "s",
            (true, true) => "y",
            (true, false) => "ies",
        });
        Ok(())
    }

    fn skip(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        let n = self.param(d, 0, args)?;
        if d.at {
            args.pos = n.unwrap_or(0).max(0) as usize;
        } else if d.colon {
            args.pos = args.pos.saturating_sub(n.unwrap_or(1).max(0) as usize);
        } else {
            args.pos += n.unwrap_or(1).max(0) as usize;
        }
        Ok(())
    }

    fn iterate(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        let max = self
            .param(d, 0, args)?
            .map_or(usize::MAX, |n| n.max(0) as usize);
        let body = &d.clauses[0];
        let source: Vec<Value> = if d.at {
            let rest = args.list[args.pos.min(args.list.len())..].to_vec();
            args.pos = args.list.len();
            rest
        } else {
            args.next(self.span)?.iter().collect()
        };
        if d.colon {
            for sub in source.iter().take(max) {
                let sub: Vec<Value> = sub.iter().collect();
                let mut cursor = Args { list: &sub, pos: 0 };
                self.interp.tick(self.span)?;
                self.items(body, &mut cursor)?;
            }
            return Ok(());
        }
        let mut cursor = Args {
            list: &source,
            pos: 0,
        };
        let mut count = 0;
        while cursor.remaining() > 0 && count < max {
            self.interp.tick(self.span)?;
            let before = cursor.pos;
            if let Outcome::Escape = self.items(body, &mut cursor)? {
                break;
            }
            if cursor.pos == before {
                break;
            }
            count += 1;
        }
        Ok(())
    }

    fn conditional(&mut self, d: &Directive, args: &mut Args) -> Result<Outcome, Flow> {
        if d.at {
            let v = args.next(self.span)?;
            if v.truthy() {
                args.pos -= 1;
                return self.items(&d.clauses[0], args);
            }
            return Ok(Outcome::Done);
        }
        let index = if d.colon {
            usize::from(args.next(self.span)?.truthy())
        } else {
            match self.param(d, 0, args)? {
                Some(n) => n.max(0) as usize,
                None => {
                    let v = args.next(self.span)?;
                    v.as_i64().unwrap_or(-1).max(-1) as usize
                }
            }
        };
        let last = d.clauses.len().saturating_sub(1);
        let chosen = if !d.colon && d.last_is_default && index >= last {
            d.clauses.last()
        } else {
            d.clauses.get(index)
        };
        match chosen {
            Some(clause) => self.items(clause, args),
            None => Ok(Outcome::Done),
        }
    }

    fn case_conversion(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        let start = self.out.len();
        self.items(&d.clauses[0], args)?;
        let text = self.out.split_off(start);
        let converted = match (d.colon, d.at) {
            (false, false) => text.to_lowercase(),
            (true, true) => text.to_uppercase(),
            (true, false) => capitalize_words(&text, true),
            (false, true) => capitalize_words(&text, false),
        };
        self.out.push_str(&converted);
        Ok(())
    }
}

fn pad_text(text: &str, mincol: usize, pad: char, left: bool) -> String {
    let len = text.chars().count();
    if len >= mincol {
        return text.to_string();
    }
    let padding: String = std::iter::repeat_n(pad, mincol - len).collect();
    if left {
        format!("{padding}{text}")
    } else {
        format!("{text}{padding}")
    }
}

fn group(digits: &str, comma: char, interval: usize) -> String {
    let chars: Vec<char> = digits.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if i > 0 && (chars.len() - i).is_multiple_of(interval) {
            out.push(comma);
        }
        out.push(*c);
    }
    out
}

fn capitalize_words(text: &str, every: bool) -> String {
    let mut out = String::new();
    let mut at_word_start = true;
    let mut first_done = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if at_word_start && (every || !first_done) {
                out.extend(c.to_uppercase());
                first_done = true;
            } else {
                out.extend(c.to_lowercase());
            }
            at_word_start = false;
        } else {
            out.push(c);
            at_word_start = true;
        }
    }
    out
}
