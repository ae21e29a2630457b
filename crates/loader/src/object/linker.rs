//! Linking one program: its own instructions, then every function it calls or takes the address
//! of (in `.text` or any code section, transitively) appended once each; calls and function
//! addresses re-pointed at the copies; map fds and global-data addresses patched into `ld_imm64`;
//! func_info and line_info rebased onto the linked instructions.

use std::collections::VecDeque;

use whistler_bpf::opcode::{
    BPF_CALL, BPF_JMP, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL,
    BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE,
};
use whistler_bpf::Insn;
use whistler_object::{
    CodeSection, FuncInfoRecord, LineInfoRecord, ParsedProgram, RelocTarget, Relocation,
};

const CALL: u8 = BPF_JMP | BPF_CALL;

/// A program ready for BPF_PROG_LOAD, with its `.BTF.ext` records in linked coordinates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkedProgram {
    /// The program's instructions followed by the subprograms it calls, calls relocated.
    pub insns: Vec<Insn>,
    /// One record per function, at its instruction in `insns`.
    pub func_info: Vec<FuncInfoRecord>,
    /// Source line records, at their instructions in `insns`.
    pub line_info: Vec<LineInfoRecord>,
}

/// What the linker needs from the loader besides the code.
pub trait Resolver {
    /// The fd of map `index` in the object's map list.
    fn map_fd(&self, index: usize) -> i32;
    /// The kernel BTF id of the kernel function (kfunc) `name`, if there is one.
    fn kfunc(&self, name: &str) -> Option<u32>;
    /// Where the extern variable `name` (`__kconfig` or `__ksym`) is, for `ld_imm64`.
    fn extern_variable(&self, name: &str) -> Result<ExternVariable, String>;
}

/// What an `ld_imm64` of an extern variable becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternVariable {
    /// A `__kconfig` value at `offset` in the `.kconfig` map whose fd is `map_fd`.
    MapValue {
        /// The `.kconfig` map's fd.
        map_fd: i32,
        /// The variable's offset in the map's value.
        offset: u32,
    },
    /// A `__ksym` kernel variable by its vmlinux BTF id (`BPF_PSEUDO_BTF_ID`).
    KernelVariable {
        /// The variable's BTF id in vmlinux.
        btf_id: u32,
    },
}

/// A run of instructions copied from a section into the linked program.
#[derive(Clone, Copy, Debug)]
struct Chunk {
    section: usize,
    start: usize,
    len: usize,
    out: usize,
}

impl Chunk {
    fn contains(&self, section: usize, insn: usize) -> bool {
        self.section == section && (self.start..self.start + self.len).contains(&insn)
    }
}

struct Linker<'a> {
    sections: &'a [CodeSection],
    resolver: &'a dyn Resolver,
    chunks: Vec<Chunk>,
    out: Vec<Insn>,
}

/// Links `program` (whose code is in `sections`).
pub fn link_program(
    sections: &[CodeSection],
    program: &ParsedProgram,
    resolver: &dyn Resolver,
) -> Result<LinkedProgram, String> {
    let mut linker = Linker {
        sections,
        resolver,
        chunks: Vec::new(),
        out: Vec::new(),
    };
    linker.place(
        program.code_section,
        program.insn_offset,
        program.insn_count,
    )?;
    let mut pending: VecDeque<usize> = VecDeque::from([0]);
    while let Some(chunk) = pending.pop_front() {
        let before = linker.chunks.len();
        linker.relocate_chunk(chunk)?;
        pending.extend(before..linker.chunks.len());
    }
    Ok(LinkedProgram {
        func_info: linker.func_info(),
        line_info: linker.line_info(),
        insns: linker.out,
    })
}

