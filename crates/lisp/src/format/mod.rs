//! `format` control strings, CLHS 22.3: ~c ~% ~& ~| ~~ (basic output), ~r ~d ~b ~o ~x (radix;
//! `~r` alone in English or Roman numerals, `words.rs`), ~f ~e ~g ~$ (floating point,
//! `floats.rs`), ~a ~s ~w (printer), ~t ~< ~> (layout: tabs and justification), ~* ~[ ~; ~]
//! ~{ ~} ~? ~^ (control flow), ~( ~) ~p (case and plurals), ~newline, with their parameters
//! (`v`, `#`, `'c`) and `:`/`@` modifiers. The pretty printer's directives (~_ ~i ~/ and
//! ~<...~:>) are not supported (see `excluded.txt`).

mod floats;
mod words;

use crate::error::{fail, Flow};
use crate::interp::Interp;
use crate::number::{self, Num};
use crate::printer::princ;
use crate::value::Value;
use floats::FloatParams;
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
    /// Clauses of `~[` and `~<`, the body of `~{` and `~(`.
    clauses: Vec<Vec<Item>>,
    /// `~:;` made the last clause of `~[` the default.
    last_is_default: bool,
    /// The directive closing `~{` was `~:}`: the body runs at least once.
    closed_with_colon: bool,
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
                closed_with_colon: false,
            };
            match op {
                '{' => {
                    let (body, colon) = self.body('}')?;
                    d.clauses.push(body);
                    d.closed_with_colon = colon;
                }
                '(' => d.clauses.push(self.body(')')?.0),
                '[' => {
                    self.clauses(&mut d, ']')?;
                }
                '<' if self.clauses(&mut d, '>')? => {
                    return self
                        .error("~<...~:> (the pretty printer's logical blocks) is not supported");
                }
                '}' | ')' | ']' | ';' | '>' => return self.error(&format!("unexpected ~{op}")),
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

    /// The items up to `close`, and whether it had a colon.
    fn body(&mut self, close: char) -> Result<(Vec<Item>, bool), Flow> {
        let (items, end) = self.sequence(&[close])?;
        if end.op != Some(close) {
            return self.error(&format!("missing ~{close}"));
        }
        Ok((items, end.colon))
    }

    /// Clauses separated by `~;` up to `close`; returns whether `close` had a colon.
    fn clauses(&mut self, d: &mut Directive, close: char) -> Result<bool, Flow> {
        loop {
            let (items, end) = self.sequence(&[';', close])?;
            d.clauses.push(items);
            match end.op {
                Some(';') => d.last_is_default |= end.colon,
                Some(_) => return Ok(end.colon),
                None => return self.error(&format!("missing ~{close}")),
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

/// Whether `~^` asked to stop (`~:^`: the whole `~:{` iteration).
enum Outcome {
    Done,
    Escape,
    EscapeAll,
}

struct Run<'i> {
    interp: &'i mut Interp,
    out: String,
    /// Whether output before `out` ended a line (for `~&` at the very start).
    line_start: bool,
    span: Span,
    /// Inside `~:{`: how many sublists follow the current one (for `~:^`).
    sublists_left: Option<usize>,
}

/// The directives and text of a control string.
fn parse(control: &str, span: Span) -> Result<Vec<Item>, Flow> {
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
    Ok(items)
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
    let items = parse(control, span)?;
    let mut run = Run {
        interp,
        out: String::new(),
        line_start,
        span,
        sublists_left: None,
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
                Item::Directive(d) => match self.directive(d, args)? {
                    Outcome::Done => {}
                    escape => return Ok(escape),
                },
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
            'a' | 's' | 'w' => self.printed(d, args)?,
            'd' | 'b' | 'o' | 'x' => {
                let radix = match d.op {
                    'd' => 10,
                    'b' => 2,
                    'o' => 8,
                    _ => 16,
                };
                self.integer(d, args, radix, 0)?;
            }
            'r' => self.radix(d, args)?,
            'f' | 'e' | 'g' | '$' => self.float(d, args)?,
            'c' => {
                let v = args.next(self.span)?;
                let text = match (&v, d.colon, d.at) {
                    (Value::Char(c, _), true, _) => char_name(*c),
                    (_, false, true) => crate::printer::prin1(&v),
                    _ => princ(&v),
                };
                self.out.push_str(&text);
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
            't' => self.tabulate(d, args)?,
            '*' => self.skip(d, args)?,
            '^' => return self.escape(d, args),
            '{' => self.iterate(d, args)?,
            '[' => return self.conditional(d, args),
            '(' => self.case_conversion(d, args)?,
            '<' => self.justify(d, args)?,
            '?' => {
                let control = princ(&args.next(self.span)?);
                if d.at {
                    let items = parse(&control, self.span)?;
                    if let Outcome::EscapeAll = self.items(&items, args)? {
                        return Ok(Outcome::EscapeAll);
                    }
                } else {
                    let sub_args: Vec<Value> = args.next(self.span)?.iter().collect();
                    let text = format(self.interp, &control, &sub_args, self.span)?;
                    self.out.push_str(&text);
                }
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

    /// `~mincol,colinc,minpad,padcharA` (and `~S`, `~W`): printed under the printer variables,
    /// padded on the right (`@`: on the left) with `minpad` characters and then `colinc` at a
    /// time until `mincol` columns are filled.
    fn printed(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        let mincol = self.param(d, 0, args)?.unwrap_or(0).max(0) as usize;
        let colinc = self.param(d, 1, args)?.unwrap_or(1).max(1) as usize;
        let minpad = self.param(d, 2, args)?.unwrap_or(0).max(0) as usize;
        let pad = self.char_param(d, 3, args, ' ')?;
        let v = args.next(self.span)?;
        let text = match (&v, d.colon) {
            (Value::Nil, true) if d.op != 'w' => "()".to_string(),
            _ => crate::builtins::print_styled(self.interp, &v, d.op != 'a'),
        };
        let len = text.chars().count();
        let mut padding = minpad;
        while len + padding < mincol {
            padding += colinc;
        }
        let fill: String = std::iter::repeat_n(pad, padding).collect();
        if d.at {
            self.out.push_str(&fill);
            self.out.push_str(&text);
        } else {
            self.out.push_str(&text);
            self.out.push_str(&fill);
        }
        Ok(())
    }

    /// `~R`: with a radix parameter, `~radix,mincol,padchar,commachar,intervalR`; without, the
    /// integer in English (`~:R` ordinal) or Roman numerals (`~@R`, `~:@R` old style).
    fn radix(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        if !d.params.is_empty() {
            let radix = self.param(d, 0, args)?.unwrap_or(10).clamp(2, 36) as u32;
            return self.integer(d, args, radix, 1);
        }
        let v = args.next(self.span)?;
        let n = match &v {
            Value::Int(..) | Value::Big(_) => number::num(&v, self.span)?.big(),
            other => {
                self.out.push_str(&princ(other));
                return Ok(());
            }
        };
        let text = match (d.colon, d.at) {
            (false, false) => words::cardinal(&n),
            (true, false) => words::ordinal(&n),
            (false, true) => words::roman(&n, false),
            (true, true) => words::roman(&n, true),
        };
        match text {
            Some(text) => {
                self.out.push_str(&text);
                Ok(())
            }
            None => fail(
                "format-error",
                format!("format: ~R cannot spell {n} in words or Roman numerals"),
                self.span,
            ),
        }
    }

    /// `~F`, `~E`, `~G` and `~$`; a rational prints as a float, a non-number as `~wD` would.
    fn float(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        let count = |v: Option<i64>| v.map(|n| n.max(0) as usize);
        let text = if d.op == '$' {
            let digits = count(self.param(d, 0, args)?).unwrap_or(2);
            let int_digits = count(self.param(d, 1, args)?).unwrap_or(1);
            let width = count(self.param(d, 2, args)?).unwrap_or(0);
            let pad = self.char_param(d, 3, args, ' ')?;
            let v = args.next(self.span)?;
            match number::real(&v) {
                Some(x) if x.is_finite() => {
                    floats::monetary(x, digits, int_digits, width, pad, d.at, d.colon)
                }
                _ => pad_text(&princ(&v), width, ' ', true),
            }
        } else {
            let mut p = FloatParams {
                width: count(self.param(d, 0, args)?),
                digits: count(self.param(d, 1, args)?),
                pad: ' ',
                plus_sign: d.at,
                ..FloatParams::default()
            };
            let (scale, overflow, pad) = if d.op == 'f' {
                (2, 3, 4)
            } else {
                p.exponent_digits = count(self.param(d, 2, args)?);
                (3, 4, 5)
            };
            p.scale = self.param(d, scale, args)?;
            p.overflow = match d.params.get(overflow) {
                Some(Param::Absent) | None => None,
                _ => Some(self.char_param(d, overflow, args, ' ')?),
            };
            p.pad = self.char_param(d, pad, args, ' ')?;
            let v = args.next(self.span)?;
            match number::real(&v) {
                Some(x) if x.is_finite() => match d.op {
                    'f' => floats::fixed(x, &p),
                    'e' => floats::exponential(x, &p),
                    _ => floats::general(x, &p),
                },
                _ => pad_text(&princ(&v), p.width.unwrap_or(0), ' ', true),
            }
        };
        self.out.push_str(&text);
        Ok(())
    }

    /// `~colnum,colincT` moves to column `colnum` (or past it by a multiple of `colinc`);
    /// `~colrel,colinc@T` moves right `colrel` columns, then on to a multiple of `colinc`.
    fn tabulate(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        let first = self.param(d, 0, args)?.unwrap_or(1).max(0) as usize;
        let colinc = self.param(d, 1, args)?.unwrap_or(1).max(0) as usize;
        let col = self.column();
        let spaces = if d.at {
            if colinc > 0 {
                (col + first).div_ceil(colinc) * colinc - col
            } else {
                first
            }
        } else if col < first {
            first - col
        } else if colinc > 0 {
            colinc - (col - first) % colinc
        } else {
            0
        };
        self.out.extend(std::iter::repeat_n(' ', spaces));
        Ok(())
    }

    /// `~^` with no parameters stops when no arguments remain; with one, when it is zero; with
    /// two, when they are equal; with three, when they are in order (`a <= b <= c`). `~:^`
    /// inside `~:{` stops the whole iteration when no sublists remain.
    fn escape(&mut self, d: &Directive, args: &mut Args) -> Result<Outcome, Flow> {
        let mut values = Vec::new();
        for i in 0..d.params.len().min(3) {
            if let Some(v) = self.param(d, i, args)? {
                values.push(v);
            }
        }
        let stop = match values.as_slice() {
            [] if d.colon => self.sublists_left == Some(0),
            [] => args.remaining() == 0,
            [a] => *a == 0,
            [a, b] => a == b,
            [a, b, c, ..] => a <= b && b <= c,
        };
        Ok(match (stop, d.colon) {
            (false, _) => Outcome::Done,
            (true, true) => Outcome::EscapeAll,
            (true, false) => Outcome::Escape,
        })
    }

    /// `~mincol,colinc,minpad,padchar<seg~;seg~>`: the segments spread over `mincol` columns
    /// (more, `colinc` at a time, when they do not fit), padding between them; `:` pads before
    /// the first too, `@` after the last; one segment alone is right-justified.
    fn justify(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        let mincol = self.param(d, 0, args)?.unwrap_or(0).max(0) as usize;
        let colinc = self.param(d, 1, args)?.unwrap_or(1).max(1) as usize;
        let minpad = self.param(d, 2, args)?.unwrap_or(0).max(0) as usize;
        let pad = self.char_param(d, 3, args, ' ')?;
        let mut segments = Vec::new();
        for clause in &d.clauses {
            let start = self.out.len();
            let outcome = self.items(clause, args)?;
            let text = self.out.split_off(start);
            if !matches!(outcome, Outcome::Done) {
                break;
            }
            segments.push(text);
        }
        let mut gaps = segments.len().saturating_sub(1) + usize::from(d.colon) + usize::from(d.at);
        let pad_before_first = d.colon || (gaps == 0 && !d.at);
        if gaps == 0 {
            gaps = 1;
        }
        let text_len: usize = segments.iter().map(|s| s.chars().count()).sum();
        let mut width = mincol;
        while width < text_len + minpad * gaps {
            width += colinc;
        }
        let padding = width - text_len;
        let (each, extra) = (padding / gaps, padding % gaps);
        // The extra padding goes to the last gaps.
        let gap = |i: usize| -> String {
            let n = each + usize::from(i >= gaps - extra);
            std::iter::repeat_n(pad, n).collect()
        };
        let mut out = String::new();
        let mut next_gap = 0;
        if pad_before_first {
            out.push_str(&gap(next_gap));
            next_gap += 1;
        }
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                out.push_str(&gap(next_gap));
                next_gap += 1;
            }
            out.push_str(segment);
        }
        if d.at {
            out.push_str(&gap(next_gap));
        }
        self.out.push_str(&out);
        Ok(())
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

    /// `~{body~}` over a list argument (`~@{`: the remaining arguments; `~:{`: each element a
    /// list of arguments; `~n{`: at most `n` times; `~:}`: at least once; an empty body takes
    /// the control string from the arguments).
    fn iterate(&mut self, d: &Directive, args: &mut Args) -> Result<(), Flow> {
        let max = self
            .param(d, 0, args)?
            .map_or(usize::MAX, |n| n.max(0) as usize);
        let parsed;
        let body = if d.clauses[0].is_empty() {
            let control = princ(&args.next(self.span)?);
            parsed = parse(&control, self.span)?;
            &parsed
        } else {
            &d.clauses[0]
        };
        let source: Vec<Value> = if d.at {
            let rest = args.list[args.pos.min(args.list.len())..].to_vec();
            args.pos = args.list.len();
            rest
        } else {
            args.next(self.span)?.iter().collect()
        };
        let at_least_once = d.closed_with_colon && max > 0;
        if d.colon {
            let outer = self.sublists_left;
            let mut result = Ok(());
            let count = source.len().min(max);
            let once = [Value::Nil];
            let sublists = if count == 0 && at_least_once {
                &once[..]
            } else {
                &source[..count]
            };
            for (i, sub) in sublists.iter().enumerate() {
                let sub: Vec<Value> = sub.iter().collect();
                let mut cursor = Args { list: &sub, pos: 0 };
                self.sublists_left = Some(sublists.len() - i - 1);
                if let Err(e) = self.interp.tick(self.span) {
                    result = Err(e);
                    break;
                }
                match self.items(body, &mut cursor) {
                    Ok(Outcome::EscapeAll) => break,
                    Ok(_) => {}
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            self.sublists_left = outer;
            return result;
        }
        let mut cursor = Args {
            list: &source,
            pos: 0,
        };
        let mut count = 0;
        while (cursor.remaining() > 0 || (at_least_once && count == 0)) && count < max {
            self.interp.tick(self.span)?;
            let before = cursor.pos;
            if !matches!(self.items(body, &mut cursor)?, Outcome::Done) {
                break;
            }
            count += 1;
            if cursor.pos == before && cursor.remaining() > 0 {
                break;
            }
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

/// `~:C`: a character's name when it has one that differs from itself (`Space`, `Newline`),
/// else the character.
fn char_name(c: char) -> String {
    let mut literal = String::new();
    let _ = whistler_syntax::write_char_literal(&mut literal, c);
    match literal.strip_prefix("#\\") {
        Some(name) if name.chars().count() > 1 || c == ' ' => name.to_string(),
        _ => c.to_string(),
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
