//! Tests for the BTF model: every kind round-trips, malformed input gives errors, resolution.

use super::ext::{BtfExt, ExtSection};
use super::*;
use crate::{CoreRelocation, FuncInfoRecord, LineInfoRecord};

/// A BTF using every kind once, with names and references that make sense.
fn every_kind() -> Btf {
    let mut b = Btf::new();
    let int = b.add("int", Kind::int(4, INT_SIGNED));
    let ptr = b.add("", Kind::Ptr { ty: int });
    let arr = b.add(
        "",
        Kind::Array {
            elem: int,
            index: int,
            nelems: 3,
        },
    );
    let x = b.add_string("x");
    let y = b.add_string("y");
    let st = b.add(
        "s",
        Kind::Struct {
            size: 16,
            members: vec![
                Member {
                    name_off: x,
                    ty: int,
                    bit_offset: 0,
                    bitfield_size: 0,
                },
                Member {
                    name_off: y,
                    ty: int,
                    bit_offset: 35,
                    bitfield_size: 3,
                },
            ],
            bitfield_encoding: true,
        },
    );
    b.add(
        "u",
        Kind::Union {
            size: 8,
            members: vec![Member {
                name_off: x,
                ty: ptr,
                bit_offset: 0,
                bitfield_size: 0,
            }],
            bitfield_encoding: false,
        },
    );
    let a = b.add_string("A");
    b.add(
        "e",
        Kind::Enum {
            size: 4,
            signed: true,
            values: vec![EnumValue {
                name_off: a,
                value: -2i64 as u64,
            }],
        },
    );
    b.add(
        "e64",
        Kind::Enum64 {
            size: 8,
            signed: false,
            values: vec![EnumValue {
                name_off: a,
                value: 1 << 40,
            }],
        },
    );
    b.add("f", Kind::Fwd { union: true });
    let td = b.add("myint", Kind::Typedef { ty: int });
    let v = b.add("", Kind::Volatile { ty: td });
    let c = b.add("", Kind::Const { ty: v });
    b.add("", Kind::Restrict { ty: ptr });
    let proto = b.add(
        "",
        Kind::FuncProto {
            ret: int,
            params: vec![
                Param {
                    name_off: x,
                    ty: ptr,
                },
                Param { name_off: 0, ty: 0 },
            ],
        },
    );
    b.add(
        "fn",
        Kind::Func {
            proto,
            linkage: func_linkage::GLOBAL,
        },
    );
    let var = b.add(
        "g",
        Kind::Var {
            ty: c,
            linkage: var_linkage::GLOBAL_ALLOCATED,
        },
    );
    b.add(
        ".data",
        Kind::Datasec {
            size: 4,
            vars: vec![VarSecInfo {
                ty: var,
                offset: 0,
                size: 4,
            }],
        },
    );
    b.add("double", Kind::Float { size: 8 });
    b.add(
        "tag",
        Kind::DeclTag {
            ty: st,
            component_idx: 1,
            attribute: false,
        },
    );
    b.add(
        "user",
        Kind::TypeTag {
            ty: int,
            attribute: false,
        },
    );
    let _ = arr;
    b
}

#[test]
fn every_kind_round_trips() {
    let btf = every_kind();
    let bytes = btf.to_bytes();
    let back = Btf::from_bytes(&bytes).unwrap();
    assert_eq!(back, btf);
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.type_count(), 20);
}

