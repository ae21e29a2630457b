//! Reads the text [`super::print`] writes, so that passes can be tested from IR alone.

use super::*;
use std::collections::HashMap;
use whistler_bpf::Insn;
use whistler_syntax::Span;

/// A parse failure: the 1-based line and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses one function.
pub fn parse(text: &str) -> Result<Function, ParseError> {
    let mut p = Parser::default();
    for (n, line) in text.lines().enumerate() {
        p.line = n + 1;
        let line = line.trim();
        if !line.is_empty() && !line.starts_with(';') {
            p.line_item(line)?;
        }
    }
    p.finish()
}

#[derive(Default)]
struct Parser {
    func: Function,
    line: usize,
    values: HashMap<u32, Value>,
    blocks: HashMap<u32, Block>,
    current: Option<Block>,
}

impl Parser {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            line: self.line,
            message: message.into(),
        })
    }

    fn line_item(&mut self, line: &str) -> Result<(), ParseError> {
        if let Some(name) = line.strip_prefix("function ") {
            self.func.name = name.trim().to_string();
        } else if let Some(maps) = line.strip_prefix("maps ") {
            self.func.maps = maps.split_whitespace().map(String::from).collect();
        } else if line == "returns int" {
            self.func.returns_int = true;
        } else if line == "read-only data" {
            self.func.read_only_data = true;
        } else if let Some(fields) = line.strip_prefix("packet fields ") {
            self.func.packet_fields = match fields.split_whitespace().map(str::parse).collect() {
                Ok(fields) => fields,
                Err(_) => return self.err(format!("bad packet field offsets `{fields}`")),
            };
        } else if line.starts_with("block") && line.ends_with(':') {
            self.block_header(&line[..line.len() - 1])?;
        } else if line.starts_with("ss") && line.contains("= slot") {
            self.slot(line)?;
        } else {
            self.body_line(line)?;
        }
        Ok(())
    }

    fn slot(&mut self, line: &str) -> Result<(), ParseError> {
        let nums: Vec<u32> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        match nums[..] {
            [_, size, align] => {
                self.func.create_slot(size, align);
                Ok(())
            }
            _ => self.err("expected `ssN = slot SIZE, align ALIGN`"),
        }
    }

    fn block_header(&mut self, text: &str) -> Result<(), ParseError> {
        let (name, params) = match text.find('(') {
            Some(i) => (&text[..i], text[i + 1..].trim_end_matches(')')),
            None => (text, ""),
        };
        let b = self.block(name)?;
        self.func.layout.push(b);
        self.current = Some(b);
        for (i, p) in list(params).into_iter().enumerate() {
            let v = self.value(p)?;
            self.func.values[v.index()] = ValueDef::Param(b, i);
            self.func.blocks[b.index()].params.push(v);
        }
        Ok(())
    }

    fn block(&mut self, name: &str) -> Result<Block, ParseError> {
        let Some(n) = name.strip_prefix("block").and_then(|n| n.parse().ok()) else {
            return self.err(format!("expected a block name, found `{name}`"));
        };
        if n > MAX_ENTITY {
            return self.err(format!("block number {n} is too large"));
        }
        // Keep the printed numbering so that text round-trips exactly.
        while self.func.blocks.len() <= n as usize {
            self.func.create_block();
        }
        self.blocks.insert(n, Block(n));
        Ok(Block(n))
    }

    fn value(&mut self, name: &str) -> Result<Value, ParseError> {
        let Some(n) = name.strip_prefix('v').and_then(|n| n.parse().ok()) else {
            return self.err(format!("expected a value name, found `{name}`"));
        };
        if n > MAX_ENTITY {
            return self.err(format!("value number {n} is too large"));
        }
        while self.func.values.len() <= n as usize {
            self.func.new_value(ValueDef::None);
        }
        self.values.insert(n, Value(n));
        Ok(Value(n))
    }

    fn operand(&mut self, text: &str) -> Result<Operand, ParseError> {
        match text.parse::<i32>() {
            Ok(i) => Ok(Operand::Imm(i)),
            Err(_) => Ok(Operand::Value(self.value(text)?)),
        }
    }

    fn int<T: std::str::FromStr>(&self, text: &str) -> Result<T, ParseError> {
        let parsed = match text.strip_prefix("0x") {
            Some(h) => i64::from_str_radix(h, 16)
                .ok()
                .and_then(|v| v.to_string().parse().ok()),
            None => text.parse().ok(),
        };
        match parsed {
            Some(v) => Ok(v),
            None => self.err(format!("expected an integer, found `{text}`")),
        }
    }

    fn body_line(&mut self, line: &str) -> Result<(), ParseError> {
        let Some(block) = self.current else {
            return self.err("instruction outside a block");
        };
        let (result, rest) = match line.split_once(" = ") {
            Some((r, rest)) => (Some(self.value(r.trim())?), rest),
            None => (None, line),
        };
        let (op, args) = rest.split_once(' ').unwrap_or((rest, ""));
        if let Some(term) = self.terminator(op, args)? {
            self.func.blocks[block.index()].term = Some(term);
            return Ok(());
        }
        let kind = self.inst_kind(op, args)?;
        let inst = Inst(self.func.insts.len() as u32);
        if kind.has_result() != result.is_some() {
            return self.err(format!("`{op}` result mismatch"));
        }
        if let Some(r) = result {
            self.func.values[r.index()] = ValueDef::Inst(inst);
        }
        self.func.insts.push(InstData {
            kind,
            result,
            span: Span::default(),
        });
        self.func.blocks[block.index()].insts.push(inst);
        Ok(())
    }

    fn terminator(&mut self, op: &str, args: &str) -> Result<Option<Terminator>, ParseError> {
        Ok(Some(match op {
            "jump" => {
                let (dest, jargs) = match args.find('(') {
                    Some(i) => (&args[..i], args[i + 1..].trim_end_matches(')')),
                    None => (args, ""),
                };
                let dest = self.block(dest.trim())?;
                let args = list(jargs)
                    .into_iter()
                    .map(|a| self.value(a))
                    .collect::<Result<_, _>>()?;
                Terminator::Jump { dest, args }
            }
            "br" => {
                let (cond, rest) = args.split_once(' ').unwrap_or((args, ""));
                let Some(cond) = Cond::from_name(cond) else {
                    return self.err(format!("unknown condition `{cond}`"));
                };
                let parts = list(rest);
                if parts.len() != 4 {
                    return self.err("expected `br COND a, b, then, else`");
                }
                Terminator::Branch {
                    cond,
                    lhs: self.value(parts[0])?,
                    rhs: self.operand(parts[1])?,
                    then_dest: self.block(parts[2])?,
                    else_dest: self.block(parts[3])?,
                }
            }
            "return" => Terminator::Return(self.operand(args.trim())?),
            _ => return Ok(None),
        }))
    }

    fn inst_kind(&mut self, op: &str, args: &str) -> Result<InstKind, ParseError> {
        let parts = list(args);
        let (base, size) = match op.split_once('.') {
            Some((b, s)) => (b, self.int::<u8>(s)?),
            None => (op, 8),
        };
        if let Some(bop) = BinOp::from_name(base) {
            return Ok(InstKind::Binary {
                op: bop,
                lhs: self.value(arg(&parts, 0))?,
                rhs: self.operand(arg(&parts, 1))?,
            });
        }
        if let Some(uop) = UnOp::from_name(base) {
            return Ok(InstKind::Unary {
                op: uop,
                arg: self.value(arg(&parts, 0))?,
            });
        }
        Ok(match base {
            "iconst" => InstKind::Iconst(self.int(args.trim())?),
            "arg" => InstKind::Arg,
            "copy" => InstKind::Copy(self.value(arg(&parts, 0))?),
            "load" => InstKind::Load {
                size,
                ptr: self.value(arg(&parts, 0))?,
                offset: self.int(arg(&parts, 1))?,
            },
            "store" => InstKind::Store {
                size,
                ptr: self.value(arg(&parts, 0))?,
                offset: self.int(arg(&parts, 1))?,
                value: self.operand(arg(&parts, 2))?,
            },
            "atomic_add" => InstKind::AtomicAdd {
                size,
                ptr: self.value(arg(&parts, 0))?,
                offset: self.int(arg(&parts, 1))?,
                value: self.value(arg(&parts, 2))?,
            },
            "stack_addr" => match arg(&parts, 0)
                .strip_prefix("ss")
                .and_then(|n| n.parse().ok())
            {
                Some(n) => InstKind::StackAddr(StackSlot(n)),
                None => return self.err("expected `stack_addr ssN`"),
            },
            "map_fd" => {
                let name = args.trim();
                match self.func.maps.iter().position(|m| m == name) {
                    Some(i) => InstKind::MapFd(i as u32),
                    None => {
                        self.func.maps.push(name.to_string());
                        InstKind::MapFd(self.func.maps.len() as u32 - 1)
                    }
                }
            }
            "data_addr" => match hex_bytes(args.trim()) {
                Some(bytes) => {
                    self.func.data.push(bytes);
                    InstKind::DataAddr(self.func.data.len() as u32 - 1)
                }
                None => return self.err("expected `data_addr HEX-BYTES`"),
            },
            "func_addr" => InstKind::FuncAddr(self.int(args.trim())?),
            "kernel_value" => {
                match kernel_value(args) {
                    Some(value) => {
                        self.func.kernel_values.push(value);
                        InstKind::KernelValue(self.func.kernel_values.len() as u32 - 1)
                    }
                    None => return self.err(
                        "expected `kernel_value KIND STRUCT.MEMBER|TYPE|ENUM::NAME LOCAL-VALUE`",
                    ),
                }
            }
            "field_load" => match field_load(arg(&parts, 1), size) {
                Some(value) => {
                    self.func.kernel_values.push(value);
                    InstKind::FieldLoad {
                        ptr: self.value(arg(&parts, 0))?,
                        field: self.func.kernel_values.len() as u32 - 1,
                    }
                }
                None => {
                    return self
                        .err("expected `field_load.SIZE PTR, STRUCT.MEMBER OFFSET [signed]`")
                }
            },
            "call" => {
                let (id, rest) = args.split_once('(').unwrap_or((args, ")"));
                let helper = self.int(id.trim())?;
                let args = list(rest.trim_end_matches(')'))
                    .into_iter()
                    .map(|a| self.value(a))
                    .collect::<Result<_, _>>()?;
                InstKind::Call { helper, args }
            }
            "asm" => {
                let f: Vec<&str> = args.split_whitespace().collect();
                if f.len() != 5 {
                    return self.err("expected `asm CODE DST SRC OFF IMM`");
                }
                InstKind::Asm(Insn::new(
                    self.int(f[0])?,
                    self.int(f[1])?,
                    self.int(f[2])?,
                    self.int(f[3])?,
                    self.int(f[4])?,
                ))
            }
            _ => return self.err(format!("unknown instruction `{op}`")),
        })
    }

    fn finish(self) -> Result<Function, ParseError> {
        if self.func.layout.is_empty() {
            return self.err("a function needs at least one block");
        }
        Ok(self.func)
    }
}

