//! Map definitions: BTF-defined maps in `.maps` (decoded as libbpf's `parse_btf_map_def` does),
//! legacy `struct bpf_map_def` entries in `maps`, and global data sections (`.data`, `.rodata`,
//! `.bss`, and their `.name` variants) as single-entry array maps.

use object::SymbolKind;

use super::elf::Elf;
use super::ReadError;
use crate::btf::{Btf, BtfKind, Kind};
use crate::{GlobalData, ParsedMap};
use whistler_bpf::consts::BPF_F_RDONLY_PROG;
use whistler_bpf::MapType;

/// The maps and, for each, where it lives in the ELF file.
pub(super) struct Maps {
    pub maps: Vec<ParsedMap>,
    pub origins: Vec<Origin>,
}

/// A map's ELF section, its definition's offset there, and its name's symbol.
pub(super) struct Origin {
    pub section: usize,
    pub offset: u64,
    /// Global data maps cover the whole section.
    pub whole_section: bool,
}

impl Maps {
    /// The map defined at `offset` of `section` (a `.maps` or `maps` symbol).
    pub(super) fn at(&self, section: usize, offset: u64) -> Option<usize> {
        self.origins
            .iter()
            .position(|o| o.section == section && !o.whole_section && o.offset == offset)
    }

    /// The global data map for `section`.
    pub(super) fn global_data(&self, section: usize) -> Option<usize> {
        self.origins
            .iter()
            .position(|o| o.section == section && o.whole_section)
    }
}

pub(super) fn parse_all(elf: &Elf, btf: Option<&Btf>) -> Result<Maps, ReadError> {
    let mut maps = Maps {
        maps: Vec::new(),
        origins: Vec::new(),
    };
    if let Some(section) = elf.section_index(".maps") {
        let btf = btf.ok_or(ReadError::MapsWithoutBtf)?;
        btf_maps(elf, btf, section, &mut maps)?;
    }
    if let Some(section) = elf.section_index("maps") {
        legacy_maps(elf, section, &mut maps)?;
    }
    global_data(elf, btf, &mut maps)?;
    Ok(maps)
}