#[test]
fn lookups_and_resolution() {
    let btf = every_kind();
    let s = btf.find_by_name_kind("s", BtfKind::Struct).unwrap();
    assert_eq!(btf.resolve_size(s), Ok(16));
    let (i, y) = btf.member_by_name(s, "y").unwrap();
    assert_eq!((i, y.bit_offset, y.bitfield_size), (1, 35, 3));
    assert!(y.is_bitfield(&btf));
    assert_eq!(y.byte_offset(), None);
    let var = btf.find_by_name_kind("g", BtfKind::Var).unwrap();
    assert_eq!(btf.resolve_size(var), Ok(4));
    let Some(Kind::Var { ty, .. }) = btf.kind(var) else {
        panic!()
    };
    let int = btf.find_by_name_kind("int", BtfKind::Int).unwrap();
    assert_eq!(btf.skip_mods_and_typedefs(*ty), int);
    assert_eq!(btf.name(btf.skip_modifiers(*ty)), "myint");
    assert!(btf.is_signed(*ty));
    assert_eq!(btf.resolve_size(3), Ok(12)); // int[3]
    assert_eq!(btf.resolve_size(0), Err(BtfError::NoSize(0)));
    assert!(btf.find_by_name_kind("s", BtfKind::Union).is_none());
}

#[test]
fn reference_cycles_do_not_hang() {
    let mut b = Btf::new();
    b.add("a", Kind::Typedef { ty: 2 });
    b.add("b", Kind::Typedef { ty: 1 });
    let back = Btf::from_bytes(&b.to_bytes()).unwrap();
    assert_eq!(back.resolve_size(1), Err(BtfError::TooDeep(1)));
    back.skip_mods_and_typedefs(1);
}

#[test]
fn malformed_input_is_an_error_never_a_panic() {
    let bytes = every_kind().to_bytes();
    for len in 0..bytes.len() {
        assert!(Btf::from_bytes(&bytes[..len]).is_err(), "prefix {len}");
    }
    // Flip every byte in turn: whatever happens, no panic.
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0xff;
        if let Ok(btf) = Btf::from_bytes(&b) {
            for (id, _) in btf.iter() {
                let _ = btf.resolve_size(id);
                let _ = btf.members(id);
            }
        }
    }
    assert_eq!(
        Btf::from_bytes(&[0x9f, 0xeb, 1, 0]),
        Err(BtfError::Truncated("header"))
    );
}

#[test]
fn bad_type_reference_is_rejected() {
    let mut b = Btf::new();
    b.add("", Kind::Ptr { ty: 7 });
    assert_eq!(
        Btf::from_bytes(&b.to_bytes()),
        Err(BtfError::BadTypeRef { id: 1, target: 7 })
    );
}

#[test]
fn ext_round_trips_and_rejects_garbage() {
    let ext = BtfExt {
        func_info: vec![ExtSection {
            sec_name_off: 5,
            records: vec![FuncInfoRecord {
                insn_offset: 0,
                type_id: 3,
            }],
            // After the 32-byte header, the part's record size, section name and count.
            record_offsets: vec![44],
        }],
        line_info: vec![ExtSection {
            sec_name_off: 5,
            records: vec![LineInfoRecord {
                insn_offset: 16,
                file_name_off: 1,
                line_off: 9,
                line_col: 3 << 10 | 2,
            }],
            record_offsets: vec![64],
        }],
        core_relos: vec![ExtSection {
            sec_name_off: 5,
            records: vec![CoreRelocation {
                insn_offset: 8,
                type_id: 2,
                access_str_off: 4,
                kind: 0,
            }],
            record_offsets: vec![92],
        }],
    };
    let bytes = ext.to_bytes();
    assert_eq!(BtfExt::from_bytes(&bytes).unwrap(), ext);
    for len in 0..bytes.len() {
        let _ = BtfExt::from_bytes(&bytes[..len]);
    }
    let empty = BtfExt::default();
    assert_eq!(BtfExt::from_bytes(&empty.to_bytes()).unwrap(), empty);
}

#[test]
fn vmlinux_decodes_and_re_encodes_identically() {
    let Ok(bytes) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        eprintln!("skipped: no /sys/kernel/btf/vmlinux");
        return;
    };
    let start = std::time::Instant::now();
    let btf = Btf::from_bytes(&bytes).unwrap();
    eprintln!(
        "decoded {} types in {:?}",
        btf.type_count(),
        start.elapsed()
    );
    assert_eq!(btf.to_bytes(), bytes);
    let task = btf
        .find_by_name_kind("task_struct", BtfKind::Struct)
        .unwrap();
    let (_, pid) = btf.member_by_name(task, "pid").unwrap();
    assert_eq!(btf.resolve_size(pid.ty), Ok(4));
    assert!(btf.resolve_size(task).unwrap() > 1000);
}

