//! Kernel types from the running kernel's BTF, for struct field access (`$task->real_parent->pid`,
//! `(struct sock *)arg0`, `args->rqtp->tv_sec`) and enum values named in scripts. Each field
//! read is described with the CO-RE type data the compiler's `kernel-field-offset` form takes,
//! so that the offset carries a relocation and the loader fixes it for the kernel it loads on.
//! Tracepoint fields (`args.pid`) are found in the event's record the same way `deftracepoint`
//! finds them (`kernel_structs::tracepoint_record`).
//!
//! The BTF is read and indexed once, on the first struct or tracepoint field a script names
//! (scripts without one never read it); types are decoded as lookups reach them.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use whistler_compiler::kernel_structs::{self, KernelField, KernelStruct, TracepointRecord};
use whistler_object::btf::{BtfKind, BtfTypes, Kind, LazyBtf, INT_SIGNED};
use whistler_object::KernelType;

/// A struct or union of the kernel: its BTF id (after typedefs and qualifiers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StructId(pub u32);

/// What a member of a kernel struct holds, as the translation reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    /// An integer, enum or bool, loaded with its size and sign.
    Int { size: usize, signed: bool },
    /// A pointer (loaded as 8 bytes), to a struct when it points to one.
    Pointer(Option<StructId>),
    /// An embedded struct or union: its address.
    Struct(StructId),
    /// `char name[N]`: read as a string.
    Chars(usize),
    /// Any other array: its address and its size in bytes.
    Bytes(usize),
}

/// A member found through a struct, with what the compiler needs for a CO-RE offset.
#[derive(Clone, Debug)]
pub struct Field {
    /// Bytes from the start of the struct (members of anonymous members flattened).
    pub offset: u32,
    pub value: FieldValue,
    /// The struct's type and the member's type as the CO-RE relocation describes them; `None`
    /// when the struct is anonymous (a relocation needs a name), when the offset stays constant.
    pub core: Option<(KernelType, KernelType)>,
}

fn btf() -> Result<&'static LazyBtf, String> {
    static BTF: OnceLock<Result<LazyBtf, String>> = OnceLock::new();
    BTF.get_or_init(|| {
        let path = whistler_kernel_host::btf_path(None);
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "struct fields need the kernel's BTF: {}: {e}",
                path.display()
            )
        })?;
        LazyBtf::from_bytes(bytes).map_err(|e| format!("{}: {e}", path.display()))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// The struct (or union) named `name` in the kernel.
pub fn struct_named(name: &str) -> Result<StructId, String> {
    let btf = btf()?;
    for kind in [BtfKind::Struct, BtfKind::Union] {
        let mut ids = btf.find_all_by_name_kind(name, kind);
        if let Some(id) = ids.find(|&id| btf.members(id).is_ok_and(|m| !m.is_empty())) {
            return Ok(StructId(id));
        }
    }
    Err(format!(
        "the kernel's BTF has no struct or union named `{name}`"
    ))
}

/// The name of a struct (empty for an anonymous one).
pub fn struct_name(id: StructId) -> String {
    btf().map(|b| b.name(id.0).to_string()).unwrap_or_default()
}

/// The struct type a pointer in a tracepoint's format points to (`struct __kernel_timespec *`).
pub fn pointee_of_c_type(c_type: &str) -> Option<StructId> {
    let name = c_type.trim().strip_suffix('*')?.trim();
    let name = name.strip_prefix("const ").unwrap_or(name).trim();
    let name = name
        .strip_prefix("struct ")
        .or_else(|| name.strip_prefix("union "))?;
    struct_named(name.trim()).ok()
}

/// Member `name` of struct `id`, looked for in anonymous members too.
pub fn field(id: StructId, name: &str) -> Result<Field, String> {
    let btf = btf()?;
    let Some((offset, ty)) = find_member(btf, id.0, name, 0) else {
        let owner = match btf.name(id.0) {
            "" => "this anonymous struct".to_string(),
            n => format!("struct {n}"),
        };
        return Err(format!("{owner} has no field `{name}`"));
    };
    let offset = offset.ok_or_else(|| format!("`{name}` is a bitfield, which is not readable"))?;
    let value = value_of_type(btf, ty)
        .ok_or_else(|| format!("field `{name}` has a type that cannot be read"))?;
    let core = core_types(btf, id, name);
    Ok(Field {
        offset,
        value,
        core,
    })
}

/// The member of tracepoint `event`'s record (`struct trace_event_raw_EVENT`) holding its
/// format file's field `name`, with the struct's CO-RE type; `None` when the kernel's BTF has no
/// record for the event (the syscall events have none) or cannot be read (cached per event).
pub fn tracepoint_member(event: &str, name: &str) -> Option<(KernelType, KernelField)> {
    static RECORDS: OnceLock<Mutex<HashMap<String, Option<TracepointRecord>>>> = OnceLock::new();
    let btf = btf().ok()?;
    let mut records = RECORDS.get_or_init(Mutex::default).lock().ok()?;
    let record = records
        .entry(event.to_string())
        .or_insert_with(|| kernel_structs::tracepoint_record(btf, event))
        .as_ref()?;
    Some((record.structure.clone(), record.member(name)?.clone()))
}

