//! Code generation: an allocated function to BPF instructions, with jump offsets resolved,
//! `ld_imm64` map relocations recorded and a line-info entry at the first instruction of every
//! source form.
//!
//! Frame: program stack slots first, then 8-byte spill slots, all 8-byte aligned below R10.
//! R5 serves as a scratch register (the allocator never assigns it), and R0 too when the
//! allocation spills (the allocator then does not assign R0).

pub mod callbacks;
pub(crate) mod moves;
mod peephole;

use crate::ir::{BinOp, Block, Cond, Function, InstKind, Operand, Terminator, UnOp, Value};
use crate::regalloc::{Allocation, Loc};
use moves::{sequentialize, Step, CALL_TEMP};
use whistler_bpf::opcode::*;
use whistler_bpf::{CoreKind, Insn, Reg};
use whistler_object::{CoreReloc, DataReloc, LineInfo, MapReloc};
use whistler_syntax::{SourceFile, Span};

/// The BPF instruction-set version to emit for, like clang's `-mcpu`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cpu {
    /// The original instruction set: no `<`/`<=` jumps (`jlt`, `jle`, `jslt`, `jsle`).
    V1,
    /// Adds the `<`/`<=` jumps (kernel 4.14).
    V2,
    /// Adds 32-bit jumps and atomic fetch operations (kernel 5.1); the default.
    #[default]
    V3,
    /// Adds sign-extending loads and moves, signed division, `bswap` and `gotol` (kernel 6.6).
    V4,
}

impl std::str::FromStr for Cpu {
    type Err = String;

    fn from_str(s: &str) -> Result<Cpu, String> {
        match s {
            "v1" | "generic" => Ok(Cpu::V1),
            "v2" => Ok(Cpu::V2),
            "v3" => Ok(Cpu::V3),
            "v4" => Ok(Cpu::V4),
            other => Err(format!(
                "unknown BPF cpu `{other}` (expected v1, v2, v3 or v4)"
            )),
        }
    }
}

impl Cpu {
    /// True when the conditional jump for `c` exists in this instruction set.
    pub fn has_jump(self, c: Cond) -> bool {
        self >= Cpu::V2 || !matches!(c, Cond::Lt | Cond::Le | Cond::Slt | Cond::Sle)
    }

    /// True when programs may take constant keys and values from the object's read-only data
    /// (`.rodata`, a frozen array map; kernel 5.2): for v3 and later, whose kernels have it
    /// (5.1 being the exception).
    pub fn has_read_only_data(self) -> bool {
        self >= Cpu::V3
    }
}

/// The BPF stack limit.
pub const STACK_LIMIT: u32 = 512;

