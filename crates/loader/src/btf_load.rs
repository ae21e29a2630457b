//! Loading an object's BTF into the kernel: as it is first, then sanitized the way libbpf does for
//! kernels that lack newer kinds (DECL_TAG, TYPE_TAG, ENUM64, FLOAT, signed enums, global
//! functions), and finally not at all — programs then load without func_info and line_info.

use std::os::fd::OwnedFd;

use whistler_object::btf::{func_linkage, Btf, Kind, INT_SIGNED};

use crate::sys::bpf;

/// What became of the object's BTF.
#[derive(Debug)]
pub enum LoadedBtf {
    /// Loaded as written.
    AsIs(OwnedFd),
    /// Loaded after sanitizing; the log of the refusal of the original.
    Sanitized {
        /// The sanitized BTF's fd.
        fd: OwnedFd,
        /// Why the kernel refused the original.
        first_log: String,
    },
    /// Refused both ways: the kernel's log of the sanitized attempt.
    Refused {
        /// The kernel's BTF log.
        log: String,
    },
}

impl LoadedBtf {
    /// The loaded BTF's fd, for maps and programs to refer to; `None` when refused.
    pub fn fd(&self) -> Option<&OwnedFd> {
        match self {
            LoadedBtf::AsIs(fd) | LoadedBtf::Sanitized { fd, .. } => Some(fd),
            LoadedBtf::Refused { .. } => None,
        }
    }
}

/// Loads `btf`, sanitizing it if the kernel refuses it.
pub fn load_btf(btf: &Btf) -> LoadedBtf {
    let first_log = match try_load(&btf.to_bytes()) {
        Ok(fd) => return LoadedBtf::AsIs(fd),
        Err(log) => log,
    };
    match try_load(&sanitize(btf).to_bytes()) {
        Ok(fd) => LoadedBtf::Sanitized { fd, first_log },
        Err(log) => LoadedBtf::Refused { log },
    }
}

/// BPF_BTF_LOAD, with a log on failure.
fn try_load(bytes: &[u8]) -> Result<OwnedFd, String> {
    if let Ok(fd) = bpf::btf_load(bytes, None) {
        return Ok(fd);
    }
    let mut log = vec![0u8; 1 << 20];
    match bpf::btf_load(bytes, Some(&mut log)) {
        Ok(fd) => Ok(fd),
        Err(e) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]).trim().to_string();
            Err(if text.is_empty() { e.to_string() } else { text })
        }
    }
}

/// Rewrites kinds an older kernel may not know into ones every BTF-capable kernel knows,
/// keeping every type id in place (so map and func_info references stay valid):
/// DECL_TAG → a 1-byte INT, TYPE_TAG → CONST, FLOAT → an empty STRUCT of the same size,
/// ENUM64 → an INT of its size, signed ENUM → unsigned, global FUNC → static.
pub fn sanitize(btf: &Btf) -> Btf {
    let mut out = btf.clone();
    for (_, ty) in out.iter_mut() {
        if let Some(replacement) = replacement(&ty.kind) {
            // The kernel wants modifiers unnamed; a tag's name means nothing as an INT.
            if matches!(ty.kind, Kind::DeclTag { .. } | Kind::TypeTag { .. }) {
                ty.name_off = 0;
            }
            ty.kind = replacement;
        }
    }
    out
}

fn replacement(kind: &Kind) -> Option<Kind> {
    Some(match kind {
        Kind::DeclTag { .. } => Kind::int(1, 0),
        Kind::TypeTag { ty, .. } => Kind::Const { ty: *ty },
        Kind::Float { size } => Kind::Struct {
            size: *size,
            members: Vec::new(),
            bitfield_encoding: false,
        },
        Kind::Enum64 { size, signed, .. } => Kind::int(*size, if *signed { INT_SIGNED } else { 0 }),
        Kind::Enum {
            size,
            signed: true,
            values,
        } => Kind::Enum {
            size: *size,
            signed: false,
            values: values.clone(),
        },
        Kind::Func {
            proto,
            linkage: func_linkage::GLOBAL,
        } => Kind::Func {
            proto: *proto,
            linkage: func_linkage::STATIC,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use whistler_object::btf::BtfKind;

    #[test]
    fn sanitizing_replaces_new_kinds_in_place() {
        let mut btf = Btf::new();
        let int = btf.add("int", Kind::int(4, INT_SIGNED));
        let float = btf.add("float", Kind::Float { size: 4 });
        let tag = btf.add(
            "user",
            Kind::TypeTag {
                ty: int,
                attribute: false,
            },
        );
        let decl = btf.add(
            "tag",
            Kind::DeclTag {
                ty: int,
                component_idx: -1,
                attribute: false,
            },
        );
        let clean = sanitize(&btf);
        assert_eq!(clean.type_count(), btf.type_count());
        assert_eq!(clean.kind(float).unwrap().btf_kind(), BtfKind::Struct);
        assert_eq!(clean.kind(tag).unwrap(), &Kind::Const { ty: int });
        assert_eq!(clean.kind(decl).unwrap().btf_kind(), BtfKind::Int);
        assert_eq!(clean.name(decl), "");
        assert_eq!(clean.name(tag), "");
    }
}
