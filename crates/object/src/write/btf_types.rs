//! The `.BTF` of a written object: defstruct structs, each map's definition struct in libbpf's
//! `.maps` format, one FUNC per program and per subprogram, the license variable, and the `.maps`/`license`
//! DATASECs.
//!
//! A map definition is an anonymous struct whose members are pointers, as libbpf's
//! `__uint(name, N)` (`int (*name)[N]`) and `__type(name, T)` (`T *name`) macros produce; its
//! `.maps` slot is exactly as large as that struct (8 bytes per member).
//!
//! BTF names must be C identifiers for the kernel; the spec this module sees already carries
//! [`crate::symbol_name`]s (the writer converts every name first).
//! Struct members are written in offset order, as the kernel requires.

use std::collections::HashMap;

use super::WriteError;
use crate::btf::{func_linkage, var_linkage, Btf, Kind, Member, Param, VarSecInfo, INT_SIGNED};
use crate::{BtfTypeRef, MapSpec, ObjectSpec, StructSpec};
use whistler_bpf::MapType;

/// The BTF and the ids and sizes the rest of the writer needs.
pub(super) struct ObjectBtf {
    pub btf: Btf,
    /// The FUNC type of each program, in `spec.programs` order.
    pub func_type_ids: Vec<u32>,
    /// For each program, its subprograms' first instruction and static FUNC type.
    pub subprogram_func_ids: Vec<Vec<(usize, u32)>>,
    /// The size of each map's `.maps` slot, in `spec.maps` order.
    pub map_slot_sizes: Vec<u32>,
    /// The root type and access string of each CO-RE relocation.
    pub core_records: super::core_relocs::CoreRecords,
}

/// Builds the types, deduplicating integers, pointers and arrays.
pub(super) struct Builder<'a> {
    pub(super) btf: Btf,
    ints: HashMap<(u32, bool), u32>,
    ptrs: HashMap<u32, u32>,
    arrays: HashMap<(u32, u32), u32>,
    structs: HashMap<&'a str, (u32, &'a StructSpec)>,
    index_type: u32,
}

pub(super) fn build(spec: &ObjectSpec) -> Result<ObjectBtf, WriteError> {
    let mut b = Builder::new();
    b.declare_structs(&spec.structs)?;
    for s in &spec.structs {
        b.fill_struct(s)?;
    }
    let core_records = super::core_relocs::describe(&mut b, &spec.programs);
    let mut map_vars = Vec::new();
    let mut map_slot_sizes = Vec::new();
    let mut offset = 0;
    for map in &spec.maps {
        let def = b.map_definition(map)?;
        let size = b.btf.resolve_size(def).unwrap_or(0);
        let var = b.btf.add(
            &map.name,
            Kind::Var {
                ty: def,
                linkage: var_linkage::GLOBAL_ALLOCATED,
            },
        );
        map_vars.push(VarSecInfo {
            ty: var,
            offset,
            size,
        });
        map_slot_sizes.push(size);
        offset += size;
    }
    let func_type_ids = spec
        .programs
        .iter()
        .map(|p| b.func(&p.name, func_linkage::GLOBAL))
        .collect();
    let subprogram_func_ids = spec
        .programs
        .iter()
        .map(|p| {
            let starts = super::subprograms::starts(&p.insns);
            let name = |start| format!("{}__sub{start}", p.name);
            starts
                .into_iter()
                .map(|start| (start, b.func(&name(start), func_linkage::STATIC)))
                .collect()
        })
        .collect();
    let license_var = b.license_var(&spec.license);
    if !map_vars.is_empty() {
        b.btf.add(
            ".maps",
            Kind::Datasec {
                size: offset,
                vars: map_vars,
            },
        );
    }
    b.btf.add(
        "license",
        Kind::Datasec {
            size: spec.license.len() as u32 + 1,
            vars: vec![license_var],
        },
    );
    Ok(ObjectBtf {
        btf: b.btf,
        func_type_ids,
        subprogram_func_ids,
        map_slot_sizes,
        core_records,
    })
}

/// Map types whose kernel implementation accepts BTF key and value types. The others (fd
/// arrays, queues, ring buffers, ...) get `key_size`/`value_size` members instead, as libbpf
/// would drop their type ids anyway.
fn takes_typed_key_value(map_type: u32) -> bool {
    [
        MapType::HASH,
        MapType::ARRAY,
        MapType::PERCPU_HASH,
        MapType::PERCPU_ARRAY,
        MapType::LRU_HASH,
        MapType::LRU_PERCPU_HASH,
        MapType::LPM_TRIE,
        MapType::CGROUP_STORAGE,
        MapType::PERCPU_CGROUP_STORAGE,
        MapType::SK_STORAGE,
        MapType::INODE_STORAGE,
        MapType::TASK_STORAGE,
        MapType::CGRP_STORAGE,
        MapType::BLOOM_FILTER,
    ]
    .iter()
    .any(|t| *t as u32 == map_type)
}

