//! CO-RE resolution against small hand-made "kernel" BTFs.

use whistler_bpf::{Insn, Reg};
use whistler_object::btf::{Btf, EnumValue, Kind, Member, INT_SIGNED};
use whistler_object::CoreRelocation;

use super::*;
use crate::kernel_btf::KernelBtf;

fn int(btf: &mut Btf, name: &str, size: u32, signed: bool) -> u32 {
    let encoding = if signed { INT_SIGNED } else { 0 };
    btf.add(name, Kind::int(size, encoding))
}

fn member(btf: &mut Btf, name: &str, ty: u32, bit_offset: u32, bitfield_size: u32) -> Member {
    Member {
        name_off: btf.add_string(name),
        ty,
        bit_offset,
        bitfield_size,
    }
}

fn strukt(btf: &mut Btf, name: &str, size: u32, members: Vec<Member>) -> u32 {
    btf.add(
        name,
        Kind::Struct {
            size,
            members,
            bitfield_encoding: true,
        },
    )
}

/// Local view: `struct task_struct___mine { int pid; unsigned flags:3; int gone; }`.
fn local() -> (Btf, u32) {
    let mut btf = Btf::new();
    let i = int(&mut btf, "int", 4, true);
    let u = int(&mut btf, "unsigned int", 4, false);
    let m = vec![
        member(&mut btf, "pid", i, 0, 0),
        member(&mut btf, "flags", u, 32, 3),
        member(&mut btf, "gone", i, 64, 0),
    ];
    let t = strukt(&mut btf, "task_struct___mine", 12, m);
    (btf, t)
}

/// Kernel view: `struct task_struct { long state; struct { short pid; }; unsigned pad:5,
/// flags:3; }` and `enum state { RUNNING = 0, SLEEPING = 7 }`.
fn kernel() -> KernelBtf {
    let mut btf = Btf::new();
    let l = int(&mut btf, "long", 8, true);
    let s = int(&mut btf, "short", 2, true);
    let u = int(&mut btf, "unsigned int", 4, false);
    let inner_m = vec![member(&mut btf, "pid", s, 0, 0)];
    let inner = strukt(&mut btf, "", 2, inner_m);
    let m = vec![
        member(&mut btf, "state", l, 0, 0),
        member(&mut btf, "", inner, 64, 0),
        member(&mut btf, "pad", u, 96, 5),
        member(&mut btf, "flags", u, 101, 3),
    ];
    strukt(&mut btf, "task_struct", 16, m);
    let values = vec![
        EnumValue {
            name_off: btf.add_string("RUNNING"),
            value: 0,
        },
        EnumValue {
            name_off: btf.add_string("SLEEPING"),
            value: 7,
        },
    ];
    btf.add(
        "state",
        Kind::Enum {
            size: 4,
            signed: false,
            values,
        },
    );
    KernelBtf::from_btf(&btf)
}

fn relo(btf: &mut Btf, type_id: u32, access: &str, kind: CoreKind) -> CoreRelocation {
    CoreRelocation {
        insn_offset: 0,
        type_id,
        access_str_off: btf.add_string(access),
        kind: kind as u32,
    }
}

fn resolved(btf: &mut Btf, ty: u32, access: &str, kind: CoreKind) -> Resolution {
    let r = relo(btf, ty, access, kind);
    resolve(&r, btf, &kernel()).unwrap()
}

fn value_of(res: Resolution) -> u64 {
    match res {
        Resolution::Value { value, .. } => value,
        Resolution::Poison => panic!("poisoned"),
    }
}

#[test]
fn field_offset_found_through_an_anonymous_member() {
    let (mut btf, t) = local();
    let res = resolved(&mut btf, t, "0:0", CoreKind::FIELD_BYTE_OFFSET);
    assert_eq!(
        res,
        Resolution::Value {
            value: 8,
            local_size: Some(4),
            target_size: Some(2)
        }
    );
    let size = resolved(&mut btf, t, "0:0", CoreKind::FIELD_BYTE_SIZE);
    assert_eq!(value_of(size), 2);
    assert_eq!(
        value_of(resolved(&mut btf, t, "0:0", CoreKind::FIELD_SIGNED)),
        1
    );
}