impl Linker<'_> {
    fn place(&mut self, section: usize, start: usize, len: usize) -> Result<usize, String> {
        let code = &self.sections[section];
        let insns = code
            .insns
            .get(start..start + len)
            .ok_or_else(|| format!("function at {start}+{len} is outside `{}`", code.name))?;
        let out = self.out.len();
        self.out.extend_from_slice(insns);
        self.chunks.push(Chunk {
            section,
            start,
            len,
            out,
        });
        Ok(out)
    }

    fn relocate_chunk(&mut self, index: usize) -> Result<(), String> {
        let chunk = self.chunks[index];
        let code = &self.sections[chunk.section];
        for i in 0..chunk.len {
            let (sec_insn, out) = (chunk.start + i, chunk.out + i);
            match find_reloc(&code.relocs, sec_insn) {
                Some(reloc) => self.apply(out, &reloc.target)?,
                None => self.relative_call(chunk.section, sec_insn, out)?,
            }
        }
        Ok(())
    }

    /// A call or function address whose target is given only as a relative offset within the
    /// same section (static functions clang resolved itself).
    fn relative_call(&mut self, section: usize, sec_insn: usize, out: usize) -> Result<(), String> {
        let insn = self.out[out];
        let is_func_addr = insn.is_ld_imm64() && insn.src == BPF_PSEUDO_FUNC;
        if !insn.is_pseudo_call() && !is_func_addr {
            return Ok(());
        }
        let target = sec_insn as i64 + insn.imm as i64 + 1;
        let target = usize::try_from(target)
            .map_err(|_| format!("call at instruction {sec_insn} jumps before its section"))?;
        self.point_at(section, target, out)
    }

    fn apply(&mut self, out: usize, target: &RelocTarget) -> Result<(), String> {
        match target {
            RelocTarget::Map(map) => {
                let fd = self.resolver.map_fd(*map);
                self.patch_ld_imm64(out, BPF_PSEUDO_MAP_FD, fd, 0)
            }
            RelocTarget::MapValue { map, offset } => {
                let fd = self.resolver.map_fd(*map);
                self.patch_ld_imm64(out, BPF_PSEUDO_MAP_VALUE, fd, *offset as i32)
            }
            RelocTarget::Function {
                section: elf_index,
                insn_offset,
            } => {
                let target_section = self
                    .sections
                    .iter()
                    .position(|s| s.index == *elf_index)
                    .ok_or_else(|| format!("call into unknown section #{elf_index}"))?;
                self.point_at(target_section, *insn_offset, out)
            }
            RelocTarget::Extern(name) => self.extern_call(out, name),
        }
    }

    fn patch_ld_imm64(&mut self, out: usize, src: u8, imm: i32, imm2: i32) -> Result<(), String> {
        if !self.out[out].is_ld_imm64() || out + 1 >= self.out.len() {
            return Err(format!("instruction {out} should be ld_imm64"));
        }
        self.out[out].src = src;
        self.out[out].imm = imm;
        self.out[out + 1].imm = imm2;
        Ok(())
    }

    fn extern_call(&mut self, out: usize, name: &str) -> Result<(), String> {
        let insn = self.out[out];
        if insn.is_ld_imm64() {
            return match self.resolver.extern_variable(name)? {
                ExternVariable::MapValue { map_fd, offset } => {
                    self.patch_ld_imm64(out, BPF_PSEUDO_MAP_VALUE, map_fd, offset as i32)
                }
                ExternVariable::KernelVariable { btf_id } => {
                    self.patch_ld_imm64(out, BPF_PSEUDO_BTF_ID, btf_id as i32, 0)
                }
            };
        }
        if insn.code != CALL {
            return Err(format!(
                "extern `{name}` used by an instruction that is neither call nor ld_imm64"
            ));
        }
        let id = self
            .resolver
            .kfunc(name)
            .ok_or_else(|| format!("the kernel has no kfunc `{name}`"))?;
        let insn = &mut self.out[out];
        insn.src = BPF_PSEUDO_KFUNC_CALL;
        insn.imm = id as i32;
        insn.off = 0;
        Ok(())
    }

    /// Points the call or function address at `out` to instruction `target` of `section`,
    /// appending the function containing it if it is not linked in yet.
    fn point_at(&mut self, section: usize, target: usize, out: usize) -> Result<(), String> {
        let placed = self.chunks.iter().find(|c| c.contains(section, target));
        let target_out = match placed {
            Some(c) => c.out + (target - c.start),
            None => {
                let (start, len) = self.function_containing(section, target)?;
                self.place(section, start, len)? + (target - start)
            }
        };
        let insn = &mut self.out[out];
        if insn.is_ld_imm64() {
            insn.src = BPF_PSEUDO_FUNC;
        }
        insn.imm = (target_out as i64 - out as i64 - 1) as i32;
        Ok(())
    }

    fn function_containing(&self, section: usize, insn: usize) -> Result<(usize, usize), String> {
        let code = &self.sections[section];
        let mut starts: Vec<usize> = code.functions.iter().map(|f| f.insn_offset).collect();
        starts.sort_unstable();
        let f = code
            .functions
            .iter()
            .filter(|f| f.insn_offset <= insn)
            .max_by_key(|f| f.insn_offset)
            .ok_or_else(|| format!("no function in `{}` contains instruction {insn}", code.name))?;
        let len = if f.insn_count > 0 {
            f.insn_count
        } else {
            let next = starts.iter().find(|&&s| s > f.insn_offset);
            next.copied().unwrap_or(code.insns.len()) - f.insn_offset
        };
        if insn >= f.insn_offset + len {
            return Err(format!(
                "instruction {insn} of `{}` is in no function",
                code.name
            ));
        }
        Ok((f.insn_offset, len))
    }

    fn func_info(&self) -> Vec<FuncInfoRecord> {
        let mut records: Vec<FuncInfoRecord> = self
            .chunks
            .iter()
            .flat_map(|c| {
                let recs = &self.sections[c.section].func_info;
                recs.iter()
                    .filter(|r| c.contains(c.section, r.insn_offset as usize))
                    .map(move |r| FuncInfoRecord {
                        insn_offset: rebase(c, r.insn_offset),
                        ..*r
                    })
            })
            .collect();
        records.sort_by_key(|r| r.insn_offset);
        records
    }

    fn line_info(&self) -> Vec<LineInfoRecord> {
        let mut records: Vec<LineInfoRecord> = self
            .chunks
            .iter()
            .flat_map(|c| {
                let recs = &self.sections[c.section].line_info;
                recs.iter()
                    .filter(|r| c.contains(c.section, r.insn_offset as usize))
                    .map(move |r| LineInfoRecord {
                        insn_offset: rebase(c, r.insn_offset),
                        ..*r
                    })
            })
            .collect();
        records.sort_by_key(|r| r.insn_offset);
        records.dedup_by_key(|r| r.insn_offset);
        records
    }
}

