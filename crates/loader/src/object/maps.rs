//! Creating an object's maps: sizes overridden by name, BTF key/value types when the kernel takes
//! them, pinning by name (reusing a compatible pin), and global data written (with `.rodata`
//! overrides) and frozen.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use whistler_object::btf::{Btf, Kind};
use whistler_object::ParsedMap;

use crate::error::{LoadError, MapError};
use crate::maps::{CreateOptions, Map, MapDefinition, UpdateFlags};
use crate::options::{LoadOptions, RodataTarget};

/// `LIBBPF_PIN_BY_NAME`.
const PIN_BY_NAME: u32 = 1;
const DEFAULT_PIN_DIR: &str = "/sys/fs/bpf";

/// Creates (or opens from their pins) every map of the object, in order, then puts the maps
/// that map-in-map definitions name into their outer maps.
pub fn create_maps(
    parsed: &[ParsedMap],
    btf: Option<(&Btf, BorrowedFd<'_>)>,
    options: &LoadOptions,
) -> Result<Vec<Map>, LoadError> {
    let existing = existing_pins(parsed, options);
    let mut maps = Vec::with_capacity(parsed.len());
    for m in parsed {
        match create_map(m, btf, options) {
            Ok(map) => maps.push(map),
            Err(e) => {
                remove_new_pins(&mut maps, &existing);
                return Err(e);
            }
        }
    }
    if let Err(e) = fill_outer_maps(parsed, &maps) {
        remove_new_pins(&mut maps, &existing);
        return Err(e);
    }
    Ok(maps)
}

fn fill_outer_maps(parsed: &[ParsedMap], maps: &[Map]) -> Result<(), LoadError> {
    for (outer_def, outer) in parsed.iter().zip(maps) {
        for (index, name) in &outer_def.initial_maps {
            let inner = maps
                .iter()
                .find(|m| m.name() == name)
                .ok_or_else(|| LoadError::NoSuchMap(name.clone()))?;
            let fd = inner.as_fd().as_raw_fd() as u32;
            outer
                .update(&index.to_ne_bytes(), &fd.to_ne_bytes(), UpdateFlags::Any)
                .map_err(map_error(outer_def))?;
        }
    }
    Ok(())
}

fn map_error(map: &ParsedMap) -> impl FnOnce(MapError) -> LoadError + '_ {
    move |source| LoadError::Map {
        map: map.name.clone(),
        source,
    }
}

fn create_map(
    parsed: &ParsedMap,
    btf: Option<(&Btf, BorrowedFd<'_>)>,
    options: &LoadOptions,
) -> Result<Map, LoadError> {
    let def = definition(parsed, options);
    let pin_path = pin_path(parsed, options);
    if let Some(path) = pin_path.as_deref().filter(|p| p.exists()) {
        return reuse_pin(parsed, &def, path);
    }
    let mut map = create_with_fallback(parsed, &def, btf.map(|(_, fd)| fd))?;
    if let Some(data) = &parsed.data {
        let mut bytes = data.bytes.clone();
        if data.read_only {
            apply_rodata_overrides(&data.section, &mut bytes, btf.map(|(b, _)| b), options)?;
        }
        write_global_data(&map, &bytes, data.read_only).map_err(map_error(parsed))?;
    }
    if let Some(path) = pin_path {
        map.pin(&path).map_err(map_error(parsed))?;
    }
    Ok(map)
}

fn definition(parsed: &ParsedMap, options: &LoadOptions) -> MapDefinition {
    let max_entries = options.max_entries.get(&parsed.name).copied();
    MapDefinition {
        name: parsed.name.clone(),
        map_type: parsed.map_type,
        key_size: parsed.key_size,
        value_size: parsed.value_size,
        max_entries: max_entries.unwrap_or(parsed.max_entries),
        map_flags: parsed.map_flags,
        map_extra: 0,
    }
}

/// With BTF types when the object has them; without when the kernel refuses those. Map-in-map
/// types get a template of their inner map, closed once the outer map exists.
fn create_with_fallback(
    parsed: &ParsedMap,
    def: &MapDefinition,
    btf: Option<BorrowedFd<'_>>,
) -> Result<Map, LoadError> {
    let template = match &parsed.inner_map {
        Some(inner) => Some(Map::create(&inner_definition(inner)).map_err(map_error(parsed))?),
        None => None,
    };
    let mut options = CreateOptions {
        inner_map: template.as_ref().map(Map::as_fd),
        ..Default::default()
    };
    let has_types = parsed.btf_key_type_id != 0 || parsed.btf_value_type_id != 0;
    if let (Some(btf), true) = (btf, has_types) {
        let typed = CreateOptions {
            btf: Some(btf),
            btf_key_type_id: parsed.btf_key_type_id,
            btf_value_type_id: parsed.btf_value_type_id,
            ..options
        };
        if let Ok(map) = Map::create_with(def, &typed) {
            return Ok(map);
        }
        options.btf = None;
    }
    Map::create_with(def, &options).map_err(map_error(parsed))
}

fn inner_definition(inner: &ParsedMap) -> MapDefinition {
    MapDefinition {
        name: inner.name.clone(),
        map_type: inner.map_type,
        key_size: inner.key_size,
        value_size: inner.value_size,
        max_entries: inner.max_entries.max(1),
        map_flags: inner.map_flags,
        map_extra: 0,
    }
}

/// The pins this load would reuse because they exist already.
pub fn existing_pins(parsed: &[ParsedMap], options: &LoadOptions) -> Vec<PathBuf> {
    parsed
        .iter()
        .filter_map(|m| pin_path(m, options))
        .filter(|p| p.exists())
        .collect()
}

/// Removes the pins a failed load made (those not in `existing`), so that a load that fails
/// leaves nothing pinned behind.
pub fn remove_new_pins(maps: &mut [Map], existing: &[PathBuf]) {
    for map in maps {
        let is_new = map
            .pinned_path()
            .is_some_and(|p| !existing.iter().any(|e| e == p));
        if is_new {
            let _ = map.unpin();
        }
    }
}

/// Where a map is pinned: maps declared `pinning = LIBBPF_PIN_BY_NAME`, and with
/// `pin_all_maps` every other map but read-only global data (`.rodata`: constants the object
/// recreates at each load), under its name with `.` as `_` (bpffs refuses dots, as libbpf does).
fn pin_path(parsed: &ParsedMap, options: &LoadOptions) -> Option<PathBuf> {
    let constants = parsed.data.as_ref().is_some_and(|d| d.read_only);
    if parsed.pinning != PIN_BY_NAME && (!options.pin_all_maps || constants) {
        return None;
    }
    let dir = options
        .pin_dir
        .as_deref()
        .unwrap_or(Path::new(DEFAULT_PIN_DIR));
    Some(dir.join(parsed.name.replace('.', "_")))
}

/// Opens a pinned map and checks it is the one the object describes.
fn reuse_pin(parsed: &ParsedMap, def: &MapDefinition, path: &Path) -> Result<Map, LoadError> {
    let mut map = Map::from_pin(path).map_err(map_error(parsed))?;
    let info = map.info();
    let same = info.map_type == def.map_type
        && info.key_size == def.key_size
        && info.value_size == def.value_size
        && info.max_entries == def.max_entries;
    if !same {
        return Err(LoadError::Map {
            map: parsed.name.clone(),
            source: MapError::Pin {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!(
                        "a different map is pinned there (type {}, key {}, value {}, max {})",
                        info.map_type, info.key_size, info.value_size, info.max_entries
                    ),
                ),
            },
        });
    }
    map.set_pinned_path(path.to_path_buf());
    Ok(map)
}

