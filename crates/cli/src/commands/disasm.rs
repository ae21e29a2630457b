//! `whistler disasm IN.lisp|IN.bpf.o`: readable assembly with source lines interleaved.

use super::{compile_source, CommandResult};
use crate::input::Input;
use std::path::PathBuf;
use whistler_bpf::{disasm::disassemble, Insn};

#[derive(clap::Args)]
pub struct Args {
    /// A Whistler Lisp source or a BPF ELF object.
    input: PathBuf,
}

/// A source line to print before the instruction at `insn_index`.
struct SourceNote {
    insn_index: usize,
    text: String,
}

/// What the `ld_imm64` at `insn_index` loads, by name: a map, or an address in global data.
struct Loaded {
    insn_index: usize,
    what: String,
}

pub fn run(args: Args) -> CommandResult {
    match crate::input::read(&args.input)? {
        Input::Lisp(file) => {
            let compiled = compile_source(&file, None)?;
            for prog in &compiled.spec.programs {
                let notes = prog
                    .lines
                    .iter()
                    .map(|l| SourceNote {
                        insn_index: l.insn_index,
                        text: format!(
                            "{}:{}: {}",
                            file.name,
                            l.line,
                            file.line_text(l.line).trim()
                        ),
                    })
                    .collect::<Vec<_>>();
                let maps = prog.map_relocs.iter().map(|r| Loaded {
                    insn_index: r.insn_index,
                    what: format!("map[{}]", whistler_object::symbol_name(&r.map_name)),
                });
                let data = prog.data_relocs.iter().map(|r| Loaded {
                    insn_index: r.insn_index,
                    what: format!(".rodata[{}]", hex(&r.bytes)),
                });
                let loaded: Vec<Loaded> = maps.chain(data).collect();
                print_program(&prog.name, &prog.section, &prog.insns, &notes, &loaded);
            }
        }
        Input::Object(bytes) => {
            let object = whistler_object::read::parse(&bytes)?;
            for prog in &object.programs {
                let section = &object.code_sections[prog.code_section];
                let range = prog.insn_offset..prog.insn_offset + prog.insn_count;
                let notes = object_line_notes(&object, section, range.clone());
                let loaded = object_loads(&object, section, range.clone());
                print_program(
                    &prog.name,
                    &prog.section,
                    &section.insns[range],
                    &notes,
                    &loaded,
                );
            }
        }
    }
    Ok(())
}

fn object_line_notes(
    object: &whistler_object::ParsedObject,
    section: &whistler_object::CodeSection,
    range: std::ops::Range<usize>,
) -> Vec<SourceNote> {
    let Some(strings) = object
        .btf
        .as_deref()
        .and_then(whistler_object::btf::string_section)
    else {
        return Vec::new();
    };
    section
        .line_info
        .iter()
        .filter(|l| range.contains(&(l.insn_offset as usize)))
        .map(|l| SourceNote {
            insn_index: l.insn_offset as usize - range.start,
            text: format!(
                "{}:{}: {}",
                whistler_object::btf::string_at(strings, l.file_name_off),
                l.line_col >> 10,
                whistler_object::btf::string_at(strings, l.line_off).trim()
            ),
        })
        .collect()
}

/// The maps and global data the object's `ld_imm64`s in `range` load, by their relocations.
fn object_loads(
    object: &whistler_object::ParsedObject,
    section: &whistler_object::CodeSection,
    range: std::ops::Range<usize>,
) -> Vec<Loaded> {
    use whistler_object::RelocTarget;
    let map_name = |m: usize| object.maps.get(m).map_or("?", |m| m.name.as_str());
    (section.relocs.iter())
        .filter(|r| range.contains(&r.insn_index))
        .filter_map(|r| {
            let what = match &r.target {
                RelocTarget::Map(m) => format!("map[{}]", map_name(*m)),
                RelocTarget::MapValue { map, offset } => format!("{}+{offset}", map_name(*map)),
                _ => return None,
            };
            Some(Loaded {
                insn_index: r.insn_index - range.start,
                what,
            })
        })
        .collect()
}

/// Bytes as two hex digits each, in memory order.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn print_program(
    name: &str,
    section: &str,
    insns: &[Insn],
    notes: &[SourceNote],
    loaded: &[Loaded],
) {
    println!("{name}: section {section}, {} instructions", insns.len());
    let mut notes = notes.iter().peekable();
    let mut last_note = String::new();
    for (index, text) in disassemble(insns) {
        while let Some(note) = notes.next_if(|n| n.insn_index <= index) {
            if note.text != last_note {
                println!("; {}", note.text);
                last_note.clone_from(&note.text);
            }
        }
        match loaded.iter().find(|l| l.insn_index == index) {
            Some(l) => println!("{index:5}: r{} = {} ll", insns[index].dst, l.what),
            None => println!("{index:5}: {text}"),
        }
    }
    println!();
}
