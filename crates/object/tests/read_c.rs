//! `parse` on objects that clang compiles from the C files in `tests/c/` during the test.
//! Without clang the tests print a skip and pass.

mod common;

use common::code_section;

use std::path::PathBuf;
use whistler_object::btf::{Btf, BtfKind};
use whistler_object::*;

/// Compiles `tests/c/<name>.c` with `clang -O2 -g -target bpf`.
fn compile(name: &str) -> Option<Vec<u8>> {
    if !common::tool_exists("clang") {
        eprintln!("skipped: clang is not installed");
        return None;
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/c/{name}.c"));
    let dir = common::scratch_dir(name);
    let out = dir.join(format!("{name}.o"));
    let multiarch = common::run("clang", &["-print-multiarch"]);
    let include = format!("-I/usr/include/{}", multiarch.trim());
    common::run(
        "clang",
        &[
            "-O2",
            "-g",
            "-target",
            "bpf",
            &include,
            "-c",
            &src.to_string_lossy(),
            "-o",
            &out.to_string_lossy(),
        ],
    );
    Some(std::fs::read(out).unwrap())
}

fn map<'a>(object: &'a ParsedObject, name: &str) -> (usize, &'a ParsedMap) {
    let i = object
        .maps
        .iter()
        .position(|m| m.name == name)
        .unwrap_or_else(|| panic!("no map {name}"));
    (i, &object.maps[i])
}

/// A map's definition as a C `struct { __uint(type, ...); ... }` gives it: type, key size, value
/// size, max entries.
fn definition(m: &ParsedMap) -> (u32, u32, u32, u32) {
    (m.map_type, m.key_size, m.value_size, m.max_entries)
}

/// Where each relocation of `section` points, in instruction order.
fn reloc_targets(section: &CodeSection) -> Vec<RelocTarget> {
    section.relocs.iter().map(|r| r.target.clone()).collect()
}

#[test]
fn global_data_sections_become_array_maps() {
    let Some(bytes) = compile("global_data") else {
        return;
    };
    let object = parse(&bytes).unwrap();
    let (data, m) = map(&object, ".data");
    assert_eq!(definition(m), (2, 4, 4, 1));
    assert_eq!(m.data.as_ref().unwrap().bytes, 5i32.to_le_bytes());
    let (rodata, m) = map(&object, ".rodata");
    let g = m.data.as_ref().unwrap();
    assert!(g.read_only && g.bytes.starts_with(&40i32.to_le_bytes()));
    let (bss, m) = map(&object, ".bss");
    assert_eq!(
        m.data.as_ref().unwrap().bytes,
        vec![0; m.value_size as usize]
    );
    assert_eq!(m.value_size, 40);
    let btf = Btf::from_bytes(object.btf.as_ref().unwrap()).unwrap();
    assert_eq!(
        btf.kind(m.btf_value_type_id).map(|k| k.btf_kind()),
        Some(BtfKind::Datasec)
    );
    // Fixed up like libbpf: DATASEC sizes are the section sizes.
    assert_eq!(btf.resolve_size(m.btf_value_type_id), Ok(40));

    let xdp = code_section(&object, "xdp");
    let targets = reloc_targets(xdp);
    // hits, zeroes, and the first variables of .data and .rodata
    for (map, offset) in [(bss, 0), (bss, 8), (data, 0), (rodata, 0)] {
        let wanted = RelocTarget::MapValue { map, offset };
        assert!(targets.contains(&wanted), "{wanted:?} in {targets:?}");
    }
    for r in &xdp.relocs {
        assert!(xdp.insns[r.insn_index].is_ld_imm64());
    }
    assert_eq!(object.programs.len(), 1);
    assert_eq!(object.license, "GPL");
}

#[test]
fn static_and_global_subprograms_are_not_programs() {
    let Some(bytes) = compile("subprograms") else {
        return;
    };
    let object = parse(&bytes).unwrap();
    let names: Vec<_> = object.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["calls"]);
    let text = code_section(&object, ".text");
    let twice = text.functions.iter().find(|f| f.name == "twice").unwrap();
    let add_one = text.functions.iter().find(|f| f.name == "add_one").unwrap();
    assert!(!twice.global && add_one.global);
    let xdp = code_section(&object, "xdp");
    let half = xdp.functions.iter().find(|f| f.name == "half").unwrap();
    assert!(!half.global);
    let calls = reloc_targets(xdp);
    assert_eq!(
        calls,
        [
            RelocTarget::Function {
                section: text.index,
                insn_offset: twice.insn_offset
            },
            RelocTarget::Function {
                section: text.index,
                insn_offset: add_one.insn_offset
            },
        ]
    );
    // func_info covers the program and its same-section subprogram, in instructions.
    let offsets: Vec<_> = xdp
        .func_info
        .iter()
        .map(|f| f.insn_offset as usize)
        .collect();
    assert_eq!(offsets, [0, half.insn_offset]);
    assert_eq!(text.func_info.len(), 2);
    assert!(xdp
        .line_info
        .windows(2)
        .all(|w| w[0].insn_offset < w[1].insn_offset));
}