pub struct Code {
    pub insns: Vec<Insn>,
    pub map_relocs: Vec<MapReloc>,
    pub data_relocs: Vec<DataReloc>,
    pub core_relocs: Vec<CoreReloc>,
    pub lines: Vec<LineInfo>,
    pub stack_size: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodegenError {
    #[error("the program needs {0} bytes of stack, more than the {STACK_LIMIT} bytes BPF allows")]
    StackTooLarge(u32),
    #[error("internal compiler error: {0}")]
    Internal(String),
}

const R0: Reg = Reg::R0;
const R5: Reg = Reg::R5;

pub fn generate(
    func: &Function,
    alloc: &Allocation,
    file: &SourceFile,
    cpu: Cpu,
) -> Result<Code, CodegenError> {
    let (slot_offsets, spill_base, stack_size) = frame(func, alloc);
    if stack_size > STACK_LIMIT {
        return Err(CodegenError::StackTooLarge(stack_size));
    }
    let mut e = Emitter {
        func,
        alloc,
        file,
        slot_offsets,
        spill_base,
        insns: Vec::new(),
        relocs: Vec::new(),
        data_relocs: Vec::new(),
        core_relocs: Vec::new(),
        lines: Vec::new(),
        last_span: None,
        block_start: vec![usize::MAX; func.blocks.len()],
        fixups: Vec::new(),
        uses: crate::opt::use_counts(func),
        cpu,
    };
    for (k, &b) in func.layout.iter().enumerate() {
        let next = func.layout.get(k + 1).copied();
        e.block(b, next)?;
    }
    e.resolve_jumps()?;
    let mut code = Code {
        insns: e.insns,
        map_relocs: e.relocs,
        data_relocs: e.data_relocs,
        core_relocs: e.core_relocs,
        lines: e.lines,
        stack_size,
    };
    peephole::run(&mut code, cpu);
    Ok(code)
}

/// Offsets (negative, from R10) of every program slot whose address the code takes (the others,
/// such as a constant key's slot once the key moved to `.rodata`, take no room), the base of
/// the spill area, and the total frame size.
fn frame(func: &Function, alloc: &Allocation) -> (Vec<i32>, i32, u32) {
    let mut addressed = vec![false; func.slots.len()];
    for &b in &func.layout {
        for &i in &func.blocks[b.index()].insts {
            if let InstKind::StackAddr(s) = func.inst(i).kind {
                addressed[s.index()] = true;
            }
        }
    }
    let mut used = 0u32;
    let offsets = (func.slots.iter().zip(addressed))
        .map(|(s, addressed)| {
            if addressed {
                used += s.size.next_multiple_of(8);
            }
            -(used as i32)
        })
        .collect();
    let spill_base = used as i32;
    used += alloc.spill_slots * 8;
    (offsets, spill_base, used)
}

struct Emitter<'a> {
    func: &'a Function,
    alloc: &'a Allocation,
    file: &'a SourceFile,
    slot_offsets: Vec<i32>,
    spill_base: i32,
    insns: Vec<Insn>,
    relocs: Vec<MapReloc>,
    data_relocs: Vec<DataReloc>,
    core_relocs: Vec<CoreReloc>,
    lines: Vec<LineInfo>,
    last_span: Option<Span>,
    block_start: Vec<usize>,
    /// (instruction index, target block)
    fixups: Vec<(usize, Block)>,
    /// Use counts: a helper's unused result is never read from R0 (void helpers leave R0
    /// unreadable for the verifier).
    uses: Vec<u32>,
    cpu: Cpu,
}

fn alu_op(op: BinOp) -> u8 {
    match op {
        BinOp::Add => BPF_ADD,
        BinOp::Sub => BPF_SUB,
        BinOp::Mul => BPF_MUL,
        BinOp::Div => BPF_DIV,
        BinOp::Mod => BPF_MOD,
        BinOp::And => BPF_AND,
        BinOp::Or => BPF_OR,
        BinOp::Xor => BPF_XOR,
        BinOp::Lsh => BPF_LSH,
        BinOp::Rsh => BPF_RSH,
        BinOp::Arsh => BPF_ARSH,
    }
}

fn jmp_op(c: Cond) -> u8 {
    match c {
        Cond::Eq => BPF_JEQ,
        Cond::Ne => BPF_JNE,
        Cond::Gt => BPF_JGT,
        Cond::Ge => BPF_JGE,
        Cond::Lt => BPF_JLT,
        Cond::Le => BPF_JLE,
        Cond::Sgt => BPF_JSGT,
        Cond::Sge => BPF_JSGE,
        Cond::Slt => BPF_JSLT,
        Cond::Sle => BPF_JSLE,
        Cond::Set => BPF_JSET,
    }
}

fn size_code(size: u8) -> u8 {
    match size {
        1 => BPF_B,
        2 => BPF_H,
        4 => BPF_W,
        _ => BPF_DW,
    }
}

