//! The running kernel's BTF (`/sys/kernel/btf/vmlinux`), read and indexed once per path and
//! shared, its types decoded as lookups reach them; and the BTF ids that tracing programs are
//! loaded against.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use whistler_bpf::ProgramType;
#[cfg(test)]
use whistler_object::btf::Btf;
use whistler_object::btf::{BtfKind, LazyBtf};

use crate::error::LoadError;
use crate::sys::kernel_file::MappedKernelFile;

/// Where the kernel exposes its own BTF.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// A type name and kind, as lookups ask for them.
type NameAndKind = (String, BtfKind);

/// The kernel's BTF, indexed once and decoded type by type as lookups reach them
/// ([`LazyBtf`]): a CO-RE load decodes the few dozen types its relocations touch, not the
/// hundred thousand of vmlinux.
#[derive(Debug)]
pub struct KernelBtf {
    /// The kernel's types.
    pub btf: LazyBtf,
    /// Name lookups already made (each one scans the whole index).
    found: Mutex<HashMap<NameAndKind, Arc<[u32]>>>,
}

impl KernelBtf {
    fn read(path: &Path) -> Result<KernelBtf, LoadError> {
        let fail = |message: String| LoadError::KernelBtf {
            path: path.to_path_buf(),
            message,
        };
        // The kernel's own file is mapped where the kernel allows it; any other file (btfhub's,
        // on disk) is read, so that no one can change it under the mapping.
        let mapped = (path == Path::new(VMLINUX_BTF))
            .then(|| MappedKernelFile::map(path).ok())
            .flatten();
        let btf = match mapped {
            Some(mapped) => LazyBtf::from_bytes(mapped),
            None => LazyBtf::from_bytes(std::fs::read(path).map_err(|e| fail(e.to_string()))?),
        };
        let btf = btf.map_err(|e| fail(e.to_string()))?;
        Ok(KernelBtf::from_lazy(btf))
    }

    fn from_lazy(btf: LazyBtf) -> KernelBtf {
        KernelBtf {
            btf,
            found: Mutex::default(),
        }
    }

    /// A hand-made BTF standing for a kernel's (unit tests).
    #[cfg(test)]
    pub(crate) fn from_btf(btf: &Btf) -> KernelBtf {
        let btf = LazyBtf::from_bytes(btf.to_bytes()).expect("encoded BTF indexes back");
        KernelBtf::from_lazy(btf)
    }

    /// Type ids named `name` of kind `kind`, in id order.
    pub fn find_all(&self, name: &str, kind: BtfKind) -> Arc<[u32]> {
        let key = (name.to_string(), kind);
        let mut found = self.found.lock().unwrap_or_else(|p| p.into_inner());
        let ids = found
            .entry(key)
            .or_insert_with(|| self.btf.find_all_by_name_kind(name, kind).collect());
        ids.clone()
    }

    /// The first type named `name` of kind `kind`.
    pub fn find(&self, name: &str, kind: BtfKind) -> Option<u32> {
        self.find_all(name, kind).first().copied()
    }
}

/// The kernel BTF at `path` (default [`VMLINUX_BTF`]), read and indexed on first use.
pub fn kernel_btf(path: Option<&Path>) -> Result<Arc<KernelBtf>, LoadError> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<KernelBtf>>>> = OnceLock::new();
    let path = path.unwrap_or(Path::new(VMLINUX_BTF)).to_path_buf();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(btf) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&path) {
        return Ok(btf.clone());
    }
    let btf = Arc::new(KernelBtf::read(&path)?);
    let mut guard = cache.lock().unwrap_or_else(|p| p.into_inner());
    Ok(guard.entry(path).or_insert(btf).clone())
}

/// The name and kind of the kernel type a tracing or LSM program of this section attaches to:
/// `tp_btf/X` → typedef `btf_trace_X`, `fentry|fexit|fmod_ret/X` → function `X`, `lsm/X` →
/// function `bpf_lsm_X`, `iter/X` → function `bpf_iter_X`. `None` when the section names no
/// BTF target.
pub fn attach_btf_target(program_type: ProgramType, section: &str) -> Option<(String, BtfKind)> {
    if !matches!(program_type, ProgramType::TRACING | ProgramType::LSM) {
        return None;
    }
    let (prefix, target) = section.split_once('/')?;
    let prefix = prefix.trim_end_matches(".s");
    let (name, kind) = match prefix {
        "tp_btf" => (format!("btf_trace_{target}"), BtfKind::Typedef),
        "fentry" | "fexit" | "fmod_ret" => (target.to_string(), BtfKind::Func),
        "lsm" | "lsm_cgroup" => (format!("bpf_lsm_{target}"), BtfKind::Func),
        "iter" => (format!("bpf_iter_{target}"), BtfKind::Func),
        _ => return None,
    };
    Some((name, kind))
}

/// The kernel BTF id a program of this type and section must be loaded against, if any.
pub fn attach_btf_id(
    program_type: ProgramType,
    section: &str,
    kernel_btf_path: Option<&Path>,
) -> Result<Option<u32>, LoadError> {
    let Some((name, kind)) = attach_btf_target(program_type, section) else {
        return Ok(None);
    };
    let kernel = kernel_btf(kernel_btf_path)?;
    let id = kernel
        .find(&name, kind)
        .ok_or_else(|| LoadError::Relocation {
            program: section.to_string(),
            message: format!("the kernel's BTF has no {kind:?} `{name}` to attach to"),
        })?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_btf_mapped_or_read_finds_its_types() {
        let path = Path::new(VMLINUX_BTF);
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("skipped: no {VMLINUX_BTF}");
            return;
        };
        match MappedKernelFile::map(path) {
            Ok(mapped) => assert!(mapped.as_ref() == bytes.as_slice(), "mapped = read"),
            Err(e) => eprintln!("this kernel does not map its BTF ({e}): read instead"),
        }
        let kernel = KernelBtf::read(path).unwrap();
        let task = kernel.find("task_struct", BtfKind::Struct).unwrap();
        assert_eq!(kernel.find_all("task_struct", BtfKind::Struct)[0], task);
        assert!(kernel
            .find("no_such_type_anywhere", BtfKind::Struct)
            .is_none());
    }

    #[test]
    fn btf_targets_of_sections() {
        let t = attach_btf_target(ProgramType::TRACING, "tp_btf/sched_switch");
        assert_eq!(t, Some(("btf_trace_sched_switch".into(), BtfKind::Typedef)));
        let t = attach_btf_target(ProgramType::LSM, "lsm.s/file_open");
        assert_eq!(t, Some(("bpf_lsm_file_open".into(), BtfKind::Func)));
        assert_eq!(attach_btf_target(ProgramType::XDP, "xdp"), None);
    }
}