#[test]
fn missing_field_exists_zero_or_poison() {
    let (mut btf, t) = local();
    assert_eq!(
        value_of(resolved(&mut btf, t, "0:2", CoreKind::FIELD_EXISTS)),
        0
    );
    assert_eq!(
        value_of(resolved(&mut btf, t, "0:0", CoreKind::FIELD_EXISTS)),
        1
    );
    let res = resolved(&mut btf, t, "0:2", CoreKind::FIELD_BYTE_OFFSET);
    assert_eq!(res, Resolution::Poison);
}

#[test]
fn bitfield_shifts() {
    let (mut btf, t) = local();
    // flags: bits 101..104 of the kernel struct, loaded as the u32 at byte 12.
    assert_eq!(
        value_of(resolved(&mut btf, t, "0:1", CoreKind::FIELD_BYTE_OFFSET)),
        12
    );
    assert_eq!(
        value_of(resolved(&mut btf, t, "0:1", CoreKind::FIELD_BYTE_SIZE)),
        4
    );
    let lshift = value_of(resolved(&mut btf, t, "0:1", CoreKind::FIELD_LSHIFT_U64));
    assert_eq!(lshift, 64 - (101 + 3 - 96));
    assert_eq!(
        value_of(resolved(&mut btf, t, "0:1", CoreKind::FIELD_RSHIFT_U64)),
        61
    );
}

#[test]
fn types_and_enums() {
    let (mut btf, t) = local();
    assert_eq!(
        value_of(resolved(&mut btf, t, "0", CoreKind::TYPE_EXISTS)),
        1
    );
    assert_eq!(
        value_of(resolved(&mut btf, t, "0", CoreKind::TYPE_SIZE)),
        16
    );
    assert_eq!(
        value_of(resolved(&mut btf, t, "0", CoreKind::TYPE_ID_LOCAL)),
        t as u64
    );
    let values = vec![
        EnumValue {
            name_off: btf.add_string("SLEEPING"),
            value: 1,
        },
        EnumValue {
            name_off: btf.add_string("DEAD___new"),
            value: 2,
        },
    ];
    let e = btf.add(
        "state",
        Kind::Enum {
            size: 4,
            signed: false,
            values,
        },
    );
    assert_eq!(
        value_of(resolved(&mut btf, e, "0", CoreKind::ENUMVAL_VALUE)),
        7
    );
    assert_eq!(
        value_of(resolved(&mut btf, e, "1", CoreKind::ENUMVAL_EXISTS)),
        0
    );
    assert_eq!(
        resolved(&mut btf, e, "1", CoreKind::ENUMVAL_VALUE),
        Resolution::Poison
    );
    let missing = strukt(&mut btf, "no_such_struct", 4, Vec::new());
    assert_eq!(
        value_of(resolved(&mut btf, missing, "0", CoreKind::TYPE_EXISTS)),
        0
    );
}

#[test]
fn patches_loads_alu_and_poison() {
    let mut insns = vec![
        Insn::load(0x00, Reg::R0, Reg::R1, 0), // ldxw r0 = *(u32 *)(r1 + 0)
        Insn::alu64_imm(0x00, Reg::R1, 0),     // r1 += 0
        Insn::exit(),
    ];
    insns[0].code = 0x61;
    let res = Resolution::Value {
        value: 8,
        local_size: Some(4),
        target_size: Some(2),
    };
    patch::apply(&mut insns, 0, res).unwrap();
    assert_eq!((insns[0].code, insns[0].off), (0x69, 8));
    patch::apply(&mut insns, 1, res).unwrap();
    assert_eq!(insns[1].imm, 8);
    patch::apply(&mut insns, 2, Resolution::Poison).unwrap();
    assert_eq!((insns[2].code, insns[2].imm), (0x85, patch::POISON_HELPER));
}