fn rebase(chunk: &Chunk, insn_offset: u32) -> u32 {
    (chunk.out + (insn_offset as usize - chunk.start)) as u32
}

fn find_reloc(relocs: &[Relocation], insn: usize) -> Option<&Relocation> {
    let i = relocs.partition_point(|r| r.insn_index < insn);
    relocs.get(i).filter(|r| r.insn_index == insn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use whistler_bpf::Reg;
    use whistler_object::FunctionSymbol;

    struct Fds;
    impl Resolver for Fds {
        fn map_fd(&self, index: usize) -> i32 {
            100 + index as i32
        }
        fn kfunc(&self, _: &str) -> Option<u32> {
            None
        }
        fn extern_variable(&self, name: &str) -> Result<ExternVariable, String> {
            Err(format!("no extern {name}"))
        }
    }

    fn call(imm: i32) -> Insn {
        Insn::new(CALL, 0, 1, 0, imm)
    }

    fn func(name: &str, insn_offset: usize, insn_count: usize) -> FunctionSymbol {
        FunctionSymbol {
            name: name.into(),
            insn_offset,
            insn_count,
            global: false,
        }
    }

    #[test]
    fn appends_called_functions_once_and_fixes_offsets() {
        let [ld0, ld1] = Insn::ld_imm64(Reg::R1, 0, 0);
        // prog: ld map; call f (reloc into .text); call f again; exit
        let prog = CodeSection {
            name: "xdp".into(),
            index: 3,
            insns: vec![ld0, ld1, call(-1), call(-1), Insn::exit()],
            functions: vec![func("prog", 0, 5)],
            relocs: vec![
                Relocation {
                    insn_index: 0,
                    target: RelocTarget::Map(2),
                },
                Relocation {
                    insn_index: 2,
                    target: RelocTarget::Function {
                        section: 4,
                        insn_offset: 2,
                    },
                },
                Relocation {
                    insn_index: 3,
                    target: RelocTarget::Function {
                        section: 4,
                        insn_offset: 2,
                    },
                },
            ],
            line_info: vec![
                LineInfoRecord {
                    insn_offset: 0,
                    file_name_off: 1,
                    line_off: 2,
                    line_col: 3 << 10,
                },
                LineInfoRecord {
                    insn_offset: 2,
                    file_name_off: 1,
                    line_off: 5,
                    line_col: 9 << 10,
                },
            ],
            ..Default::default()
        };
        // .text: g (2 insns, unused) then f, which calls g by relative offset.
        let text = CodeSection {
            name: ".text".into(),
            index: 4,
            insns: vec![
                Insn::mov64_imm(Reg::R0, 1),
                Insn::exit(),
                call(-3),
                Insn::exit(),
            ],
            functions: vec![func("g", 0, 2), func("f", 2, 2)],
            func_info: vec![
                FuncInfoRecord {
                    insn_offset: 0,
                    type_id: 7,
                },
                FuncInfoRecord {
                    insn_offset: 2,
                    type_id: 8,
                },
            ],
            ..Default::default()
        };
        let program = ParsedProgram {
            name: "prog".into(),
            section: "xdp".into(),
            code_section: 0,
            insn_offset: 0,
            insn_count: 5,
        };
        let linked = link_program(&[prog, text], &program, &Fds).unwrap();
        // prog (0..5), f (5..7), g (7..9)
        assert_eq!(linked.insns.len(), 9);
        assert_eq!((linked.insns[0].src, linked.insns[0].imm), (1, 102));
        assert_eq!(linked.insns[2].imm, 5 - 3);
        assert_eq!(linked.insns[3].imm, 5 - 4);
        assert_eq!(linked.insns[5].imm, 7 - 6);
        let func_offsets: Vec<u32> = linked.func_info.iter().map(|r| r.insn_offset).collect();
        assert_eq!(func_offsets, vec![5, 7]);
        assert_eq!(linked.line_info.len(), 2);
    }
}