/// Entity numbers above this are rejected (the tables are dense).
const MAX_ENTITY: u32 = 1 << 22;

fn list(text: &str) -> Vec<&str> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn arg<'a>(parts: &[&'a str], i: usize) -> &'a str {
    parts.get(i).copied().unwrap_or("")
}

/// `STRUCT.MEMBER OFFSET [signed]` of a `field_load.SIZE`, as `print` writes it: the byte
/// offset of a member read as an integer of SIZE bytes (what only the object's BTF uses, such
/// as a pointer type, is left out).
/// Bytes written as two hex digits each, as `print` writes `data_addr`'s.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn field_load(args: &str, size: u8) -> Option<whistler_object::KernelValue> {
    use whistler_object::{KernelFieldRef, KernelMember, KernelStructRef, KernelType};
    let mut words = args.split_whitespace();
    let (subject, offset) = (words.next()?, words.next()?.parse().ok()?);
    let signed = match words.next() {
        None => false,
        Some("signed") => true,
        Some(_) => return None,
    };
    let (structure, member) = subject.split_once('.')?;
    let field = KernelFieldRef {
        structure: KernelStructRef {
            name: structure.to_string(),
            union: false,
            size: 0,
        },
        member: KernelMember {
            name: member.to_string(),
            offset,
            ty: KernelType::Int {
                size: u32::from(size),
                signed,
            },
        },
    };
    crate::ir::MemberLoad::of(&field)?;
    Some(whistler_object::KernelValue::field_offset(field))
}

