//! Loading a whole BPF object: parse the ELF, load its BTF, create its maps, resolve CO-RE
//! relocations against the kernel's BTF, link each program with the functions it calls, patch
//! map references, load every program and fill program arrays. [`Object`] then owns it all.

mod kconfig;
mod linker;
mod maps;
mod missing_fields;

use std::cell::OnceCell;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;

use whistler_object::btf::Btf;
use whistler_object::{CodeSection, FuncInfoRecord, LineInfoRecord, ParsedObject, ParsedProgram};

use crate::btf_load::{load_btf, LoadedBtf};
use crate::error::LoadError;
use crate::kernel_btf::{attach_btf_id, kernel_btf, KernelBtf};
use crate::maps::{Map, UpdateFlags};
use crate::options::LoadOptions;
use crate::programs::verifier_log::SourceLine;
use crate::programs::{program_kind, Program, ProgramLoad};
use crate::sys::bpf;

pub use linker::{link_program, ExternVariable, LinkedProgram, Resolver};

/// A loaded object: its programs and maps, by name.
#[derive(Debug)]
pub struct Object {
    programs: Vec<Program>,
    maps: Vec<Map>,
    license: String,
}

impl Object {
    /// Parses and loads `bytes` (an ELF BPF object from our compiler or from clang).
    pub fn load(bytes: &[u8], options: &LoadOptions) -> Result<Object, LoadError> {
        let parsed = whistler_object::parse(bytes).map_err(|e| LoadError::Object(e.to_string()))?;
        Object::load_parsed(parsed, options)
    }

    /// Loads an object already parsed.
    pub fn load_parsed(parsed: ParsedObject, options: &LoadOptions) -> Result<Object, LoadError> {
        bpf::bump_memlock_rlimit();
        let btf = match &parsed.btf {
            Some(bytes) => {
                Some(Btf::from_bytes(bytes).map_err(|e| LoadError::Object(e.to_string()))?)
            }
            None => None,
        };
        maps::check_overrides_found(&parsed.maps, btf.as_ref(), options)?;
        let loaded_btf = btf.as_ref().map(load_btf);
        let btf_fd = loaded_btf.as_ref().and_then(LoadedBtf::fd);
        let map_btf = btf.as_ref().zip(btf_fd.map(|fd| fd.as_fd()));
        let existing_pins = maps::existing_pins(&parsed.maps, options);
        let mut maps = maps::create_maps(&parsed.maps, map_btf, options)?;
        let programs = load_programs(&parsed, btf.as_ref(), loaded_btf.as_ref(), &maps, options);
        let (programs, kconfig) = match programs {
            Ok(loaded) => loaded,
            Err(e) => {
                maps::remove_new_pins(&mut maps, &existing_pins);
                return Err(e);
            }
        };
        maps.extend(kconfig.map(|k| k.map));
        Ok(Object {
            programs,
            maps,
            license: parsed.license,
        })
    }

    /// The program named `name`. A Lisp name (`count-packets`) also finds the C identifier the
    /// object writer made of it (`count_packets`).
    pub fn program(&self, name: &str) -> Option<&Program> {
        let i = position(&self.programs, name, Program::name)?;
        Some(&self.programs[i])
    }

    /// The program named `name`, mutable (to pin or unpin it).
    pub fn program_mut(&mut self, name: &str) -> Option<&mut Program> {
        let i = position(&self.programs, name, Program::name)?;
        Some(&mut self.programs[i])
    }

    /// Every program, in the object's section order.
    pub fn programs(&self) -> impl Iterator<Item = &Program> {
        self.programs.iter()
    }

    /// The map named `name` (a Lisp name also finds its C identifier, as for programs).
    pub fn map(&self, name: &str) -> Option<&Map> {
        let i = position(&self.maps, name, Map::name)?;
        Some(&self.maps[i])
    }

