//! The object's BTF against the running kernel: newer kinds load as they are here, and their
//! sanitized replacements (for older kernels) are accepted by the kernel too.

mod common;

use whistler_loader::btf_load::{load_btf, sanitize, LoadedBtf};
use whistler_loader::sys::bpf;
use whistler_loader::{LoadOptions, Object, TestRun, TypedMap};
use whistler_object::btf::{Btf, BtfKind, Kind};

fn object_btf() -> Btf {
    let parsed = whistler_object::parse(&common::compile_c("btf_kinds")).unwrap();
    Btf::from_bytes(&parsed.btf.unwrap()).unwrap()
}

fn count(btf: &Btf, kind: BtfKind) -> usize {
    btf.iter()
        .filter(|(_, t)| t.kind.btf_kind() == kind)
        .count()
}

#[test]
fn sanitized_btf_is_accepted_and_has_no_new_kinds() {
    if !common::kernel("sanitized_btf_is_accepted_and_has_no_new_kinds") {
        return;
    }
    let btf = object_btf();
    for kind in [BtfKind::DeclTag, BtfKind::TypeTag, BtfKind::Float] {
        assert!(count(&btf, kind) > 0, "clang emitted no {kind:?}");
    }
    assert!(matches!(load_btf(&btf), LoadedBtf::AsIs(_)));
    let clean = sanitize(&btf);
    for kind in [
        BtfKind::DeclTag,
        BtfKind::TypeTag,
        BtfKind::Float,
        BtfKind::Enum64,
    ] {
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
    if !common::kernel("object_with_tagged_types_loads_and_runs") {
        return;
    }
    let object = Object::load(&common::compile_c("btf_kinds"), &LoadOptions::default()).unwrap();
    let map = object.map("tagged_values").unwrap();
    let mut value = vec![0u8; map.info().value_size as usize];
    value[..4].copy_from_slice(&41i32.to_ne_bytes());
    map.update(&0u32.to_ne_bytes(), &value, Default::default())
        .unwrap();
    let run = object
        .program("uses_tags")
        .unwrap()
        .test_run(TestRun::default());
    assert_eq!(run.unwrap().retval, 42);
    assert!(
        TypedMap::<u32, u64, _>::new(map).is_err(),
        "value is not 8 bytes"
    );
}

#[test]
fn btf_the_kernel_refuses_is_dropped_and_programs_load_without_it() {
    if !common::kernel("btf_the_kernel_refuses_is_dropped_and_programs_load_without_it") {
        return;
    }
    // (Callbacks such as bpf_loop's need func_info, so an object using them cannot load this way.)
    let mut parsed = whistler_object::parse(&common::compile_c("global_data")).unwrap();
    let mut btf = Btf::from_bytes(parsed.btf.as_ref().unwrap()).unwrap();
    // A name that is no C identifier: the kernel refuses the whole BTF, sanitized or not.
    btf.add(
        "not a valid name!",
        whistler_object::btf::Kind::Struct {
            size: 0,
            members: Vec::new(),
            bitfield_encoding: false,
        },
    );
    let LoadedBtf::Refused { log } = load_btf(&btf) else {
        panic!("the kernel accepted an invalid type name");
    };
    assert!(!log.is_empty());
    parsed.btf = Some(btf.to_bytes());
    let mut with_callback = whistler_object::parse(&common::compile_c("subprograms")).unwrap();
    let mut callback_btf = Btf::from_bytes(with_callback.btf.as_ref().unwrap()).unwrap();
    callback_btf.add("not a valid name!", Kind::Fwd { union: false });
    with_callback.btf = Some(callback_btf.to_bytes());
    let err = Object::load_parsed(with_callback, &LoadOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("refused the object's BTF"),
        "{err}"
    );
    let object = Object::load_parsed(parsed, &LoadOptions::default()).unwrap();
    let scaled = object.program("scaled").unwrap();
    assert_eq!(scaled.test_run(TestRun::default()).unwrap().retval, 42);
}
