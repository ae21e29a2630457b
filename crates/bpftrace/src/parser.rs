//! The bpftrace parser: text to [`Script`], every error a [`Diagnostic`] at its span. Recursive
//! descent straight over the characters, because attach points (`uprobe:/bin/bash:readline`,
//! `tracepoint:syscalls:sys_enter_open*`) lex differently from action code. After an error the
//! parser skips to the next statement or probe, so one run reports every mistake it can.

use crate::ast::*;
use whistler_syntax::{Diagnostic, SourceFile, Span};

/// Parses a script; the diagnostics are empty when it parsed.
pub fn parse(file: &SourceFile) -> (Script, Vec<Diagnostic>) {
    let mut p = Parser {
        text: &file.text,
        pos: 0,
        diags: Vec::new(),
    };
    let script = p.script();
    (script, p.diags)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    diags: Vec<Diagnostic>,
}

/// A parse error already recorded; the caller resynchronizes.
struct Failed;

type Parsed<T> = Result<T, Failed>;

/// Binary operators by precedence level, lowest first.
const LEVELS: &[&[(&str, BinOp)]] = &[
    &[("||", BinOp::Or)],
    &[("&&", BinOp::And)],
    &[("|", BinOp::BitOr)],
    &[("^", BinOp::BitXor)],
    &[("&", BinOp::BitAnd)],
    &[("==", BinOp::Eq), ("!=", BinOp::Ne)],
    &[
        ("<=", BinOp::Le),
        (">=", BinOp::Ge),
        ("<", BinOp::Lt),
        (">", BinOp::Gt),
    ],
    &[("<<", BinOp::Shl), (">>", BinOp::Shr)],
    &[("+", BinOp::Add), ("-", BinOp::Sub)],
    &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
];

/// Compound assignment operators and the binary operator each stands for.
const COMPOUND: &[(&str, BinOp)] = &[
    ("<<=", BinOp::Shl),
    (">>=", BinOp::Shr),
    ("+=", BinOp::Add),
    ("-=", BinOp::Sub),
    ("*=", BinOp::Mul),
    ("/=", BinOp::Div),
    ("%=", BinOp::Mod),
    ("&=", BinOp::BitAnd),
    ("|=", BinOp::BitOr),
    ("^=", BinOp::BitXor),
];