fn write_global_data(map: &Map, bytes: &[u8], read_only: bool) -> Result<(), MapError> {
    map.update(&0u32.to_ne_bytes(), bytes, UpdateFlags::Any)?;
    if read_only {
        map.freeze()?;
    }
    Ok(())
}

/// Writes every override aimed at `section` into its initial bytes.
fn apply_rodata_overrides(
    section: &str,
    bytes: &mut [u8],
    btf: Option<&Btf>,
    options: &LoadOptions,
) -> Result<(), LoadError> {
    for o in &options.rodata {
        let (name, offset) = match &o.target {
            RodataTarget::Offset { section: s, offset } if s == section => {
                (format!("{section}+{offset}"), *offset as usize)
            }
            RodataTarget::Symbol(symbol) => match symbol_offset(btf, section, symbol)? {
                Some((offset, size)) => {
                    check_size(symbol, size, o.bytes.len())?;
                    (symbol.clone(), offset)
                }
                None => continue,
            },
            RodataTarget::Offset { .. } => continue,
        };
        let end = offset + o.bytes.len();
        let slot = bytes
            .get_mut(offset..end)
            .ok_or_else(|| LoadError::RodataOverride {
                symbol: name.clone(),
                message: format!("bytes {offset}..{end} are outside `{section}`"),
            })?;
        slot.copy_from_slice(&o.bytes);
    }
    Ok(())
}

fn check_size(symbol: &str, size: usize, got: usize) -> Result<(), LoadError> {
    if size == got {
        return Ok(());
    }
    Err(LoadError::RodataOverride {
        symbol: symbol.into(),
        message: format!("the variable is {size} bytes, the override {got}"),
    })
}

/// Offset and size of variable `symbol` in data section `section`, from its BTF `DATASEC`.
fn symbol_offset(
    btf: Option<&Btf>,
    section: &str,
    symbol: &str,
) -> Result<Option<(usize, usize)>, LoadError> {
    let Some(btf) = btf else {
        return Err(LoadError::RodataOverride {
            symbol: symbol.into(),
            message: "the object has no BTF to find variables by name: override by offset".into(),
        });
    };
    let datasec = btf.find_by_name_kind(section, whistler_object::btf::BtfKind::Datasec);
    let Some(Kind::Datasec { vars, .. }) = datasec.and_then(|id| btf.kind(id)) else {
        return Ok(None);
    };
    Ok(vars
        .iter()
        .find(|v| btf.name(v.ty) == symbol)
        .map(|v| (v.offset as usize, v.size as usize)))
}

/// Fails when a symbol override names a variable that no read-only section holds.
pub fn check_overrides_found(
    parsed: &[ParsedMap],
    btf: Option<&Btf>,
    options: &LoadOptions,
) -> Result<(), LoadError> {
    for o in &options.rodata {
        let found = match &o.target {
            RodataTarget::Symbol(symbol) => {
                let mut found = false;
                for data in parsed.iter().filter_map(|m| m.data.as_ref()) {
                    if data.read_only && symbol_offset(btf, &data.section, symbol)?.is_some() {
                        found = true;
                    }
                }
                found
            }
            RodataTarget::Offset { section, .. } => parsed
                .iter()
                .filter_map(|m| m.data.as_ref())
                .any(|d| d.read_only && &d.section == section),
        };
        if !found {
            let symbol = match &o.target {
                RodataTarget::Symbol(s) => s.clone(),
                RodataTarget::Offset { section, offset } => format!("{section}+{offset}"),
            };
            return Err(LoadError::RodataOverride {
                symbol,
                message: "no read-only data section of the object holds it".into(),
            });
        }
    }
    Ok(())
}
