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
                print_program(&prog.name, &prog.section, &prog.insns, &notes);
            }
        }
        Input::Object(bytes) => {
            let object = whistler_object::read::parse(&bytes)?;
            for prog in &object.programs {
                let section = &object.code_sections[prog.code_section];
                let range = prog.insn_offset..prog.insn_offset + prog.insn_count;
                let notes = object_line_notes(&object, section, range.clone());
                print_program(&prog.name, &prog.section, &section.insns[range], &notes);
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

fn print_program(name: &str, section: &str, insns: &[Insn], notes: &[SourceNote]) {
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
        println!("{index:5}: {text}");
    }
    println!();
}