#[test]
fn string_section_without_decoding_types() {
    let mut btf = every_kind();
    let off = btf.add_string("a line of source");
    let bytes = btf.to_bytes();
    let strings = string_section(&bytes).unwrap();
    assert_eq!(string_at(strings, off), "a line of source");
    assert_eq!(string_at(strings, off + 2), "line of source");
    assert_eq!(string_at(strings, 1 << 20), "");
    assert_eq!(string_section(&bytes[..10]), None);
}

#[test]
fn lazy_btf_decodes_each_type_as_the_full_decoder_does() {
    let btf = every_kind();
    let lazy = LazyBtf::from_bytes(btf.to_bytes()).unwrap();
    assert_eq!(lazy.type_count(), btf.type_count());
    for (id, ty) in btf.iter() {
        assert_eq!(BtfTypes::type_by_id(&lazy, id), Some(ty), "type {id}");
        assert_eq!(BtfTypes::name(&lazy, id), btf.name(id));
    }
    assert_eq!(BtfTypes::type_by_id(&lazy, 0), None);
    assert_eq!(BtfTypes::type_by_id(&lazy, btf.type_count()), None);
    let s = lazy.find_by_name_kind("s", BtfKind::Struct).unwrap();
    assert_eq!(Some(s), btf.find_by_name_kind("s", BtfKind::Struct));
    assert_eq!(lazy.resolve_size(s), Ok(16));
    assert_eq!(lazy.member_by_name(s, "y").unwrap().0, 1);
    assert!(lazy.find_by_name_kind("s", BtfKind::Union).is_none());
    // A name that is a prefix of another is not that other.
    assert!(lazy.find_by_name_kind("myin", BtfKind::Typedef).is_none());
    for kind in [
        BtfKind::Struct,
        BtfKind::Int,
        BtfKind::Typedef,
        BtfKind::Ptr,
    ] {
        assert_eq!(
            lazy.names_of_kind(kind),
            btf.names_of_kind(kind),
            "{kind:?}"
        );
    }
    assert_eq!(
        lazy.ids_named("int", BtfKind::Int),
        btf.ids_named("int", BtfKind::Int)
    );
}

#[test]
fn lazy_btf_rejects_truncation_and_never_panics() {
    let bytes = every_kind().to_bytes();
    for len in 0..bytes.len() {
        assert!(
            LazyBtf::from_bytes(bytes[..len].to_vec()).is_err(),
            "prefix {len}"
        );
    }
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0xff;
        if let Ok(lazy) = LazyBtf::from_bytes(b) {
            for id in 0..lazy.type_count() + 1 {
                let _ = lazy.resolve_size(id);
                let _ = lazy.members(id);
                let _ = lazy.name(id);
            }
        }
    }
}

#[test]
fn lazy_vmlinux_finds_what_the_full_decoder_finds() {
    let Ok(bytes) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        eprintln!("skipped: no /sys/kernel/btf/vmlinux");
        return;
    };
    let btf = Btf::from_bytes(&bytes).unwrap();
    let lazy = LazyBtf::from_bytes(bytes).unwrap();
    assert_eq!(lazy.type_count(), btf.type_count());
    let task = lazy
        .find_by_name_kind("task_struct", BtfKind::Struct)
        .unwrap();
    assert_eq!(
        Some(task),
        btf.find_by_name_kind("task_struct", BtfKind::Struct)
    );
    assert_eq!(BtfTypes::type_by_id(&lazy, task), btf.type_by_id(task));
    let (_, pid) = lazy.member_by_name(task, "pid").unwrap();
    assert_eq!(lazy.resolve_size(pid.ty), Ok(4));
    // The last type too: the index walked the whole section.
    let last = btf.type_count() - 1;
    assert_eq!(BtfTypes::type_by_id(&lazy, last), btf.type_by_id(last));
}