    /// The map named `name`, mutable (to pin or unpin it).
    pub fn map_mut(&mut self, name: &str) -> Option<&mut Map> {
        let i = position(&self.maps, name, Map::name)?;
        Some(&mut self.maps[i])
    }

    /// Every map, in the object's order (global data maps included, named after their section).
    pub fn maps(&self) -> impl Iterator<Item = &Map> {
        self.maps.iter()
    }

    /// Puts program `program` at `index` of program array `map` (for tail calls by name).
    pub fn set_program_array_slot(
        &self,
        map: &str,
        index: u32,
        program: &str,
    ) -> Result<(), LoadError> {
        let target = self
            .map(map)
            .ok_or_else(|| LoadError::NoSuchMap(map.into()))?;
        let program = self
            .program(program)
            .ok_or_else(|| LoadError::NoSuchProgram(program.into()))?;
        let fd = program.as_fd().as_raw_fd() as u32;
        target
            .update(&index.to_ne_bytes(), &fd.to_ne_bytes(), UpdateFlags::Any)
            .map_err(|source| LoadError::Map {
                map: map.into(),
                source,
            })
    }

    /// Takes a program out of the object (it stays loaded while the returned value lives).
    pub fn take_program(&mut self, name: &str) -> Option<Program> {
        let i = position(&self.programs, name, Program::name)?;
        Some(self.programs.remove(i))
    }

    /// Takes a map out of the object.
    pub fn take_map(&mut self, name: &str) -> Option<Map> {
        let i = position(&self.maps, name, Map::name)?;
        Some(self.maps.remove(i))
    }

    /// Every program and map, for callers that organize them their own way.
    pub fn into_parts(self) -> (Vec<Program>, Vec<Map>) {
        (self.programs, self.maps)
    }

    /// The object's `license` section (`GPL`...), which decides the helpers its programs may call.
    pub fn license(&self) -> &str {
        &self.license
    }
}

/// Everything after the maps: kconfig, CO-RE, linking and loading each program, program arrays.
fn load_programs(
    parsed: &ParsedObject,
    btf: Option<&Btf>,
    loaded_btf: Option<&LoadedBtf>,
    maps: &[Map],
    options: &LoadOptions,
) -> Result<(Vec<Program>, Option<kconfig::Kconfig>), LoadError> {
    let btf_fd = loaded_btf.and_then(LoadedBtf::fd);
    let btf_refusal = match loaded_btf {
        Some(LoadedBtf::Refused { log }) => Some(log.as_str()),
        _ => None,
    };
    let kconfig = kconfig::create(btf)?;
    let kernel = LazyKernelBtf::new(options);
    let sections = relocate_core(parsed, btf, &kernel)?;
    let missing_fields = btf.map_or_else(Vec::new, |btf| missing_fields::poisoned(&sections, btf));
    let context = LoadContext {
        missing_fields: &missing_fields,
        parsed,
        sections: &sections,
        btf: btf.filter(|_| btf_fd.is_some()),
        object_btf: btf,
        btf_refusal,
        btf_fd: btf_fd.map(|fd| fd.as_fd()),
        maps,
        kconfig: kconfig.as_ref(),
        kernel: &kernel,
        options,
    };
    let programs = parsed
        .programs
        .iter()
        .map(|p| context.load_program(p))
        .collect::<Result<Vec<_>, _>>()?;
    fill_program_arrays(parsed, maps, &programs)?;
    Ok((programs, kconfig))
}

/// Where `name` is in `items`: an exact match first, else the one named `name`'s
/// [`whistler_object::symbol_name`] (how Whistler writes a Lisp name such as `pkt-count`).
fn position<T>(items: &[T], name: &str, name_of: impl Fn(&T) -> &str) -> Option<usize> {
    items.iter().position(|t| name_of(t) == name).or_else(|| {
        let c_name = whistler_object::symbol_name(name);
        items.iter().position(|t| name_of(t) == c_name)
    })
}

