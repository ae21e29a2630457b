//! Where each instruction of each program goes. Program sections hold the programs' main
//! bodies, one after another; `.text` holds their subprograms (everything from a program's first
//! bpf-to-bpf call or callback target on), because libbpf only follows calls into `.text`. A
//! call or function-address load from a main body into its subprograms becomes a relocation
//! against `.text`.

use std::ops::Range;

use super::subprograms;
use crate::ProgramSpec;
use whistler_bpf::Insn;

/// A main body, or one subprogram (from one call target to the next).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PieceKind {
    Main,
    Subprogram,
}

/// A run of one program's instructions placed in one section.
#[derive(Clone, Debug)]
pub(super) struct Piece {
    pub program: usize,
    /// Instruction range within the program.
    pub range: Range<usize>,
    /// First instruction's index within the section.
    pub offset: usize,
    pub kind: PieceKind,
}

#[derive(Debug)]
pub(super) struct Section<'a> {
    pub name: &'a str,
    pub pieces: Vec<Piece>,
    pub len: usize,
}

#[derive(Debug)]
pub(super) struct Layout<'a> {
    /// Program sections in order of first use, then `.text` if any program has subprograms.
    pub sections: Vec<Section<'a>>,
}

/// A call or function-address load in a main body that refers to a subprogram.
pub(super) struct CrossReference {
    /// The instruction's index within its section.
    pub at: usize,
    /// The target's index within `.text`.
    pub target: usize,
    /// True for a call, false for an `ld_imm64` of the function's address.
    pub is_call: bool,
}

impl<'a> Layout<'a> {
    pub(super) fn new(programs: &'a [ProgramSpec]) -> Layout<'a> {
        let mut sections: Vec<Section<'a>> = Vec::new();
        let mut text = Section {
            name: ".text",
            pieces: Vec::new(),
            len: 0,
        };
        for (i, p) in programs.iter().enumerate() {
            let starts = subprograms::starts(&p.insns);
            let main_end = starts.first().copied().unwrap_or(p.insns.len());
            let section = section_for(&mut sections, &p.section);
            push(section, i, 0..main_end, PieceKind::Main);
            let ends = starts.iter().skip(1).copied().chain([p.insns.len()]);
            for (start, end) in starts.iter().copied().zip(ends) {
                push(&mut text, i, start..end, PieceKind::Subprogram);
            }
        }
        if !text.pieces.is_empty() {
            sections.push(text);
        }
        Layout { sections }
    }

    /// Every piece with its section's index.
    pub(super) fn pieces(&self) -> impl Iterator<Item = (usize, &Piece)> + '_ {
        self.sections
            .iter()
            .enumerate()
            .flat_map(|(s, sec)| sec.pieces.iter().map(move |p| (s, p)))
    }

    /// The section and the index in it of instruction `insn` of program `program`.
    pub(super) fn locate(&self, program: usize, insn: usize) -> Option<(usize, usize)> {
        self.pieces()
            .find(|(_, p)| p.program == program && p.range.contains(&insn))
            .map(|(s, p)| (s, p.offset + insn - p.range.start))
    }

    /// The instructions of section `s`, with references into `.text` pointing at their targets
    /// relative to the `.text` section symbol, as clang emits them for static functions: a
    /// call's imm counts instructions from the next one, an address load's imm is a byte offset.
    pub(super) fn section_insns(&self, s: usize, programs: &[ProgramSpec]) -> Vec<Insn> {
        let section = &self.sections[s];
        let mut insns = Vec::with_capacity(section.len);
        for piece in &section.pieces {
            insns.extend_from_slice(&programs[piece.program].insns[piece.range.clone()]);
        }
        for r in self.cross_references(s, programs) {
            insns[r.at].imm = if r.is_call {
                r.target as i32 - 1
            } else {
                r.target as i32 * 8
            };
        }
        insns
    }

    /// References in section `s` from a main body into its subprograms in `.text`.
    pub(super) fn cross_references(
        &self,
        s: usize,
        programs: &[ProgramSpec],
    ) -> Vec<CrossReference> {
        let mut refs = Vec::new();
        for piece in self.sections[s]
            .pieces
            .iter()
            .filter(|p| p.kind == PieceKind::Main)
        {
            let insns = &programs[piece.program].insns;
            for i in piece.range.clone() {
                let Some(target) = subprograms::reference_target(insns, i) else {
                    continue;
                };
                if piece.range.contains(&target) {
                    continue;
                }
                if let Some((_, at_text)) = self.locate(piece.program, target) {
                    refs.push(CrossReference {
                        at: piece.offset + i - piece.range.start,
                        target: at_text,
                        is_call: insns[i].is_pseudo_call(),
                    });
                }
            }
        }
        refs
    }
}

fn section_for<'s, 'a>(sections: &'s mut Vec<Section<'a>>, name: &'a str) -> &'s mut Section<'a> {
    let pos = match sections.iter().position(|s| s.name == name) {
        Some(pos) => pos,
        None => {
            sections.push(Section {
                name,
                pieces: Vec::new(),
                len: 0,
            });
            sections.len() - 1
        }
    };
    &mut sections[pos]
}

fn push(section: &mut Section, program: usize, range: Range<usize>, kind: PieceKind) {
    let len = range.len();
    section.pieces.push(Piece {
        program,
        range,
        offset: section.len,
        kind,
    });
    section.len += len;
}