#[test]
fn btf_defined_maps() {
    let Some(bytes) = compile("btf_maps") else {
        return;
    };
    let object = parse(&bytes).unwrap();
    let btf = Btf::from_bytes(object.btf.as_ref().unwrap()).unwrap();
    let (stats_index, stats) = map(&object, "stats");
    assert_eq!(definition(stats), (1, 4, 16, 64));
    assert_eq!((stats.map_flags, stats.pinning), (1, 1));
    assert_eq!(btf.name(stats.btf_value_type_id), "value");
    assert_eq!(btf.name(stats.btf_key_type_id), "int");
    let (_, events) = map(&object, "events");
    assert_eq!(definition(events), (27, 0, 0, 4096));
    let (_, seen) = map(&object, "seen");
    assert_eq!(
        (
            seen.map_type,
            seen.key_size,
            seen.value_size,
            seen.map_extra
        ),
        (30, 0, 8, 3)
    );
    let (_, perf) = map(&object, "perf");
    assert_eq!(definition(perf), (4, 4, 4, 0));
    let (jumps_index, jumps) = map(&object, "jumps");
    assert_eq!(definition(jumps), (3, 4, 4, 4));
    assert_eq!(jumps.initial_programs, [(2, "tail".to_string())]);
    let (_, outer) = map(&object, "outer");
    assert_eq!(definition(outer), (12, 4, 4, 2));
    assert_eq!(outer.initial_maps, [(1, "inner_a".to_string())]);
    let inner = outer.inner_map.as_ref().unwrap();
    assert_eq!(definition(inner), (2, 4, 8, 1));
    let xdp = code_section(&object, "xdp");
    let maps = reloc_targets(xdp);
    assert!(
        maps.contains(&RelocTarget::Map(stats_index))
            && maps.contains(&RelocTarget::Map(jumps_index))
    );
    assert_eq!(object.license, "Dual MIT/GPL");
    let names: Vec<_> = object.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["tail", "count"]);
}

#[test]
fn legacy_maps_and_version() {
    let Some(bytes) = compile("legacy_maps") else {
        return;
    };
    let object = parse(&bytes).unwrap();
    assert_eq!(object.kernel_version, 0x060100);
    let (first, m) = map(&object, "first");
    assert_eq!(
        (
            m.map_type,
            m.key_size,
            m.value_size,
            m.max_entries,
            m.map_flags
        ),
        (2, 4, 8, 2, 0)
    );
    let (second, m) = map(&object, "second");
    assert_eq!(
        (
            m.map_type,
            m.key_size,
            m.value_size,
            m.max_entries,
            m.map_flags
        ),
        (1, 8, 16, 32, 1)
    );
    let targets = reloc_targets(code_section(&object, "socket"));
    assert_eq!(targets, [RelocTarget::Map(first), RelocTarget::Map(second)]);
}

#[test]
fn two_programs_in_one_section() {
    let Some(bytes) = compile("two_programs") else {
        return;
    };
    let object = parse(&bytes).unwrap();
    let progs: Vec<_> = object
        .programs
        .iter()
        .map(|p| (p.name.as_str(), p.insn_offset, p.insn_count))
        .collect();
    assert_eq!(progs, [("pass_all", 0, 2), ("drop_all", 2, 2)]);
    assert_eq!(
        object.programs[0].code_section,
        object.programs[1].code_section
    );
    let xdp = code_section(&object, "xdp");
    assert_eq!(
        xdp.func_info
            .iter()
            .map(|f| f.insn_offset)
            .collect::<Vec<_>>(),
        [0, 2]
    );
}

#[test]
fn core_relocations_are_read() {
    let Some(bytes) = compile("core_read") else {
        return;
    };
    let object = parse(&bytes).unwrap();
    let btf = Btf::from_bytes(object.btf.as_ref().unwrap()).unwrap();
    let s = code_section(&object, "tracepoint/syscalls/sys_enter_getpid");
    assert!(s.core_relos.len() >= 3, "{:?}", s.core_relos);
    for r in &s.core_relos {
        assert_eq!(btf.name(r.type_id), "task_struct");
        assert!((r.insn_offset as usize) < s.insns.len());
        let access = btf.str_at(r.access_str_off);
        assert!(access.starts_with("0:"), "{access}");
    }
    // BPF_CORE_READ gives field byte offsets (kind 0); bpf_core_field_exists gives kind 2.
    assert!(s.core_relos.iter().any(|r| r.kind == 0));
    assert!(s.core_relos.iter().any(|r| r.kind == 2));
}

#[test]
fn damaged_objects_give_errors_not_panics() {
    let Some(bytes) = compile("btf_maps") else {
        return;
    };
    for len in (0..bytes.len()).step_by(7) {
        let _ = parse(&bytes[..len]);
    }
    let mut state = 0x2545_f491u32;
    for _ in 0..3000 {
        let mut b = bytes.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let i = state as usize % b.len();
            b[i] = (state >> 24) as u8;
        }
        let _ = parse(&b);
    }
    assert!(matches!(parse(b"not an elf"), Err(ReadError::Elf(_))));
}

#[test]
fn externs_are_left_to_the_loader() {
    let Some(bytes) = compile("externs") else {
        return;
    };
    let object = parse(&bytes).unwrap();
    let s = code_section(&object, "tp_btf/sys_enter");
    let mut names: Vec<_> = s
        .relocs
        .iter()
        .map(|r| match &r.target {
            RelocTarget::Extern(name) => name.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    names.sort();
    assert_eq!(names, ["LINUX_KERNEL_VERSION", "bpf_prog_active"]);
    for r in &s.relocs {
        assert!(s.insns[r.insn_index].is_ld_imm64());
    }
}
