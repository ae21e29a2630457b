//! `__kconfig` extern variables: `LINUX_KERNEL_VERSION` from uname and `CONFIG_*` from
//! `/proc/config.gz`, laid out in a read-only `.kconfig` array map the programs address with
//! `BPF_PSEUDO_MAP_VALUE`. Options the kernel was built without read as zero (libbpf's `__weak`
//! behaviour, applied to every kconfig extern).

use std::collections::HashMap;
use std::io::Read;

use whistler_object::btf::{Btf, BtfKind, Kind, INT_BOOL, INT_CHAR};

use crate::error::LoadError;
use crate::maps::{Map, MapDefinition, UpdateFlags, BPF_F_RDONLY_PROG};

/// The `.kconfig` map and where each variable is in it.
#[derive(Debug)]
pub struct Kconfig {
    pub map: Map,
    pub offsets: HashMap<String, u32>,
}

/// A kconfig variable: its name and BTF type in the object.
struct Variable {
    name: String,
    ty: u32,
}

/// The variables of the object's `.kconfig` DATASEC, in order.
fn variables(btf: &Btf) -> Vec<Variable> {
    let Some(id) = btf.find_by_name_kind(".kconfig", BtfKind::Datasec) else {
        return Vec::new();
    };
    let Some(Kind::Datasec { vars, .. }) = btf.kind(id) else {
        return Vec::new();
    };
    vars.iter()
        .filter_map(|v| match btf.kind(v.ty) {
            Some(Kind::Var { ty, .. }) => Some(Variable {
                name: btf.name(v.ty).to_string(),
                ty: *ty,
            }),
            _ => None,
        })
        .collect()
}

/// Builds the `.kconfig` map, or `None` when the object declares no kconfig variable.
pub fn create(btf: Option<&Btf>) -> Result<Option<Kconfig>, LoadError> {
    let vars = btf.map(variables).unwrap_or_default();
    let (Some(btf), false) = (btf, vars.is_empty()) else {
        return Ok(None);
    };
    let config = kernel_config();
    let mut bytes = Vec::new();
    let mut offsets = HashMap::new();
    for var in &vars {
        let size = btf
            .resolve_size(var.ty)
            .map_err(|e| bad(&var.name, e.to_string()))? as usize;
        let align = size.clamp(1, 8).next_power_of_two();
        let offset = bytes.len().next_multiple_of(align);
        bytes.resize(offset + size, 0);
        let raw = value_of(&var.name, &config);
        encode(btf, var, raw.as_deref(), &mut bytes[offset..])?;
        offsets.insert(var.name.clone(), offset as u32);
    }
    bytes.resize(bytes.len().next_multiple_of(8).max(8), 0);
    let map = kconfig_map(&bytes)?;
    Ok(Some(Kconfig { map, offsets }))
}

fn bad(name: &str, message: String) -> LoadError {
    LoadError::Relocation {
        program: format!("__kconfig {name}"),
        message,
    }
}

fn kconfig_map(bytes: &[u8]) -> Result<Map, LoadError> {
    let def = MapDefinition {
        name: ".kconfig".into(),
        map_type: whistler_bpf::MapType::ARRAY as u32,
        key_size: 4,
        value_size: bytes.len() as u32,
        max_entries: 1,
        map_flags: BPF_F_RDONLY_PROG,
        map_extra: 0,
    };
    let wrap = |source| LoadError::Map {
        map: ".kconfig".into(),
        source,
    };
    let map = Map::create(&def).map_err(wrap)?;
    map.update(&0u32.to_ne_bytes(), bytes, UpdateFlags::Any)
        .map_err(wrap)?;
    map.freeze().map_err(wrap)?;
    Ok(map)
}

/// The raw text of a variable: `6.18.44` turned into a version number for
/// LINUX_KERNEL_VERSION, the `.config` value for CONFIG_*.
fn value_of(name: &str, config: &HashMap<String, String>) -> Option<String> {
    if name == "LINUX_KERNEL_VERSION" {
        return Some(kernel_version()?.to_string());
    }
    config.get(name).cloned()
}

/// `KERNEL_VERSION(major, minor, patch)` of the running kernel (patch capped at 255).
fn kernel_version() -> Option<u32> {
    let release = rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next()??, parts.next()??);
    let patch = parts.next().flatten().unwrap_or(0).min(255);
    Some((major << 16) | (minor << 8) | patch)
}

/// `/proc/config.gz` as name → value (empty when the kernel does not expose it).
fn kernel_config() -> HashMap<String, String> {
    let Ok(file) = std::fs::File::open("/proc/config.gz") else {
        return HashMap::new();
    };
    let mut text = String::new();
    if flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .is_err()
    {
        return HashMap::new();
    }
    parse_config(&text)
}

fn parse_config(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| l.starts_with("CONFIG_"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Writes `raw` (absent: zero) into `out` as the variable's type wants it.
fn encode(btf: &Btf, var: &Variable, raw: Option<&str>, out: &mut [u8]) -> Result<(), LoadError> {
    let Some(raw) = raw else {
        return Ok(());
    };
    let ty = btf.skip_mods_and_typedefs(var.ty);
    match btf.kind(ty) {
        Some(Kind::Int { encoding, .. }) if encoding & INT_CHAR != 0 && out.len() == 1 => {
            out[0] = raw.bytes().next().unwrap_or(0);
        }
        Some(Kind::Int { encoding, .. }) if encoding & INT_BOOL != 0 => {
            out[0] = u8::from(raw == "y" || raw == "m");
        }
        Some(Kind::Enum { .. }) => write_int(out, tristate(raw)),
        Some(Kind::Int { .. }) => write_int(out, number(raw).unwrap_or_else(|| tristate(raw))),
        Some(Kind::Array { .. }) => {
            let s = raw.trim_matches('"').as_bytes();
            let n = s.len().min(out.len().saturating_sub(1));
            out[..n].copy_from_slice(&s[..n]);
        }
        _ => return Err(bad(&var.name, "unsupported kconfig variable type".into())),
    }
    Ok(())
}

fn tristate(raw: &str) -> u64 {
    match raw {
        "y" => 1,
        "m" => 2,
        _ => 0,
    }
}

fn number(raw: &str) -> Option<u64> {
    match raw.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => raw.parse::<i64>().ok().map(|v| v as u64),
    }
}

fn write_int(out: &mut [u8], value: u64) {
    let n = out.len().min(8);
    out[..n].copy_from_slice(&value.to_ne_bytes()[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lines_and_values() {
        let config = parse_config("# comment\nCONFIG_BPF=y\nCONFIG_HZ=250\nCONFIG_X=\"abc\"\n");
        assert_eq!(config["CONFIG_BPF"], "y");
        assert_eq!(number(&config["CONFIG_HZ"]), Some(250));
        assert_eq!(tristate("m"), 2);
        assert!(kernel_version().unwrap() >= 5 << 16);
    }
}