/// A kernel function's parameters by name with what each holds (`None`: not readable), and
/// what it returns (`None` for void), for fentry's `args` and fexit's `retval`.
pub struct Signature {
    pub params: Vec<(String, Option<FieldValue>)>,
    pub ret: Option<FieldValue>,
}

/// The signature of kernel function `function`, from its BTF prototype.
pub fn function_signature(function: &str) -> Result<Signature, String> {
    let btf = btf()?;
    let func = btf
        .find_by_name_kind(function, BtfKind::Func)
        .ok_or_else(|| format!("the kernel's BTF has no function `{function}`"))?;
    let Some(Kind::Func { proto, .. }) = btf.kind(func) else {
        return Err(format!("`{function}` is not a function"));
    };
    let Some(Kind::FuncProto { ret, params }) = btf.kind(*proto) else {
        return Err(format!("`{function}` has no prototype in BTF"));
    };
    let params = params
        .iter()
        .map(|p| (btf.str_at(p.name_off).to_string(), value_of_type(btf, p.ty)))
        .collect();
    let ret = match *ret {
        0 => None,
        ty => value_of_type(btf, ty),
    };
    Ok(Signature { params, ret })
}

/// How a value of BTF type `ty` is read; `None` for types that cannot be.
fn value_of_type(btf: &LazyBtf, ty: u32) -> Option<FieldValue> {
    let target = btf.skip_mods_and_typedefs(ty);
    Some(match btf.kind(target) {
        Some(Kind::Int { size, encoding, .. }) => FieldValue::Int {
            size: *size as usize,
            signed: encoding & INT_SIGNED != 0,
        },
        Some(Kind::Enum { size, signed, .. } | Kind::Enum64 { size, signed, .. }) => {
            FieldValue::Int {
                size: *size as usize,
                signed: *signed,
            }
        }
        Some(Kind::Ptr { ty }) => {
            let pointee = btf.skip_mods_and_typedefs(*ty);
            let is_struct = matches!(
                btf.kind(pointee),
                Some(Kind::Struct { .. } | Kind::Union { .. })
            );
            FieldValue::Pointer(is_struct.then_some(StructId(pointee)))
        }
        Some(Kind::Struct { .. } | Kind::Union { .. }) => FieldValue::Struct(StructId(target)),
        Some(Kind::Array { elem, nelems, .. }) => {
            let elem = btf.skip_mods_and_typedefs(*elem);
            match btf.kind(elem) {
                Some(Kind::Int { size: 1, .. }) if btf.name(elem) == "char" => {
                    FieldValue::Chars(*nelems as usize)
                }
                _ => FieldValue::Bytes(btf.resolve_size(target).unwrap_or(0) as usize),
            }
        }
        _ => return None,
    })
}

/// Member `name` of `id`: its byte offset (`None` for a bitfield) and type id.
fn find_member(btf: &LazyBtf, id: u32, name: &str, depth: usize) -> Option<(Option<u32>, u32)> {
    let members = btf.members(id).ok()?;
    for member in members {
        let member_name = btf.member_name(member);
        if member_name == name {
            let offset = match member.is_bitfield(btf) {
                true => None,
                false => member.byte_offset(),
            };
            return Some((offset, member.ty));
        }
        if member_name.is_empty() && depth < 16 {
            let inner = btf.skip_mods_and_typedefs(member.ty);
            if let Some((offset, ty)) = find_member(btf, inner, name, depth + 1) {
                let base = member.bit_offset / 8;
                return Some((offset.map(|o| o + base), ty));
            }
        }
    }
    None
}

/// The CO-RE description of member `name` of named struct `id`, from the compiler's layout of
/// the struct (cached: a script reads a few structs many times).
fn core_types(btf: &LazyBtf, id: StructId, name: &str) -> Option<(KernelType, KernelType)> {
    static LAYOUTS: OnceLock<Mutex<HashMap<String, Option<KernelStruct>>>> = OnceLock::new();
    let struct_name = btf.name(id.0);
    if struct_name.is_empty() {
        return None;
    }
    let mut layouts = LAYOUTS.get_or_init(Mutex::default).lock().ok()?;
    let layout = layouts
        .entry(struct_name.to_string())
        .or_insert_with(|| kernel_structs::kernel_struct(btf, struct_name).ok())
        .as_ref()?;
    let member = layout.fields.iter().find(|f| f.name == name)?;
    let owner = kernel_structs::named_type(btf, struct_name)?;
    Some((owner, member.ty.clone()))
}

/// The value of enumerator `name` of any kernel enum (`TCP_ESTABLISHED`).
pub fn enum_value(name: &str) -> Option<i64> {
    let btf = btf().ok()?;
    (1..btf.type_count()).find_map(|id| match btf.kind(id)? {
        Kind::Enum { values, .. } | Kind::Enum64 { values, .. } => values
            .iter()
            .find(|v| btf.str_at(v.name_off) == name)
            .map(|v| v.value as i64),
        _ => None,
    })
}
