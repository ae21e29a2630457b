//! Names the kernel field behind a refused CO-RE read. A relocation whose field the running
//! kernel lacks leaves a call to an invalid helper in its place (as libbpf does), so a guarded
//! read in a branch the verifier proves dead still loads; an unguarded one makes the verifier
//! report `invalid func unknown#195896080`. The load error then says which field (from the
//! object's BTF) and which source line (from its line info) instead of the verifier's dump.

use whistler_object::btf::{Btf, Kind};
use whistler_object::{CodeSection, ParsedProgram};

use crate::core_reloc::POISON_HELPER;
use crate::error::LoadError;
use crate::programs::verifier_log::SourceLine;

/// A relocated instruction whose field the running kernel does not have.
pub(super) struct MissingField {
    pub section: String,
    /// Index in its section.
    pub insn: usize,
    /// `task_struct.real_parent`.
    pub field: String,
}

/// The CO-RE relocations of `sections` (after relocation) that left a poisoned instruction.
pub(super) fn poisoned(sections: &[CodeSection], btf: &Btf) -> Vec<MissingField> {
    let mut missing = Vec::new();
    for section in sections {
        for relo in &section.core_relos {
            let insn = relo.insn_offset as usize;
            if section.insns.get(insn).is_some_and(is_poison) {
                missing.push(MissingField {
                    section: section.name.clone(),
                    insn,
                    field: field_path(btf, relo.type_id, btf.str_at(relo.access_str_off)),
                });
            }
        }
    }
    missing
}

fn is_poison(insn: &whistler_bpf::Insn) -> bool {
    insn.code == whistler_bpf::opcode::BPF_JMP | whistler_bpf::opcode::BPF_CALL
        && insn.imm == POISON_HELPER
}

/// `root.member.member` (array indexes as `[i]`) for a CO-RE access string such as `0:3:1`.
fn field_path(btf: &Btf, root: u32, access: &str) -> String {
    let mut path = btf.name(root).to_string();
    let mut ty = root;
    for index in access
        .split(':')
        .skip(1)
        .filter_map(|i| i.parse::<usize>().ok())
    {
        ty = btf.skip_mods_and_typedefs(ty);
        match btf.kind(ty) {
            Some(Kind::Struct { members, .. } | Kind::Union { members, .. }) => {
                let Some(member) = members.get(index) else {
                    break;
                };
                let name = btf.member_name(member);
                if !name.is_empty() {
                    path.push('.');
                    path.push_str(name);
                }
                ty = member.ty;
            }
            Some(Kind::Array { elem, .. }) => {
                path.push_str(&format!("[{index}]"));
                ty = *elem;
            }
            _ => break,
        }
    }
    path
}

/// `error`, or the missing field it comes from when the verifier refused a poisoned
/// instruction of `program`. `lines` is the program's line info (linked instruction indexes).
pub(super) fn explain(
    error: LoadError,
    program: &ParsedProgram,
    missing: &[MissingField],
    lines: &[SourceLine],
) -> LoadError {
    let LoadError::Verifier { log, .. } = &error else {
        return error;
    };
    let Some(at) = poisoned_call(log) else {
        return error;
    };
    let in_program = |m: &MissingField| {
        m.section == program.section
            && (program.insn_offset..program.insn_offset + program.insn_count).contains(&m.insn)
    };
    let mut candidates = missing.iter().filter(|m| in_program(m));
    let exact = missing
        .iter()
        .find(|m| in_program(m) && m.insn == program.insn_offset + at);
    let Some(field) = exact.or_else(|| candidates.next()) else {
        return error;
    };
    let location = lines
        .iter()
        .take_while(|l| l.insn as usize <= at)
        .last()
        .map(|l| format!(" at {}:{}:{}: {}", l.file, l.line, l.col, l.text.trim()))
        .unwrap_or_default();
    LoadError::MissingKernelField {
        program: program.name.clone(),
        field: field.field.clone(),
        location,
    }
}

/// The instruction index of the poisoned call the verifier stopped at (`12: (85) call
/// unknown#195896080`).
fn poisoned_call(log: &str) -> Option<usize> {
    let call = format!("call unknown#{POISON_HELPER}");
    log.lines()
        .filter(|l| l.contains(&call))
        .find_map(|l| l.split(':').next()?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use whistler_object::btf::Member;

    #[test]
    fn access_strings_read_as_member_paths() {
        let mut btf = Btf::new();
        let int = btf.add("int", Kind::int(4, 0));
        let member = |btf: &mut Btf, name: &str, ty| Member {
            name_off: btf.add_string(name),
            ty,
            bit_offset: 0,
            bitfield_size: 0,
        };
        let members = vec![member(&mut btf, "pid", int), member(&mut btf, "tgid", int)];
        let task = btf.add(
            "task_struct",
            Kind::Struct {
                size: 8,
                members,
                bitfield_encoding: false,
            },
        );
        assert_eq!(field_path(&btf, task, "0:1"), "task_struct.tgid");
        assert_eq!(field_path(&btf, task, "0"), "task_struct");
    }

    #[test]
    fn the_poisoned_call_is_found_in_the_log() {
        let log =
            "0: (b7) r1 = 0\n1: (85) call unknown#195896080\ninvalid func unknown#195896080\n";
        assert_eq!(poisoned_call(log), Some(1));
        assert_eq!(poisoned_call("0: (95) exit\n"), None);
    }
}