/// `KIND SUBJECT LOCAL-VALUE`, as `print` writes a `KernelValue`: KIND a `CoreKind`'s Lisp name,
/// SUBJECT `struct.member`, `enum::NAME` or a type name. The text leaves out what only the
/// object's BTF uses: the subject reads back with just what gives it the same local value
/// (a member of an integer type at offset 0, a struct, an unsigned enum).
fn kernel_value(args: &str) -> Option<whistler_object::KernelValue> {
    use whistler_object::{
        KernelEnumerator, KernelFieldRef, KernelMember, KernelStructRef, KernelSubject, KernelType,
        KernelValue,
    };
    let mut words = args.split_whitespace();
    let (kind, subject, local) = (words.next()?, words.next()?, words.next()?);
    let kind = whistler_bpf::CoreKind::from_lisp_name(kind)?;
    let local: i64 = local.parse().ok()?;
    let size = match kind {
        whistler_bpf::CoreKind::FIELD_BYTE_SIZE | whistler_bpf::CoreKind::TYPE_SIZE => local,
        whistler_bpf::CoreKind::FIELD_LSHIFT_U64 | whistler_bpf::CoreKind::FIELD_RSHIFT_U64 => {
            (64 - local) / 8
        }
        _ => 8,
    };
    let size = u32::try_from(size).ok()?;
    let structure = |name: &str, size| KernelStructRef {
        name: name.to_string(),
        union: false,
        size,
    };
    let of = if let Some((enumeration, name)) = subject.split_once("::") {
        KernelSubject::Enumerator(KernelEnumerator {
            enumeration: enumeration.to_string(),
            size: 4,
            signed: false,
            name: name.to_string(),
            value: local,
        })
    } else if let Some((name, member)) = subject.split_once('.') {
        let offset = match kind {
            whistler_bpf::CoreKind::FIELD_BYTE_OFFSET => u32::try_from(local).ok()?,
            _ => 0,
        };
        let signed = kind == whistler_bpf::CoreKind::FIELD_SIGNED && local != 0;
        KernelSubject::Field(KernelFieldRef {
            structure: structure(name, 0),
            member: KernelMember {
                name: member.to_string(),
                offset,
                ty: KernelType::Int { size, signed },
            },
        })
    } else {
        KernelSubject::Type(KernelType::Composite(structure(subject, size)))
    };
    let value = KernelValue { kind, of };
    (value.local_value() == Some(local)).then_some(value)
}