impl Emitter<'_> {
    fn push(&mut self, insn: Insn) {
        self.insns.push(insn);
    }

    fn mark_line(&mut self, span: Span) {
        if span == Span::default() || self.last_span == Some(span) {
            return;
        }
        self.last_span = Some(span);
        let lc = self.file.line_col(span.start);
        let index = self.insns.len();
        match self.lines.last_mut() {
            Some(last) if last.insn_index == index => {
                (last.line, last.col) = (lc.line, lc.col);
            }
            Some(last) if (last.line, last.col) == (lc.line, lc.col) => {}
            _ => self.lines.push(LineInfo {
                insn_index: index,
                line: lc.line,
                col: lc.col,
            }),
        }
    }

    fn loc(&self, v: Value) -> Result<Loc, CodegenError> {
        self.alloc
            .loc(v)
            .ok_or_else(|| CodegenError::Internal(format!("{v} has no location")))
    }

    fn spill_offset(&self, slot: u32) -> i16 {
        (-(self.spill_base + 8 * (slot as i32 + 1))) as i16
    }

    /// The register holding `v`, loading it into `scratch` when it is spilled.
    fn read(&mut self, v: Value, scratch: Reg) -> Result<Reg, CodegenError> {
        match self.loc(v)? {
            Loc::Reg(r) => Ok(Reg(r)),
            Loc::Stack(s) => {
                let off = self.spill_offset(s);
                self.push(Insn::load(BPF_DW, scratch, Reg::FP, off));
                Ok(scratch)
            }
        }
    }

    /// The register to compute `v` in (R0 when `v` lives on the stack).
    fn target(&self, v: Value) -> Result<Reg, CodegenError> {
        Ok(match self.loc(v)? {
            Loc::Reg(r) => Reg(r),
            Loc::Stack(_) => R0,
        })
    }

    /// Stores `v` computed in `r` to its stack slot, if it has one.
    fn finish(&mut self, v: Value, r: Reg) -> Result<(), CodegenError> {
        match self.loc(v)? {
            Loc::Stack(s) => {
                let off = self.spill_offset(s);
                self.push(Insn::store_reg(BPF_DW, Reg::FP, off, r));
            }
            Loc::Reg(d) if d != r.0 => self.push(Insn::mov64_reg(Reg(d), r)),
            Loc::Reg(_) => {}
        }
        Ok(())
    }

    /// `d = *(size *)(p + offset)` with the member's field byte offset relocation on the load,
    /// then for a signed member `d <<= lshift; d s>>= rshift`, each shift with its own
    /// relocation: whatever width the loader gives the load, the shifts sign-extend that width.
    fn field_load(&mut self, d: Reg, p: Reg, field: u32) -> Result<(), CodegenError> {
        let (member, load) = self
            .func
            .loaded_member(field)
            .ok_or_else(|| CodegenError::Internal(format!("field load of kernel value {field}")))?;
        let relocated = |kind| whistler_object::KernelValue {
            kind,
            of: whistler_object::KernelSubject::Field(member.clone()),
        };
        let offset = relocated(CoreKind::FIELD_BYTE_OFFSET);
        self.core_relocs.push(CoreReloc {
            insn_index: self.insns.len(),
            value: offset,
        });
        self.push(Insn::load(size_code(load.size), d, p, load.offset));
        if load.signed {
            for (op, kind) in [
                (BPF_LSH, CoreKind::FIELD_LSHIFT_U64),
                (BPF_ARSH, CoreKind::FIELD_RSHIFT_U64),
            ] {
                let shift = relocated(kind);
                let amount = shift.local_value().unwrap_or(0) as i32;
                self.core_relocs.push(CoreReloc {
                    insn_index: self.insns.len(),
                    value: shift,
                });
                self.push(Insn::alu64_imm(op, d, amount));
            }
        }
        Ok(())
    }

    fn finish_call(&mut self, r: Value) -> Result<(), CodegenError> {
        if self.uses.get(r.index()).copied().unwrap_or(0) == 0 {
            return Ok(());
        }
        self.finish(r, R0)
    }

    fn move_step(&mut self, step: Step) {
        let Step::Move { from, to } = step;
        match (from, to) {
            (Loc::Reg(a), Loc::Reg(b)) => self.push(Insn::mov64_reg(Reg(b), Reg(a))),
            (Loc::Reg(a), Loc::Stack(s)) => {
                let off = self.spill_offset(s);
                self.push(Insn::store_reg(BPF_DW, Reg::FP, off, Reg(a)));
            }
            (Loc::Stack(s), Loc::Reg(b)) => {
                let off = self.spill_offset(s);
                self.push(Insn::load(BPF_DW, Reg(b), Reg::FP, off));
            }
            (Loc::Stack(a), Loc::Stack(b)) => {
                let (oa, ob) = (self.spill_offset(a), self.spill_offset(b));
                let scratch = Reg(moves::STACK_COPY_SCRATCH);
                self.push(Insn::load(BPF_DW, scratch, Reg::FP, oa));
                self.push(Insn::store_reg(BPF_DW, Reg::FP, ob, scratch));
            }
        }
    }

    fn block(&mut self, b: Block, next: Option<Block>) -> Result<(), CodegenError> {
        self.block_start[b.index()] = self.insns.len();
        let data = &self.func.blocks[b.index()];
        for &i in &data.insts {
            let inst = self.func.inst(i);
            self.mark_line(inst.span);
            self.inst(&inst.kind, inst.result)?;
        }
        self.mark_line(data.term_span);
        let term = data
            .term
            .clone()
            .ok_or_else(|| CodegenError::Internal(format!("{b} has no terminator")))?;
        self.terminator(&term, next)
    }

    fn inst(&mut self, kind: &InstKind, result: Option<Value>) -> Result<(), CodegenError> {
        let res = || result.ok_or_else(|| CodegenError::Internal("missing result".into()));
        match kind {
            InstKind::Iconst(c) => {
                let r = res()?;
                let d = self.target(r)?;
                match i32::try_from(*c) {
                    Ok(imm) => self.push(Insn::mov64_imm(d, imm)),
                    Err(_) => self.insns.extend(Insn::ld_imm64(d, 0, *c as u64)),
                }
                self.finish(r, d)
            }
            InstKind::Arg => {
                let r = res()?;
                self.finish(r, Reg::R1)
            }
            InstKind::Binary { op, lhs, rhs } => self.binary(*op, *lhs, *rhs, res()?),
            InstKind::Unary { op, arg } => {
                let r = res()?;
                let d = self.target(r)?;
                let a = self.read(*arg, d)?;
                match op {
                    UnOp::Zext32 => self.push(Insn::alu32_reg(BPF_MOV, d, a)),
                    _ => {
                        if a != d {
                            self.push(Insn::mov64_reg(d, a));
                        }
                        self.push(match op {
                            UnOp::Neg => Insn::alu64_imm(BPF_NEG, d, 0),
                            UnOp::Swap16 => Insn::to_be(d, 16),
                            UnOp::Swap32 => Insn::to_be(d, 32),
                            _ => Insn::to_be(d, 64),
                        });
                    }
                }
                self.finish(r, d)
            }
            InstKind::Copy(v) => {
                let r = res()?;
                let d = self.target(r)?;
                let a = self.read(*v, d)?;
                self.finish(r, a)
            }
            InstKind::Load { size, ptr, offset } => {
                let r = res()?;
                let p = self.read(*ptr, R0)?;
                let d = self.target(r)?;
                self.push(Insn::load(size_code(*size), d, p, *offset));
                self.finish(r, d)
            }
            InstKind::Store {
                size,
                ptr,
                offset,
                value,
            } => {
                let p = self.read(*ptr, R0)?;
                match value {
                    Operand::Imm(i) => self.push(Insn::store_imm(size_code(*size), p, *offset, *i)),
                    Operand::Value(v) => {
                        let s = self.read(*v, R5)?;
                        self.push(Insn::store_reg(size_code(*size), p, *offset, s));
                    }
                }
                Ok(())
            }
            InstKind::AtomicAdd {
                size,
                ptr,
                offset,
                value,
            } => {
                let p = self.read(*ptr, R0)?;
                let s = self.read(*value, R5)?;
                self.push(Insn::atomic(
                    size_code(*size),
                    BPF_ADD as i32,
                    p,
                    *offset,
                    s,
                ));
                Ok(())
            }
            InstKind::StackAddr(slot) => {
                let r = res()?;
                let d = self.target(r)?;
                let off = self.slot_offsets.get(slot.index()).copied().unwrap_or(0);
                self.push(Insn::mov64_reg(d, Reg::FP));
                self.push(Insn::alu64_imm(BPF_ADD, d, off));
                self.finish(r, d)
            }
            InstKind::MapFd(m) => {
                let r = res()?;
                let d = self.target(r)?;
                let name = self.func.maps.get(*m as usize).cloned().unwrap_or_default();
                self.relocs.push(MapReloc {
                    insn_index: self.insns.len(),
                    map_name: name,
                });
                self.insns.extend(Insn::ld_imm64(d, BPF_PSEUDO_MAP_FD, 0));
                self.finish(r, d)
            }
            InstKind::DataAddr(n) => {
                let r = res()?;
                let d = self.target(r)?;
                let bytes = self.func.data.get(*n as usize).cloned();
                let bytes = bytes
                    .ok_or_else(|| CodegenError::Internal(format!("unknown constant data {n}")))?;
                self.data_relocs.push(DataReloc {
                    insn_index: self.insns.len(),
                    bytes,
                });
                // The writer puts the bytes' offset in `.rodata` in the immediate.
                self.insns.extend(Insn::ld_imm64(d, 0, 0));
                self.finish(r, d)
            }
            InstKind::FuncAddr(n) => {
                let r = res()?;
                let d = self.target(r)?;
                // The callback's number stands in the immediate until `callbacks::link` places
                // the callbacks and turns it into their distance.
                self.insns
                    .extend(Insn::ld_imm64(d, BPF_PSEUDO_FUNC, u64::from(*n)));
                self.finish(r, d)
            }
            InstKind::KernelValue(k) => {
                let r = res()?;
                let d = self.target(r)?;
                let value = self.func.kernel_values.get(*k as usize).cloned();
                let value = value
                    .ok_or_else(|| CodegenError::Internal(format!("unknown kernel value {k}")))?;
                let local = value.local_value().ok_or_else(|| {
                    CodegenError::Internal(format!("{:?} does not fit its subject", value.kind))
                })?;
                self.core_relocs.push(CoreReloc {
                    insn_index: self.insns.len(),
                    value,
                });
                match i32::try_from(local) {
                    Ok(imm) => self.push(Insn::mov64_imm(d, imm)),
                    Err(_) => self.insns.extend(Insn::ld_imm64(d, 0, local as u64)),
                }
                self.finish(r, d)
            }
            InstKind::FieldLoad { ptr, field } => {
                let r = res()?;
                let p = self.read(*ptr, R0)?;
                let d = self.target(r)?;
                self.field_load(d, p, *field)?;
                self.finish(r, d)
            }
            InstKind::Call { helper, args } => {
                let immediate = |a: &Value| moves::immediate_argument(self.func, *a);
                let moves: Vec<(Loc, Loc)> = args
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| immediate(a).is_none())
                    .map(|(k, a)| self.loc(*a).map(|l| (l, Loc::Reg(k as u8 + 1))))
                    .collect::<Result<_, _>>()?;
                for step in sequentialize(&moves, CALL_TEMP) {
                    self.move_step(step);
                }
                for (k, a) in args.iter().enumerate() {
                    if let Some(c) = immediate(a) {
                        let to = Reg(k as u8 + 1);
                        if self.loc(*a)? != Loc::Reg(to.0) {
                            self.push(Insn::mov64_imm(to, c));
                        }
                    }
                }
                self.push(Insn::call_helper(*helper as i32));
                self.finish_call(res()?)
            }
            InstKind::Asm(insn) => {
                self.push(*insn);
                self.finish_call(res()?)
            }
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        lhs: Value,
        rhs: Operand,
        r: Value,
    ) -> Result<(), CodegenError> {
        let d = self.target(r)?;
        let commutative = matches!(
            op,
            BinOp::Add | BinOp::Mul | BinOp::And | BinOp::Or | BinOp::Xor
        );
        if let Operand::Value(bv) = rhs {
            let b_in_d = self.loc(bv)? == Loc::Reg(d.0);
            if b_in_d && self.loc(lhs)? != Loc::Reg(d.0) {
                // `d = a op b` with b already in d.
                if commutative {
                    let a = self.read(lhs, R5)?;
                    self.push(Insn::alu64_reg(alu_op(op), d, a));
                    return self.finish(r, d);
                }
                // R5 is free here: b sits in d, so nothing was loaded into R5.
                self.load_into(lhs, R5)?;
                self.push(Insn::alu64_reg(alu_op(op), R5, d));
                return self.finish(r, R5);
            }
        }
        let b = match rhs {
            Operand::Value(v) => Some(self.read(v, R5)?),
            Operand::Imm(_) => None,
        };
        self.load_into(lhs, d)?;
        match (b, rhs) {
            (Some(br), _) => self.push(Insn::alu64_reg(alu_op(op), d, br)),
            (None, Operand::Imm(i)) => self.push(Insn::alu64_imm(alu_op(op), d, i)),
            (None, Operand::Value(_)) => {
                return Err(CodegenError::Internal("missing operand".into()))
            }
        }
        self.finish(r, d)
    }

    /// Copies `v` into register `to` (nothing when it is already there).
    fn load_into(&mut self, v: Value, to: Reg) -> Result<(), CodegenError> {
        match self.loc(v)? {
            Loc::Reg(x) if x == to.0 => {}
            Loc::Reg(x) => self.push(Insn::mov64_reg(to, Reg(x))),
            Loc::Stack(s) => {
                let off = self.spill_offset(s);
                self.push(Insn::load(BPF_DW, to, Reg::FP, off));
            }
        }
        Ok(())
    }

    fn terminator(&mut self, term: &Terminator, next: Option<Block>) -> Result<(), CodegenError> {
        match term {
            Terminator::Return(v) => {
                match v {
                    Operand::Imm(i) => self.push(Insn::mov64_imm(R0, *i)),
                    Operand::Value(v) => {
                        let r = self.read(*v, R0)?;
                        if r != R0 {
                            self.push(Insn::mov64_reg(R0, r));
                        }
                    }
                }
                self.push(Insn::exit());
            }
            Terminator::Jump { dest, args } => {
                let params = &self.func.blocks[dest.index()].params;
                let moves: Vec<(Loc, Loc)> = args
                    .iter()
                    .zip(params)
                    .map(|(a, p)| Ok((self.loc(*a)?, self.loc(*p)?)))
                    .collect::<Result<_, CodegenError>>()?;
                for step in sequentialize(&moves, moves::jump_temp(self.alloc)) {
                    self.move_step(step);
                }
                if Some(*dest) != next {
                    self.jump_to(Insn::ja(0), *dest);
                }
            }
            Terminator::Branch {
                cond,
                lhs,
                rhs,
                then_dest,
                else_dest,
            } => {
                let mut a = self.read(*lhs, R0)?;
                let mut b = match rhs {
                    Operand::Value(v) => Some(self.read(*v, R5)?),
                    Operand::Imm(_) => None,
                };
                let (mut c, mut t, mut f) = (*cond, *then_dest, *else_dest);
                if Some(t) == next {
                    if let Some(n) = c.negate().filter(|&n| self.cpu.has_jump(n)) {
                        (c, t, f) = (n, f, t);
                    }
                }
                if !self.cpu.has_jump(c) {
                    // v1 has no `<`/`<=`: swap the operands (`b > a`), or with an immediate
                    // branch on the opposite condition to the other block.
                    match (b, c.mirror()) {
                        (Some(br), Some(m)) => (a, b, c) = (br, Some(a), m),
                        _ => {
                            let n = c.negate().ok_or_else(|| {
                                CodegenError::Internal(format!("no v1 jump for {c:?}"))
                            })?;
                            (c, t, f) = (n, f, t);
                        }
                    }
                }
                let insn = match (b, rhs) {
                    (Some(br), _) => Insn::jmp_reg(jmp_op(c), a, br, 0),
                    (None, Operand::Imm(i)) => Insn::jmp_imm(jmp_op(c), a, *i, 0),
                    _ => return Err(CodegenError::Internal("missing branch operand".into())),
                };
                self.jump_to(insn, t);
                if Some(f) != next {
                    self.jump_to(Insn::ja(0), f);
                }
            }
        }
        Ok(())
    }

    fn jump_to(&mut self, insn: Insn, target: Block) {
        self.fixups.push((self.insns.len(), target));
        self.push(insn);
    }

    fn resolve_jumps(&mut self) -> Result<(), CodegenError> {
        for &(at, target) in &self.fixups {
            let dest = self.block_start[target.index()];
            if dest == usize::MAX {
                return Err(CodegenError::Internal(format!("jump to unplaced {target}")));
            }
            let off = dest as i64 - (at as i64 + 1);
            self.insns[at].off = i16::try_from(off)
                .map_err(|_| CodegenError::Internal("jump offset beyond 16 bits".into()))?;
        }
        Ok(())
    }
}