impl Parser<'_> {
    fn script(&mut self) -> Script {
        let mut script = Script::default();
        loop {
            self.skip_trivia();
            if self.at_end() {
                return script;
            }
            let result = if self.at_keyword("config") {
                self.config(&mut script)
            } else if self.at_keyword("macro") {
                self.macro_def().map(|m| script.macros.push(m))
            } else if self.at_keyword("fn") {
                self.function_def().map(|f| script.functions.push(f))
            } else if self.at_struct_definition() {
                self.struct_definition().map(|d| script.structs.push(d))
            } else {
                self.probe().map(|p| script.probes.push(p))
            };
            if result.is_err() {
                self.skip_past_block();
            }
        }
    }

    // ---- top level ----

    fn config(&mut self, script: &mut Script) -> Parsed<()> {
        self.keyword("config")?;
        self.expect("=")?;
        self.expect("{")?;
        while !self.eat("}") {
            let (name, _) = self.ident()?;
            self.expect("=")?;
            let value = self.expr()?;
            script.config.push((name, value));
            if !self.eat(";") {
                self.expect("}")?;
                break;
            }
        }
        Ok(())
    }

    /// `struct NAME {` (or `union`) at the top level: a C type declaration.
    fn at_struct_definition(&self) -> bool {
        let rest = &self.text[self.pos..];
        let Some(rest) = rest
            .strip_prefix("struct ")
            .or_else(|| rest.strip_prefix("union "))
        else {
            return false;
        };
        let rest = rest.trim_start();
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        name_end > 0 && rest[name_end..].trim_start().starts_with('{')
    }

    /// A C struct declaration and its `;`, kept as text: field access reads kernel types from
    /// BTF, which describes the running kernel (the declarations in bpftrace's tools stand in
    /// for missing headers); `offsetof` lays declared structs out.
    fn struct_definition(&mut self) -> Parsed<StructDecl> {
        let start = self.pos;
        let union = self.at_keyword("union");
        self.keyword(if union { "union" } else { "struct" })?;
        let (name, _) = self.ident()?;
        self.expect("{")?;
        let body_start = self.pos;
        self.pos -= 1;
        self.skip_past_block();
        let members = self.text[body_start..self.pos.saturating_sub(1).max(body_start)].to_string();
        let span = Span::new(start, self.pos);
        self.eat(";");
        Ok(StructDecl {
            name,
            union,
            members,
            span,
        })
    }

    fn macro_def(&mut self) -> Parsed<Macro> {
        let start = self.pos;
        self.keyword("macro")?;
        let (name, _) = self.ident()?;
        self.expect("(")?;
        let mut params = Vec::new();
        while !self.eat(")") {
            self.skip_trivia();
            let dollar = self.eat_char('$');
            let (param, _) = self.ident()?;
            params.push(if dollar { format!("${param}") } else { param });
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        let body = self.block()?;
        Ok(Macro {
            name,
            params,
            body,
            span: Span::new(start, self.pos),
        })
    }

    fn function_def(&mut self) -> Parsed<Function> {
        let start = self.pos;
        self.keyword("fn")?;
        let (name, _) = self.ident()?;
        self.expect("(")?;
        let mut params = Vec::new();
        while !self.eat(")") {
            self.expect("$")?;
            let (param, _) = self.ident()?;
            self.expect(":")?;
            let ty = self.int_type_name()?;
            params.push((param, ty));
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        self.expect(":")?;
        self.skip_trivia();
        let ret = match self.at_keyword("void") {
            true => self.keyword("void").map(|()| "void".to_string())?,
            false => self.int_type_name()?,
        };
        let body = self.block()?;
        Ok(Function {
            name,
            params,
            ret,
            body,
            span: Span::new(start, self.pos),
        })
    }

    /// An integer type's name (`int64`, `uint32`...), for function signatures.
    fn int_type_name(&mut self) -> Parsed<String> {
        let (name, span) = self.ident()?;
        match crate::types::is_int_type_name(&name) {
            true => Ok(name),
            false => self.fail(
                span,
                format!(
                    "`{name}`: function parameters and results are integers (int64, uint32...)"
                ),
            ),
        }
    }

    fn probe(&mut self) -> Parsed<Probe> {
        self.skip_trivia();
        let start = self.pos;
        let mut attach_points = vec![self.attach_point()?];
        while self.eat(",") {
            attach_points.push(self.attach_point()?);
        }
        self.skip_trivia();
        let predicate = if self.eat_char('/') {
            let e = self.expr()?;
            self.expect("/")?;
            Some(e)
        } else {
            None
        };
        let body = self.block()?;
        Ok(Probe {
            attach_points,
            predicate,
            body,
            span: Span::new(start, self.pos),
        })
    }

    /// An attach point's raw text: everything up to white space, `,` or `{` (a `/` begins
    /// a predicate only after white space, so `uprobe:/bin/sh:main` keeps its path).
    fn attach_point(&mut self) -> Parsed<(String, Span)> {
        self.skip_trivia();
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' || c == '{' {
                break;
            }
            self.pos += c.len_utf8();
        }
        if self.pos == start {
            return self.fail_here("expected a probe (e.g. tracepoint:syscalls:sys_enter_openat)");
        }
        Ok((
            self.text[start..self.pos].to_string(),
            Span::new(start, self.pos),
        ))
    }

    // ---- statements ----

    fn block(&mut self) -> Parsed<Vec<Stmt>> {
        self.expect("{")?;
        let mut stmts = Vec::new();
        loop {
            self.skip_trivia();
            if self.eat("}") {
                return Ok(stmts);
            }
            if self.at_end() {
                return self.fail_here("expected `}` to close the block");
            }
            if self.eat(";") {
                continue;
            }
            match self.stmt() {
                Ok(s) => {
                    let needs_semicolon = !matches!(
                        s.kind,
                        StmtKind::If(..)
                            | StmtKind::Unroll(..)
                            | StmtKind::While(..)
                            | StmtKind::ForRange(..)
                            | StmtKind::ForMap(..)
                    );
                    stmts.push(s);
                    self.skip_trivia();
                    if needs_semicolon && !self.eat(";") && !self.looking_at("}") {
                        let _ = self.fail_here::<()>("expected `;` or `}` after the statement");
                        self.skip_statement();
                    }
                }
                Err(Failed) => self.skip_statement(),
            }
        }
    }

    fn stmt(&mut self) -> Parsed<Stmt> {
        self.skip_trivia();
        let start = self.pos;
        let kind = if self.at_keyword("if") {
            self.if_stmt()?
        } else if self.at_keyword("unroll") {
            self.keyword("unroll")?;
            self.expect("(")?;
            let count = self.int_literal()?;
            self.expect(")")?;
            StmtKind::Unroll(count as u64, self.block()?)
        } else if self.at_keyword("while") {
            self.keyword("while")?;
            self.expect("(")?;
            let cond = self.expr()?;
            self.expect(")")?;
            StmtKind::While(cond, self.block()?)
        } else if self.at_keyword("for") {
            self.for_stmt()?
        } else if self.at_keyword("break") {
            self.keyword("break")?;
            StmtKind::Break
        } else if self.at_keyword("continue") {
            self.keyword("continue")?;
            StmtKind::Continue
        } else if self.at_keyword("return") {
            self.keyword("return")?;
            self.skip_trivia();
            match self.looking_at(";") || self.looking_at("}") {
                true => StmtKind::Return(None),
                false => StmtKind::Return(Some(self.expr()?)),
            }
        } else {
            self.simple_stmt()?
        };
        Ok(Stmt {
            kind,
            span: Span::new(start, self.pos),
        })
    }

    fn if_stmt(&mut self) -> Parsed<StmtKind> {
        self.keyword("if")?;
        self.expect("(")?;
        let cond = self.expr()?;
        self.expect(")")?;
        let then = self.block()?;
        self.skip_trivia();
        let otherwise = if self.at_keyword("else") {
            self.keyword("else")?;
            self.skip_trivia();
            if self.at_keyword("if") {
                vec![self.stmt()?]
            } else {
                self.block()?
            }
        } else {
            Vec::new()
        };
        Ok(StmtKind::If(cond, then, otherwise))
    }

    fn for_stmt(&mut self) -> Parsed<StmtKind> {
        self.keyword("for")?;
        self.expect("(")?;
        self.expect("$")?;
        let (var, _) = self.ident()?;
        self.expect(":")?;
        let from = self.expr()?;
        self.skip_trivia();
        if let (ExprKind::Map(map, keys), true) = (&from.kind, self.looking_at(")")) {
            if !keys.is_empty() {
                return self.fail(
                    from.span,
                    "`for` walks a whole map: write @name, no keys".into(),
                );
            }
            self.expect(")")?;
            return Ok(StmtKind::ForMap(var, map.clone(), from.span, self.block()?));
        }
        self.expect("..")?;
        let to = self.expr()?;
        self.expect(")")?;
        Ok(StmtKind::ForRange(var, from, to, self.block()?))
    }

    /// An expression statement or an assignment (`=`, compound, `++`, `--`).
    fn simple_stmt(&mut self) -> Parsed<StmtKind> {
        let target = self.expr()?;
        self.skip_trivia();
        for (op, bin) in COMPOUND {
            if self.eat(op) {
                let value = self.expr()?;
                let span = target.span.to(value.span);
                let combined = binary(*bin, target.clone(), value, span);
                return Ok(StmtKind::Assign(target, combined));
            }
        }
        for (op, bin) in [("++", BinOp::Add), ("--", BinOp::Sub)] {
            if self.eat(op) {
                let one = Expr {
                    kind: ExprKind::Int(1),
                    span: target.span,
                };
                let combined = binary(bin, target.clone(), one, target.span);
                return Ok(StmtKind::Assign(target, combined));
            }
        }
        if self.looking_at("=") && !self.looking_at("==") {
            self.expect("=")?;
            let value = self.expr()?;
            return Ok(StmtKind::Assign(target, value));
        }
        Ok(StmtKind::Expr(target))
    }

    // ---- expressions ----

    fn expr(&mut self) -> Parsed<Expr> {
        let cond = self.binary_level(0)?;
        self.skip_trivia();
        if !self.eat("?") {
            return Ok(cond);
        }
        let then = self.expr()?;
        self.expect(":")?;
        let otherwise = self.expr()?;
        let span = cond.span.to(otherwise.span);
        Ok(Expr {
            kind: ExprKind::Ternary(Box::new(cond), Box::new(then), Box::new(otherwise)),
            span,
        })
    }

    fn binary_level(&mut self, level: usize) -> Parsed<Expr> {
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut left = self.binary_level(level + 1)?;
        'outer: loop {
            self.skip_trivia();
            for (text, op) in ops.iter() {
                if self.at_operator(text) {
                    self.pos += text.len();
                    let right = self.binary_level(level + 1)?;
                    let span = left.span.to(right.span);
                    left = binary(*op, left, right, span);
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    /// True when the operator `text` is next and is not the start of a longer one (`|` of
    /// `||`, `<` of `<<` or `<=`, `&` of `&=`).
    fn at_operator(&self, text: &str) -> bool {
        if !self.looking_at(text) {
            return false;
        }
        let rest = &self.text[self.pos + text.len()..];
        let longer = [
            "||", "&&", "<<", ">>", "<=", ">=", "==", "!=", "++", "--", "->",
        ]
        .iter()
        .any(|l| l.len() > text.len() && self.looking_at(l));
        let assignment = rest.starts_with('=') && !matches!(text, "<=" | ">=" | "==" | "!=");
        // `/` closing a predicate is followed by `{`.
        let closes_predicate = text == "/" && rest.trim_start().starts_with('{');
        !longer && !assignment && !closes_predicate
    }

    fn unary(&mut self) -> Parsed<Expr> {
        self.skip_trivia();
        let start = self.pos;
        let op = match self.peek() {
            Some('!') if !self.looking_at("!=") => Some(UnOp::Not),
            Some('~') => Some(UnOp::BitNot),
            Some('-') if !self.looking_at("--") => Some(UnOp::Neg),
            Some('*') => Some(UnOp::Deref),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let operand = self.unary()?;
            let span = Span::new(start, operand.span.end as usize);
            return Ok(Expr {
                kind: ExprKind::Unary(op, Box::new(operand)),
                span,
            });
        }
        if self.looking_at("(") {
            if let Some(cast) = self.cast()? {
                return Ok(cast);
            }
        }
        self.postfix()
    }

    /// `(TYPE)expr` for the integer type names and struct pointers (`(struct sock *)arg0`);
    /// `None` (nothing consumed) otherwise.
    fn cast(&mut self) -> Parsed<Option<Expr>> {
        let start = self.pos;
        let inner = self.text[start + 1..].trim_start();
        let Some(close) = inner.find(')') else {
            return Ok(None);
        };
        let name = inner[..close].trim();
        if !crate::types::is_int_type_name(name) && struct_pointer_name(name).is_none() {
            return Ok(None);
        }
        self.pos = self.text.len() - inner.len() + close + 1;
        let operand = self.unary()?;
        let span = Span::new(start, operand.span.end as usize);
        Ok(Some(Expr {
            kind: ExprKind::Cast(name.to_string(), Box::new(operand)),
            span,
        }))
    }

    fn postfix(&mut self) -> Parsed<Expr> {
        let mut e = self.primary()?;
        loop {
            self.skip_trivia();
            if self.eat("->") || (self.looking_at(".") && !self.looking_at("..") && self.eat(".")) {
                let (field, span) = self.field_name()?;
                let span = e.span.to(span);
                e = Expr {
                    kind: ExprKind::Field(Box::new(e), field),
                    span,
                };
            } else if self.looking_at("[") && !matches!(e.kind, ExprKind::Map(..)) {
                self.expect("[")?;
                let index = self.expr()?;
                self.expect("]")?;
                let span = Span::new(e.span.start as usize, self.pos);
                e = Expr {
                    kind: ExprKind::Index(Box::new(e), Box::new(index)),
                    span,
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Parsed<Expr> {
        self.skip_trivia();
        let start = self.pos;
        let kind = match self.peek() {
            Some(c) if c.is_ascii_digit() => ExprKind::Int(self.int_literal()?),
            Some('"') => ExprKind::Str(self.string_literal()?),
            Some('$') => self.dollar()?,
            Some('@') => self.map_ref()?,
            Some('(') => self.paren()?,
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.named()?,
            _ => return self.fail_here("expected an expression"),
        };
        Ok(Expr {
            kind,
            span: Span::new(start, self.pos),
        })
    }

    fn dollar(&mut self) -> Parsed<ExprKind> {
        self.pos += 1;
        if self.eat_char('#') {
            return Ok(ExprKind::PositionalCount);
        }
        if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            let n = self.int_literal()?;
            return Ok(ExprKind::Positional(n as u32));
        }
        let (name, _) = self.ident()?;
        Ok(ExprKind::Var(name))
    }

    fn map_ref(&mut self) -> Parsed<ExprKind> {
        self.pos += 1;
        let name_start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        let name = format!("@{}", &self.text[name_start..self.pos]);
        let mut keys = Vec::new();
        if self.peek() == Some('[') {
            self.pos += 1;
            loop {
                keys.push(self.expr()?);
                if !self.eat(",") {
                    break;
                }
            }
            self.expect("]")?;
        }
        Ok(ExprKind::Map(name, keys))
    }

    fn paren(&mut self) -> Parsed<ExprKind> {
        self.expect("(")?;
        let first = self.expr()?;
        if self.eat(")") {
            return Ok(first.kind);
        }
        let mut items = vec![first];
        while self.eat(",") {
            items.push(self.expr()?);
        }
        self.expect(")")?;
        Ok(ExprKind::Tuple(items))
    }

    /// A builtin, a call, or `sizeof(TYPE)`.
    fn named(&mut self) -> Parsed<ExprKind> {
        let (name, _) = self.ident()?;
        self.skip_trivia();
        if !self.looking_at("(") {
            return Ok(ExprKind::Builtin(name));
        }
        self.expect("(")?;
        if name == "offsetof" {
            return self.offsetof();
        }
        if name == "sizeof" {
            let inner_start = self.pos;
            let inner = self.text[self.pos..].split(')').next().unwrap_or("").trim();
            if crate::types::is_int_type_name(inner) {
                self.pos = inner_start + self.text[inner_start..].find(')').unwrap_or(0);
                self.expect(")")?;
                return Ok(ExprKind::SizeofType(inner.to_string()));
            }
        }
        let mut args = Vec::new();
        if !self.eat(")") {
            loop {
                args.push(self.expr()?);
                if !self.eat(",") {
                    break;
                }
            }
            self.expect(")")?;
        }
        Ok(ExprKind::Call(name, args))
    }

    /// `offsetof(struct NAME, field.subfield)` after its `(` (`struct` is optional).
    fn offsetof(&mut self) -> Parsed<ExprKind> {
        self.skip_trivia();
        if self.at_keyword("struct") {
            self.keyword("struct")?;
        } else if self.at_keyword("union") {
            self.keyword("union")?;
        }
        let (name, _) = self.ident()?;
        self.expect(",")?;
        let mut path = vec![self.ident()?.0];
        while self.eat(".") {
            path.push(self.ident()?.0);
        }
        self.expect(")")?;
        Ok(ExprKind::Offsetof(name, path))
    }

    // ---- tokens ----

    fn int_literal(&mut self) -> Parsed<i64> {
        self.skip_trivia();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        let raw: String = self.text[start..self.pos]
            .chars()
            .filter(|&c| c != '_')
            .collect();
        let parsed = if let Some(hex) = raw.strip_prefix("0x").or(raw.strip_prefix("0X")) {
            u64::from_str_radix(hex, 16).ok()
        } else {
            parse_with_suffix(&raw)
        };
        match parsed {
            Some(v) => Ok(v as i64),
            None => self.fail(
                Span::new(start, self.pos),
                format!("`{raw}` is not an integer"),
            ),
        }
    }

    fn string_literal(&mut self) -> Parsed<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return self.fail(Span::new(start, self.pos), "unterminated string".into());
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.peek() else { continue };
                    self.pos += e.len_utf8();
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        other => other,
                    });
                }
                c => out.push(c),
            }
        }
    }

    /// A struct field's name, or a tuple element's number (`$kv.0`).
    fn field_name(&mut self) -> Parsed<(String, Span)> {
        self.skip_trivia();
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return self.ident();
        }
        Ok((
            self.text[start..self.pos].to_string(),
            Span::new(start, self.pos),
        ))
    }

    fn ident(&mut self) -> Parsed<(String, Span)> {
        self.skip_trivia();
        let start = self.pos;
        if self
            .peek()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        {
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.pos += 1;
            }
        }
        if self.pos == start {
            return self.fail_here("expected a name");
        }
        Ok((
            self.text[start..self.pos].to_string(),
            Span::new(start, self.pos),
        ))
    }

    fn at_keyword(&self, word: &str) -> bool {
        let rest = &self.text[self.pos..];
        rest.starts_with(word)
            && !rest[word.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    fn keyword(&mut self, word: &str) -> Parsed<()> {
        self.skip_trivia();
        if self.at_keyword(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.fail_here(&format!("expected `{word}`"))
        }
    }

    fn looking_at(&self, text: &str) -> bool {
        self.text[self.pos..].starts_with(text)
    }

    fn eat(&mut self, text: &str) -> bool {
        self.skip_trivia();
        if self.looking_at(text) {
            self.pos += text.len();
            true
        } else {
            false
        }
    }

    fn eat_char(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, text: &str) -> Parsed<()> {
        if self.eat(text) {
            Ok(())
        } else {
            self.fail_here(&format!("expected `{text}`"))
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// White space, `//` and `/* */` comments, and a `#!` first line.
    fn skip_trivia(&mut self) {
        loop {
            let rest = &self.text[self.pos..];
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            let rest = &self.text[self.pos..];
            if rest.starts_with("//") || (self.pos == 0 && rest.starts_with("#!")) {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                self.pos += rest.find("*/").map_or(rest.len(), |i| i + 2);
            } else if rest.starts_with("#ifndef BPFTRACE_HAVE_BTF") {
                // What a kernel without BTF needs (headers, struct declarations): we have BTF.
                self.skip_conditional_block();
            } else if rest.starts_with('#') {
                // Other C preprocessor lines (#include...) declare kernel types; types come
                // from BTF here.
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else {
                return;
            }
        }
    }

    /// Past the `#endif` (or to `#else`) that closes the `#if...` line at `pos`, nested ones
    /// included.
    fn skip_conditional_block(&mut self) {
        let mut depth = 0;
        while !self.at_end() {
            let rest = &self.text[self.pos..];
            let line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
            let line = rest[..line_end].trim();
            self.pos += line_end;
            if line.starts_with("#if") {
                depth += 1;
            } else if line.starts_with("#else") && depth == 1 {
                // The `#else` part is for kernels with BTF; its `#endif` is skipped as a line.
                return;
            } else if line.starts_with("#endif") {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
        }
    }

    fn skip_statement(&mut self) {
        while let Some(c) = self.peek() {
            if c == '}' {
                return;
            }
            self.pos += c.len_utf8();
            if c == ';' {
                return;
            }
        }
    }

    /// After a broken probe: past the next `}` that closes a block at depth 0.
    fn skip_past_block(&mut self) {
        let mut depth = 0i32;
        while let Some(c) = self.peek() {
            self.pos += c.len_utf8();
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth <= 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    fn fail_here<T>(&mut self, message: &str) -> Parsed<T> {
        let end = self.pos + self.peek().map_or(0, char::len_utf8);
        let found = match self.peek() {
            Some(c) => format!("{message}, found `{c}`"),
            None => format!("{message}, found the end of the script"),
        };
        self.fail(Span::new(self.pos, end), found)
    }

    fn fail<T>(&mut self, span: Span, message: String) -> Parsed<T> {
        self.diags.push(Diagnostic::error(span, message));
        Err(Failed)
    }
}

/// The struct of a cast to a struct pointer: `struct sock *` (or `union`) gives `sock`.
pub fn struct_pointer_name(cast: &str) -> Option<&str> {
    let pointee = cast.strip_suffix('*')?.trim_end();
    let name = pointee
        .strip_prefix("struct ")
        .or_else(|| pointee.strip_prefix("union "))?
        .trim();
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(name)
}

fn binary(op: BinOp, left: Expr, right: Expr, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
        span,
    }
}

/// Decimal with an exponent (`1e6`), an optional size suffix (`4K`, `1M`) or time suffix (`5ms`, `1s`: nanoseconds).
fn parse_with_suffix(raw: &str) -> Option<u64> {
    if let Some((mantissa, exponent)) = raw.split_once('e') {
        let power = 10u64.checked_pow(exponent.parse().ok()?)?;
        return mantissa.parse::<u64>().ok()?.checked_mul(power);
    }
    let digits = raw.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits.parse().ok()?;
    let scale = match &raw[digits.len()..] {
        "" => 1,
        "K" | "k" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Script {
        let file = SourceFile::new("t.bt", text);
        let (script, diags) = parse(&file);
        assert!(diags.is_empty(), "{diags:?}");
        script
    }

    #[test]
    fn probes_predicates_and_statements() {
        let s = parse_ok(
            "#!/usr/bin/bpftrace\n// c\ntracepoint:syscalls:sys_enter_openat, t:a:b /pid == 1 && comm != \"x\"/ { @[comm, pid] = count(); $x += 2; @n++; if ($x > 1) { exit(); } else { printf(\"%d\\n\", $x); } }\nEND { clear(@); }",
        );
        assert_eq!(s.probes.len(), 2);
        let p = &s.probes[0];
        assert_eq!(p.attach_points[0].0, "tracepoint:syscalls:sys_enter_openat");
        assert_eq!(p.attach_points[1].0, "t:a:b");
        assert!(p.predicate.is_some());
        assert_eq!(p.body.len(), 4);
        assert!(matches!(p.body[1].kind, StmtKind::Assign(..)));
        assert!(matches!(p.body[3].kind, StmtKind::If(..)));
    }

    #[test]
    fn precedence_casts_ternaries_fields() {
        let s = parse_ok("BEGIN { $a = 1 + 2 * 3 << 1; $b = (uint8)$a ? args->x.y : args.z[2]; }");
        let StmtKind::Assign(_, e) = &s.probes[0].body[0].kind else {
            panic!()
        };
        let ExprKind::Binary(BinOp::Shl, left, _) = &e.kind else {
            panic!("{e:?}")
        };
        assert!(matches!(left.kind, ExprKind::Binary(BinOp::Add, ..)));
        let StmtKind::Assign(_, e) = &s.probes[0].body[1].kind else {
            panic!()
        };
        assert!(matches!(e.kind, ExprKind::Ternary(..)));
    }

    #[test]
    fn uprobe_paths_and_division_in_predicates() {
        let s = parse_ok("uprobe:/bin/bash:readline /pid / 2 == 1/ { }");
        assert_eq!(s.probes[0].attach_points[0].0, "uprobe:/bin/bash:readline");
        assert!(s.probes[0].predicate.is_some());
    }

    #[test]
    fn every_error_is_reported_with_its_place() {
        let file = SourceFile::new("t.bt", "BEGIN { $x = ; printf(\"a\") }\nEND { @ = 1 +; }");
        let (_, diags) = parse(&file);
        assert_eq!(diags.len(), 2, "{diags:?}");
        let rendered = whistler_syntax::render(&file, &diags[0]);
        assert!(rendered.contains("t.bt:1:14"), "{rendered}");
    }
}