/// The kernel BTF, read only when a CO-RE relocation, kfunc or tracing program needs it.
struct LazyKernelBtf<'a> {
    options: &'a LoadOptions,
    btf: OnceCell<Result<Arc<KernelBtf>, String>>,
}

impl<'a> LazyKernelBtf<'a> {
    fn new(options: &'a LoadOptions) -> Self {
        LazyKernelBtf {
            options,
            btf: OnceCell::new(),
        }
    }

    fn get(&self) -> Result<&KernelBtf, LoadError> {
        let path = self.options.kernel_btf.as_deref();
        let loaded = self
            .btf
            .get_or_init(|| kernel_btf(path).map_err(|e| e.to_string()));
        loaded.as_deref().map_err(|message| LoadError::KernelBtf {
            path: path
                .unwrap_or(crate::kernel_btf::VMLINUX_BTF.as_ref())
                .into(),
            message: message.clone(),
        })
    }
}

/// The code sections with CO-RE relocations applied (a copy; the parsed object is untouched).
fn relocate_core(
    parsed: &ParsedObject,
    btf: Option<&Btf>,
    kernel: &LazyKernelBtf<'_>,
) -> Result<Vec<CodeSection>, LoadError> {
    let mut sections = parsed.code_sections.clone();
    let needs_core = sections.iter().any(|s| !s.core_relos.is_empty());
    let (true, Some(local)) = (needs_core, btf) else {
        return Ok(sections);
    };
    let target = kernel.get()?;
    for section in &mut sections {
        crate::core_reloc::relocate_section(section, local, target).map_err(|e| {
            LoadError::Core {
                program: program_at(parsed, &section.name, e.insn),
                index: e.index,
                message: e.message,
            }
        })?;
    }
    Ok(sections)
}

/// The program of `section` that holds instruction `insn` (for error messages).
fn program_at(parsed: &ParsedObject, section: &str, insn: usize) -> String {
    parsed
        .programs
        .iter()
        .find(|p| {
            p.section == section && (p.insn_offset..p.insn_offset + p.insn_count).contains(&insn)
        })
        .map_or_else(
            || format!("{section} (instruction {insn})"),
            |p| p.name.clone(),
        )
}

struct LoadContext<'a> {
    parsed: &'a ParsedObject,
    sections: &'a [CodeSection],
    /// Relocated reads of fields the running kernel lacks.
    missing_fields: &'a [missing_fields::MissingField],
    /// The object's BTF, only when the kernel accepted it.
    btf: Option<&'a Btf>,
    /// The object's BTF whether or not the kernel took it (for source lines in errors).
    object_btf: Option<&'a Btf>,
    /// The kernel's log when it refused the object's BTF.
    btf_refusal: Option<&'a str>,
    btf_fd: Option<std::os::fd::BorrowedFd<'a>>,
    maps: &'a [Map],
    kconfig: Option<&'a kconfig::Kconfig>,
    kernel: &'a LazyKernelBtf<'a>,
    options: &'a LoadOptions,
}

impl Resolver for LoadContext<'_> {
    fn map_fd(&self, index: usize) -> i32 {
        self.maps[index].as_fd().as_raw_fd()
    }

    fn kfunc(&self, name: &str) -> Option<u32> {
        let kernel = self.kernel.get().ok()?;
        kernel.find(name, whistler_object::btf::BtfKind::Func)
    }

    fn extern_variable(&self, name: &str) -> Result<ExternVariable, String> {
        if let Some(k) = self.kconfig {
            if let Some(&offset) = k.offsets.get(name) {
                let map_fd = k.map.as_fd().as_raw_fd();
                return Ok(ExternVariable::MapValue { map_fd, offset });
            }
        }
        let kernel = self.kernel.get().map_err(|e| e.to_string())?;
        let btf_id = kernel
            .find(name, whistler_object::btf::BtfKind::Var)
            .ok_or_else(|| {
                format!("extern `{name}` is neither a __kconfig nor a kernel variable")
            })?;
        Ok(ExternVariable::KernelVariable { btf_id })
    }
}

