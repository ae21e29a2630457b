//! The object's BTF against the running kernel: newer kinds load as they are here, and their
//! sanitized replacements (for older kernels) are accepted by the kernel too.

mod common;

use whistler_loader::btf_load::{load_btf, sanitize, LoadedBtf};
use whistler_loader::sys::bpf;
use whistler_loader::{LoadOptions, Object, TestRun, TypedMap};
use whistler_object::btf::{Btf, BtfKind};

fn object_btf() -> Btf {
    let parsed = whistler_object::parse(&common::compile_c("btf_kinds")).unwrap();
    Btf::from_bytes(&parsed.btf.unwrap()).unwrap()
}

fn count(btf: &Btf, kind: BtfKind) -> usize {
    btf.iter().filter(|(_, t)| t.kind.btf_kind() == kind).count()
}

#[test]
fn sanitized_btf_is_accepted_and_has_no_new_kinds() {
    if !common::kernel() {
        return;
    }
    let btf = object_btf();
    for kind in [BtfKind::DeclTag, BtfKind::TypeTag, BtfKind::Float] {
        assert!(count(&btf, kind) > 0, "clang emitted no {kind:?}");
    }
    assert!(matches!(load_btf(&btf), LoadedBtf::AsIs(_)));
    let clean = sanitize(&btf);
    for kind in [BtfKind::DeclTag, BtfKind::TypeTag, BtfKind::Float, BtfKind::Enum64] {
        assert_eq!(count(&clean, kind), 0, "{kind:?} left after sanitizing");
    }
    let mut log = vec![0u8; 1 << 16];
    let loaded = bpf::btf_load(&clean.to_bytes(), Some(&mut log));
    let end = log.iter().position(|&b| b == 0).unwrap_or(0);
    assert!(
        loaded.is_ok(),
        "kernel refused sanitized BTF: {}",
        String::from_utf8_lossy(&log[..end])
    );
}

#[test]
fn object_with_tagged_types_loads_and_runs() {
    if !common::kernel() {
        return;
    }
    let object = Object::load(&common::compile_c("btf_kinds"), &LoadOptions::default()).unwrap();
    let map = object.map("tagged_values").unwrap();
    let mut value = vec![0u8; map.info().value_size as usize];
    value[..4].copy_from_slice(&41i32.to_ne_bytes());
    map.update(&0u32.to_ne_bytes(), &value, Default::default())
        .unwrap();
    let run = object.program("uses_tags").unwrap().test_run(TestRun::default());
    assert_eq!(run.unwrap().retval, 42);
    assert!(TypedMap::<u32, u64, _>::new(map).is_err(), "value is not 8 bytes");
}