fn is_global_data(name: &str) -> bool {
    [".data", ".rodata", ".bss"].iter().any(|p| {
        name == *p
            || name
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

fn global_data(elf: &Elf, btf: Option<&Btf>, maps: &mut Maps) -> Result<(), ReadError> {
    for (index, name, bytes) in elf.sections_named(is_global_data)? {
        if bytes.is_empty() {
            continue;
        }
        let read_only = name.starts_with(".rodata");
        let value_type = btf
            .and_then(|b| b.find_by_name_kind(&name, BtfKind::Datasec))
            .unwrap_or(0);
        maps.maps.push(ParsedMap {
            map_type: MapType::ARRAY as u32,
            key_size: 4,
            value_size: bytes.len() as u32,
            max_entries: 1,
            map_flags: if read_only { BPF_F_RDONLY_PROG } else { 0 },
            btf_value_type_id: value_type,
            data: Some(GlobalData {
                section: name.clone(),
                bytes,
                read_only,
            }),
            ..empty_map(&name)
        });
        maps.origins.push(Origin {
            section: index,
            offset: 0,
            whole_section: true,
        });
    }
    Ok(())
}

/// `struct bpf_map_def` entries, one per symbol; each is `section size / symbol count` bytes.
fn legacy_maps(elf: &Elf, section: usize, maps: &mut Maps) -> Result<(), ReadError> {
    let data = elf.section_data("maps")?.unwrap_or_default();
    let mut syms: Vec<_> = elf
        .symbols_in(section)
        .filter(|s| matches!(s.kind, SymbolKind::Data | SymbolKind::Unknown))
        .collect();
    syms.sort_by_key(|s| s.value);
    if syms.is_empty() {
        return Ok(());
    }
    if data.len() % syms.len() != 0 {
        return Err(ReadError::BadLegacyMaps(format!(
            "{} bytes cannot hold {} definitions of one size",
            data.len(),
            syms.len()
        )));
    }
    let def_size = data.len() / syms.len();
    if def_size < 20 {
        return Err(ReadError::BadLegacyMaps(format!(
            "definitions of {def_size} bytes, need 20"
        )));
    }
    for s in syms {
        let field = |i: usize| {
            let at = usize::try_from(s.value)
                .ok()
                .and_then(|v| v.checked_add(i * 4));
            at.and_then(|at| data.get(at..at.checked_add(4)?))
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| {
                    ReadError::BadLegacyMaps(format!("`{}` is outside the section", s.name))
                })
        };
        maps.maps.push(ParsedMap {
            map_type: field(0)?,
            key_size: field(1)?,
            value_size: field(2)?,
            max_entries: field(3)?,
            map_flags: field(4)?,
            ..empty_map(&s.name)
        });
        maps.origins.push(Origin {
            section,
            offset: s.value,
            whole_section: false,
        });
    }
    Ok(())
}

/// One BTF map definition in `.maps`, plus the byte offset of its `values` member if any.
fn btf_maps(elf: &Elf, btf: &Btf, section: usize, maps: &mut Maps) -> Result<(), ReadError> {
    let datasec = btf
        .find_by_name_kind(".maps", BtfKind::Datasec)
        .ok_or(ReadError::MapsWithoutBtf)?;
    let Some(Kind::Datasec { vars, .. }) = btf.kind(datasec) else {
        return Err(ReadError::MapsWithoutBtf);
    };
    let mut values_members = Vec::new();
    for v in vars {
        let var_name = btf.name(v.ty);
        let Some(Kind::Var { ty, .. }) = btf.kind(v.ty) else {
            return Err(bad(var_name, "`.maps` entry is not a variable"));
        };
        let offset = elf
            .symbols_in(section)
            .find(|s| s.name == var_name)
            .map_or(v.offset as u64, |s| s.value);
        // Our writer keeps Lisp names (`pkt-count`) in symbols and C identifiers in BTF.
        let name = elf
            .symbols_in(section)
            .find(|s| s.value == offset && s.kind == SymbolKind::Data)
            .map_or(var_name, |s| s.name.as_str());
        let (map, values_offset) = map_definition(btf, name, *ty, true)?;
        maps.maps.push(map);
        maps.origins.push(Origin {
            section,
            offset,
            whole_section: false,
        });
        values_members.push((maps.maps.len() - 1, offset, values_offset));
    }
    initial_programs(elf, section, &values_members, maps);
    Ok(())
}

fn bad(map: &str, reason: &str) -> ReadError {
    ReadError::BadMap {
        map: map.to_string(),
        reason: reason.to_string(),
    }
}

/// Decodes the map definition struct `ty`; returns the map and the byte offset of `values`.
/// Only the outer map's inner definition is read: the kernel does not nest map-in-maps, and
/// a self-referencing definition must not recurse forever.
fn map_definition(
    btf: &Btf,
    name: &str,
    ty: u32,
    read_inner: bool,
) -> Result<(ParsedMap, Option<u64>), ReadError> {
    let def = btf.skip_mods_and_typedefs(ty);
    let members = match btf.kind(def) {
        Some(Kind::Struct { members, .. }) => members,
        _ => return Err(bad(name, "definition is not a struct")),
    };
    let mut map = empty_map(name);
    let mut values = None;
    for m in members {
        let field = btf.member_name(m);
        match field {
            "type" => map.map_type = uint_field(btf, name, field, m.ty)?,
            "max_entries" => map.max_entries = uint_field(btf, name, field, m.ty)?,
            "map_flags" => map.map_flags = uint_field(btf, name, field, m.ty)?,
            "pinning" => map.pinning = uint_field(btf, name, field, m.ty)?,
            "numa_node" => map.numa_node = uint_field(btf, name, field, m.ty)?,
            "map_extra" => map.map_extra = uint_field(btf, name, field, m.ty)? as u64,
            "key_size" => set_size(
                &mut map.key_size,
                uint_field(btf, name, field, m.ty)?,
                name,
                field,
            )?,
            "value_size" => set_size(
                &mut map.value_size,
                uint_field(btf, name, field, m.ty)?,
                name,
                field,
            )?,
            "key" => {
                let (id, size) = pointee(btf, name, field, m.ty)?;
                set_size(&mut map.key_size, size, name, field)?;
                map.btf_key_type_id = id;
            }
            "value" => {
                let (id, size) = pointee(btf, name, field, m.ty)?;
                set_size(&mut map.value_size, size, name, field)?;
                map.btf_value_type_id = id;
            }
            "values" => {
                values = Some(*m);
                // `values` of a map-in-map or prog array: the value is a 4-byte fd/id.
                if map.value_size == 0 {
                    map.value_size = 4;
                }
            }
            _ => {} // fields newer than this reader: not needed to load
        }
    }
    if map.map_type == 0 {
        return Err(bad(name, "no `type` member"));
    }
    let is_map_in_map = [MapType::ARRAY_OF_MAPS, MapType::HASH_OF_MAPS]
        .iter()
        .any(|t| *t as u32 == map.map_type);
    if let (true, true, Some(values)) = (read_inner, is_map_in_map, values) {
        map.inner_map = inner_map_definition(btf, name, values.ty)?.map(Box::new);
    }
    Ok((map, values.map(|m| m.bit_offset as u64 / 8)))
}

/// A map with only its name set.
fn empty_map(name: &str) -> ParsedMap {
    ParsedMap {
        name: name.to_string(),
        map_type: 0,
        key_size: 0,
        value_size: 0,
        max_entries: 0,
        map_flags: 0,
        pinning: 0,
        btf_key_type_id: 0,
        btf_value_type_id: 0,
        data: None,
        initial_programs: Vec::new(),
        inner_map: None,
        initial_maps: Vec::new(),
        map_extra: 0,
        numa_node: 0,
    }
}

/// `__array(values, struct inner)` is an array of pointers to the inner map's definition.
fn inner_map_definition(
    btf: &Btf,
    outer: &str,
    values: u32,
) -> Result<Option<ParsedMap>, ReadError> {
    let Some(Kind::Array { elem, .. }) = btf.kind(btf.skip_mods_and_typedefs(values)) else {
        return Err(bad(outer, "`values` is not an array"));
    };
    let Some(Kind::Ptr { ty }) = btf.kind(btf.skip_mods_and_typedefs(*elem)) else {
        return Err(bad(outer, "`values` is not an array of pointers"));
    };
    let inner = btf.skip_mods_and_typedefs(*ty);
    if !matches!(btf.kind(inner), Some(Kind::Struct { .. })) {
        return Ok(None);
    }
    let (map, _) = map_definition(btf, &format!("{outer}.inner"), inner, false)?;
    Ok(Some(map))
}

/// `int (*name)[N]` gives N.
fn uint_field(btf: &Btf, map: &str, field: &str, ty: u32) -> Result<u32, ReadError> {
    let reason = || bad(map, &format!("`{field}` is not a pointer to an array"));
    let Some(Kind::Ptr { ty: target }) = btf.kind(btf.skip_mods_and_typedefs(ty)) else {
        return Err(reason());
    };
    match btf.kind(*target) {
        Some(Kind::Array { nelems, .. }) => Ok(*nelems),
        _ => Err(reason()),
    }
}

/// `T *name` gives T's id and size.
fn pointee(btf: &Btf, map: &str, field: &str, ty: u32) -> Result<(u32, u32), ReadError> {
    let Some(Kind::Ptr { ty: target }) = btf.kind(btf.skip_mods_and_typedefs(ty)) else {
        return Err(bad(map, &format!("`{field}` is not a pointer")));
    };
    let size = btf
        .resolve_size(*target)
        .map_err(|e| bad(map, &format!("`{field}`: {e}")))?;
    Ok((*target, size))
}

fn set_size(slot: &mut u32, size: u32, map: &str, field: &str) -> Result<(), ReadError> {
    if *slot != 0 && *slot != size {
        return Err(bad(
            map,
            &format!(
                "`{field}` disagrees with the size given before ({} vs {size})",
                *slot
            ),
        ));
    }
    *slot = size;
    Ok(())
}

/// `values = { [i] = &prog }` (or `&map` for map-in-map): relocations in `.rel.maps` point
/// slot `i` at a program or map symbol.
fn initial_programs(
    elf: &Elf,
    section: usize,
    values: &[(usize, u64, Option<u64>)],
    maps: &mut Maps,
) {
    for (offset, sym) in elf.relocations(section) {
        let Some(sym) = elf.symbol(sym) else { continue };
        let slot = values
            .iter()
            .filter(|(_, start, _)| *start <= offset)
            .max_by_key(|(_, start, _)| *start);
        let Some(&(map, start, Some(values_offset))) = slot else {
            continue;
        };
        let Some(rel) = (offset - start).checked_sub(values_offset) else {
            continue;
        };
        let entry = ((rel / 8) as u32, sym.name.clone());
        if sym.section == Some(section) {
            maps.maps[map].initial_maps.push(entry);
        } else {
            maps.maps[map].initial_programs.push(entry);
        }
    }
}