impl LoadContext<'_> {
    fn load_program(&self, p: &ParsedProgram) -> Result<Program, LoadError> {
        let (program_type, expected_attach_type) = program_kind(&p.name, &p.section, self.options)?;
        let kernel_btf = self.options.kernel_btf.as_deref();
        let attach_btf_id = attach_btf_id(program_type, &p.section, kernel_btf)?;
        let linked =
            link_program(self.sections, p, self).map_err(|message| LoadError::Relocation {
                program: p.name.clone(),
                message,
            })?;
        let (func_info, line_info) = match self.btf {
            Some(_) => (
                encode_func_info(&linked.func_info),
                encode_line_info(&linked.line_info),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let source_lines = self.source_lines(&linked.line_info);
        Program::load(&ProgramLoad {
            name: &p.name,
            section: &p.section,
            program_type,
            expected_attach_type,
            attach_btf_id,
            insns: &linked.insns,
            license: &self.parsed.license,
            kern_version: self.parsed.kernel_version,
            btf: self.btf_fd,
            func_info: &func_info,
            line_info: &line_info,
            source_lines: &source_lines,
            log_level: self.options.log_level,
            log_size: self.options.log_size,
        })
        .map_err(|e| self.note_refused_btf(e))
        .map_err(|e| missing_fields::explain(e, p, self.missing_fields, &source_lines))
    }

    /// A refusal after the kernel refused the object's BTF may come from the missing BTF
    /// (callbacks and global functions need func_info): say so.
    fn note_refused_btf(&self, error: LoadError) -> LoadError {
        let (
            LoadError::Verifier {
                program,
                log,
                summary,
            },
            Some(btf_log),
        ) = (&error, self.btf_refusal)
        else {
            return error;
        };
        let reason = btf_log.lines().last().unwrap_or(btf_log);
        LoadError::Verifier {
            program: program.clone(),
            log: log.clone(),
            summary: format!(
                "{summary}; note: the kernel refused the object's BTF ({reason}), so it \
                 was loaded without func_info and line_info"
            ),
        }
    }

    fn source_lines(&self, records: &[LineInfoRecord]) -> Vec<SourceLine> {
        let Some(btf) = self.object_btf else {
            return Vec::new();
        };
        records
            .iter()
            .map(|r| SourceLine {
                insn: r.insn_offset,
                file: btf.str_at(r.file_name_off).to_string(),
                line: r.line_col >> 10,
                col: r.line_col & 0x3ff,
                text: btf.str_at(r.line_off).to_string(),
            })
            .collect()
    }
}

fn encode_func_info(records: &[FuncInfoRecord]) -> Vec<u8> {
    records
        .iter()
        .flat_map(|r| [r.insn_offset, r.type_id])
        .flat_map(u32::to_ne_bytes)
        .collect()
}

fn encode_line_info(records: &[LineInfoRecord]) -> Vec<u8> {
    records
        .iter()
        .flat_map(|r| [r.insn_offset, r.file_name_off, r.line_off, r.line_col])
        .flat_map(u32::to_ne_bytes)
        .collect()
}

/// Puts each program array's declared programs (`values = { [i] = &prog }`) at their index.
fn fill_program_arrays(
    parsed: &ParsedObject,
    maps: &[Map],
    programs: &[Program],
) -> Result<(), LoadError> {
    for (parsed_map, map) in parsed.maps.iter().zip(maps) {
        for (index, name) in &parsed_map.initial_programs {
            let program = programs
                .iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| LoadError::NoSuchProgram(name.clone()))?;
            let fd = program.as_fd().as_raw_fd() as u32;
            map.update(&index.to_ne_bytes(), &fd.to_ne_bytes(), UpdateFlags::Any)
                .map_err(|source| LoadError::Map {
                    map: map.name().to_string(),
                    source,
                })?;
        }
    }
    Ok(())
}