impl<'a> Builder<'a> {
    fn new() -> Builder<'a> {
        let mut btf = Btf::new();
        let index_type = btf.add("__ARRAY_SIZE_TYPE__", Kind::int(4, 0));
        Builder {
            btf,
            ints: HashMap::new(),
            ptrs: HashMap::new(),
            arrays: HashMap::new(),
            structs: HashMap::new(),
            index_type,
        }
    }

    pub(super) fn int(&mut self, size: u32, signed: bool) -> u32 {
        if let Some(&id) = self.ints.get(&(size, signed)) {
            return id;
        }
        let name = match (size, signed) {
            (1, true) => "signed char",
            (1, false) => "unsigned char",
            (2, true) => "short",
            (2, false) => "unsigned short",
            (4, true) => "int",
            (4, false) => "unsigned int",
            (8, true) => "long long",
            _ => "unsigned long long",
        };
        let id = self
            .btf
            .add(name, Kind::int(size, if signed { INT_SIGNED } else { 0 }));
        self.ints.insert((size, signed), id);
        id
    }

    pub(super) fn ptr(&mut self, ty: u32) -> u32 {
        if let Some(&id) = self.ptrs.get(&ty) {
            return id;
        }
        let id = self.btf.add("", Kind::Ptr { ty });
        self.ptrs.insert(ty, id);
        id
    }

    pub(super) fn array(&mut self, elem: u32, nelems: u32) -> u32 {
        if let Some(&id) = self.arrays.get(&(elem, nelems)) {
            return id;
        }
        let index = self.index_type;
        let id = self.btf.add(
            "",
            Kind::Array {
                elem,
                index,
                nelems,
            },
        );
        self.arrays.insert((elem, nelems), id);
        id
    }

    /// Reserves an id for every struct so that structs may refer to each other in any order.
    fn declare_structs(&mut self, structs: &'a [StructSpec]) -> Result<(), WriteError> {
        for s in structs {
            let id = self.btf.add(
                &s.name,
                Kind::Struct {
                    size: s.size,
                    members: Vec::new(),
                    bitfield_encoding: false,
                },
            );
            if self.structs.insert(&s.name, (id, s)).is_some() {
                return Err(WriteError::DuplicateStruct(s.name.clone()));
            }
        }
        Ok(())
    }

    fn fill_struct(&mut self, s: &StructSpec) -> Result<(), WriteError> {
        let mut members = Vec::new();
        for f in &s.fields {
            let ty = self.type_ref(&f.ty)?;
            let size = self.size_of(&f.ty)?;
            if f.offset.checked_add(size).is_none_or(|end| end > s.size) {
                return Err(WriteError::FieldOutOfBounds {
                    structure: s.name.clone(),
                    field: f.name.clone(),
                });
            }
            members.push(Member {
                name_off: self.btf.add_string(&f.name),
                ty,
                bit_offset: f.offset * 8,
                bitfield_size: 0,
            });
        }
        // The kernel wants members in offset order.
        members.sort_by_key(|m| m.bit_offset);
        let (id, _) = self.structs[s.name.as_str()];
        if let Some(Kind::Struct { members: m, .. }) =
            self.btf.type_by_id_mut(id).map(|t| &mut t.kind)
        {
            *m = members;
        }
        Ok(())
    }

    fn type_ref(&mut self, r: &BtfTypeRef) -> Result<u32, WriteError> {
        Ok(match r {
            BtfTypeRef::Int { size, signed } => {
                if ![1, 2, 4, 8].contains(size) {
                    return Err(WriteError::BadIntSize(*size));
                }
                self.int(*size, *signed)
            }
            BtfTypeRef::Array { elem, count } => {
                let elem = self.type_ref(elem)?;
                self.array(elem, *count)
            }
            BtfTypeRef::Struct(name) => self.struct_id(name)?,
        })
    }

    fn struct_id(&self, name: &str) -> Result<u32, WriteError> {
        self.structs
            .get(name)
            .map(|(id, _)| *id)
            .ok_or_else(|| WriteError::UnknownStruct(name.to_string()))
    }

    fn size_of(&self, r: &BtfTypeRef) -> Result<u32, WriteError> {
        match r {
            BtfTypeRef::Int { size, .. } => Ok(*size),
            BtfTypeRef::Array { elem, count } => Ok(self.size_of(elem)?.saturating_mul(*count)),
            BtfTypeRef::Struct(name) => self
                .structs
                .get(name.as_str())
                .map(|(_, s)| s.size)
                .ok_or_else(|| WriteError::UnknownStruct(name.clone())),
        }
    }

    /// `int (*name)[value]`.
    fn uint_member(&mut self, name: &str, value: u32) -> Member {
        let int = self.int(4, true);
        let array = self.array(int, value);
        let ty = self.ptr(array);
        self.member(name, ty)
    }

    /// `T *name`.
    fn type_member(&mut self, name: &str, ty: u32) -> Member {
        let ty = self.ptr(ty);
        self.member(name, ty)
    }

    fn member(&mut self, name: &str, ty: u32) -> Member {
        Member {
            name_off: self.btf.add_string(name),
            ty,
            bit_offset: 0,
            bitfield_size: 0,
        }
    }

    /// The anonymous struct that defines `map`, as libbpf's `parse_btf_map_def` reads it.
    fn map_definition(&mut self, map: &MapSpec) -> Result<u32, WriteError> {
        let typed = takes_typed_key_value(map.map_type);
        let mut members = vec![self.uint_member("type", map.map_type)];
        let key_is_struct = matches!(map.key_type, Some(BtfTypeRef::Struct(_)));
        let typed_key = typed && (map.map_type != MapType::LPM_TRIE as u32 || key_is_struct);
        if map.key_size != 0 {
            members.push(self.key_or_value(map, "key", map.key_size, &map.key_type, typed_key)?);
        }
        if map.value_size != 0 {
            members.push(self.key_or_value(
                map,
                "value",
                map.value_size,
                &map.value_type,
                typed,
            )?);
        }
        if map.max_entries != 0 {
            members.push(self.uint_member("max_entries", map.max_entries));
        }
        if map.map_flags != 0 {
            members.push(self.uint_member("map_flags", map.map_flags));
        }
        for (i, m) in members.iter_mut().enumerate() {
            m.bit_offset = i as u32 * 64;
        }
        let size = members.len() as u32 * 8;
        Ok(self.btf.add(
            "",
            Kind::Struct {
                size,
                members,
                bitfield_encoding: false,
            },
        ))
    }

    /// A `key`/`value` member pointing at the type, or a `key_size`/`value_size` member.
    fn key_or_value(
        &mut self,
        map: &MapSpec,
        what: &'static str,
        size: u32,
        ty: &Option<BtfTypeRef>,
        typed: bool,
    ) -> Result<Member, WriteError> {
        if !typed {
            return Ok(self.uint_member(&format!("{what}_size"), size));
        }
        let id = match ty {
            Some(r) => {
                let declared = self.size_of(r)?;
                if declared != size {
                    return Err(WriteError::SizeMismatch {
                        map: map.name.clone(),
                        what,
                        size,
                        type_size: declared,
                    });
                }
                self.type_ref(r)?
            }
            None if [1, 2, 4, 8].contains(&size) => self.int(size, false),
            None => {
                let byte = self.int(1, false);
                self.array(byte, size)
            }
        };
        Ok(self.type_member(what, id))
    }

    /// `int name(void *ctx)`: programs have global linkage, their subprograms static (the
    /// verifier checks static subprograms from their callers, not from this prototype).
    fn func(&mut self, name: &str, linkage: u32) -> u32 {
        let int = self.int(4, true);
        let void_ptr = self.ptr(0);
        let ctx = self.btf.add_string("ctx");
        let proto = self.btf.add(
            "",
            Kind::FuncProto {
                ret: int,
                params: vec![Param {
                    name_off: ctx,
                    ty: void_ptr,
                }],
            },
        );
        self.btf.add(name, Kind::Func { proto, linkage })
    }

    /// `char _license[N]`, as the `license` DATASEC's only variable.
    fn license_var(&mut self, license: &str) -> VarSecInfo {
        let char_type = self.btf.add("char", Kind::int(1, INT_SIGNED));
        let size = license.len() as u32 + 1;
        let array = self.array(char_type, size);
        let var = self.btf.add(
            "_license",
            Kind::Var {
                ty: array,
                linkage: var_linkage::GLOBAL_ALLOCATED,
            },
        );
        VarSecInfo {
            ty: var,
            offset: 0,
            size,
        }
    }
}
