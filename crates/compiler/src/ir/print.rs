//! The IR as text. [`super::parse`] reads this format back.
//!
//! ```text
//! function count
//!   ss0 = slot 8, align 8
//!   maps counts
//! block0:
//!   v0 = arg
//!   v1 = map_fd counts
//!   v2 = stack_addr ss0
//!   store.4 v2, 0, 0
//!   v3 = call 1(v1, v2)
//!   br eq v3, 0, block1, block2
//! ...
//! ```

use super::*;
use std::fmt::Write;

pub fn to_text(func: &Function) -> String {
    let mut out = format!("function {}\n", func.name);
    for (i, s) in func.slots.iter().enumerate() {
        let _ = writeln!(out, "  ss{i} = slot {}, align {}", s.size, s.align);
    }
    if !func.maps.is_empty() {
        let _ = writeln!(out, "  maps {}", func.maps.join(" "));
    }
    if func.returns_int {
        out.push_str("  returns int\n");
    }
    if func.read_only_data {
        out.push_str("  read-only data\n");
    }
    if !func.packet_fields.is_empty() {
        let fields: Vec<String> = func.packet_fields.iter().map(i16::to_string).collect();
        let _ = writeln!(out, "  packet fields {}", fields.join(" "));
    }
    for &b in &func.layout {
        write_block(&mut out, func, b);
    }
    out
}

fn write_block(out: &mut String, func: &Function, b: Block) {
    let data = &func.blocks[b.index()];
    let _ = write!(out, "{b}");
    if !data.params.is_empty() {
        let _ = write!(out, "({})", join(&data.params));
    }
    out.push_str(":\n");
    for &i in &data.insts {
        let inst = func.inst(i);
        out.push_str("  ");
        if let Some(r) = inst.result {
            let _ = write!(out, "{r} = ");
        }
        out.push_str(&inst_text(func, &inst.kind));
        out.push('\n');
    }
    match &data.term {
        Some(t) => {
            let _ = writeln!(out, "  {}", term_text(t));
        }
        None => out.push_str("  <no terminator>\n"),
    }
}

fn join(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn operand(o: &Operand) -> String {
    match o {
        Operand::Value(v) => v.to_string(),
        Operand::Imm(i) => i.to_string(),
    }
}

fn inst_text(func: &Function, kind: &InstKind) -> String {
    match kind {
        InstKind::Iconst(c) => format!("iconst {c}"),
        InstKind::Arg => "arg".into(),
        InstKind::Binary { op, lhs, rhs } => {
            format!("{} {lhs}, {}", op.name(), operand(rhs))
        }
        InstKind::Unary { op, arg } => format!("{} {arg}", op.name()),
        InstKind::Copy(v) => format!("copy {v}"),
        InstKind::Load { size, ptr, offset } => format!("load.{size} {ptr}, {offset}"),
        InstKind::Store {
            size,
            ptr,
            offset,
            value,
        } => format!("store.{size} {ptr}, {offset}, {}", operand(value)),
        InstKind::AtomicAdd {
            size,
            ptr,
            offset,
            value,
        } => format!("atomic_add.{size} {ptr}, {offset}, {value}"),
        InstKind::StackAddr(s) => format!("stack_addr {s}"),
        InstKind::MapFd(m) => format!(
            "map_fd {}",
            func.maps.get(*m as usize).map_or("?", |s| s.as_str())
        ),
        InstKind::DataAddr(d) => match func.data.get(*d as usize) {
            Some(bytes) => format!("data_addr {}", hex(bytes)),
            None => "data_addr ?".to_string(),
        },
        InstKind::FuncAddr(n) => format!("func_addr {n}"),
        InstKind::KernelValue(k) => match func.kernel_values.get(*k as usize) {
            Some(v) => format!(
                "kernel_value {} {} {}",
                v.kind.lisp_names()[0],
                v.subject_name(),
                v.local_value().unwrap_or(0)
            ),
            None => "kernel_value ?".to_string(),
        },
        InstKind::FieldLoad { ptr, field } => match func.loaded_member(*field) {
            Some((member, load)) => format!(
                "field_load.{} {ptr}, {}.{} {}{}",
                load.size,
                member.structure.name,
                member.member.name,
                load.offset,
                if load.signed { " signed" } else { "" }
            ),
            None => format!("field_load {ptr}, ?"),
        },
        InstKind::Call { helper, args } => format!("call {helper}({})", join(args)),
        InstKind::Asm(i) => format!("asm {:#x} {} {} {} {}", i.code, i.dst, i.src, i.off, i.imm),
    }
}

fn term_text(t: &Terminator) -> String {
    match t {
        Terminator::Jump { dest, args } if args.is_empty() => format!("jump {dest}"),
        Terminator::Jump { dest, args } => format!("jump {dest}({})", join(args)),
        Terminator::Branch {
            cond,
            lhs,
            rhs,
            then_dest,
            else_dest,
        } => format!(
            "br {} {lhs}, {}, {then_dest}, {else_dest}",
            cond.name(),
            operand(rhs)
        ),
        Terminator::Return(v) => format!("return {}", operand(v)),
    }
}

/// Bytes as two hex digits each, in memory order.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
