//! The CO-RE forms: numbers about the kernel's types (a struct member's byte offset or size,
//! whether a field, type or enum value exists, a type's size, an enum value) as constants that
//! carry a CO-RE relocation, so the loader rewrites them for the running kernel. The macro
//! library writes them (`import-kernel-struct`'s accessors, `kernel-field-exists`...) with the
//! types as the build machine's BTF describes them (the Lisp data `lisp_host` produces).
//! `ctx-load-member` reads a member of the struct the context points to with one relocated load,
//! `btf-load-member` one of a struct at a pointer the verifier knows by its BTF type.

use crate::ast::{Expr, ExprKind};
use crate::expand::body::Expander;
use crate::ir::MemberLoad;
use whistler_bpf::CoreKind;
use whistler_object::{
    KernelEnumerator, KernelFieldRef, KernelMember, KernelStructRef, KernelSubject, KernelType,
    KernelValue,
};
use whistler_syntax::{Sexp, Span};

impl Expander<'_> {
    /// `(kernel-field-offset STRUCT-TYPE "member" OFFSET MEMBER-TYPE)`.
    pub(super) fn kernel_field_offset(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        match kernel_field(args) {
            Some(field) => self.kernel_value(
                form.span,
                CoreKind::FIELD_BYTE_OFFSET,
                KernelSubject::Field(field),
            ),
            None => self.err(
                form.span,
                "`kernel-field-offset` takes a named struct type, a member name, its byte offset \
                 and its type, as `import-kernel-struct` writes them",
            ),
        }
    }

    /// `(kernel-field-relocation KIND STRUCT-TYPE "member" OFFSET MEMBER-TYPE)`.
    pub(super) fn kernel_field_relocation(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let kind = core_kind(&args[0]).filter(|k| k.is_field());
        match (kind, kernel_field(&args[1..])) {
            (Some(kind), Some(field)) => {
                self.kernel_value(form.span, kind, KernelSubject::Field(field))
            }
            _ => self.err(
                form.span,
                "`kernel-field-relocation` takes a field relocation kind (:field-byte-offset, \
                 :field-byte-size, :field-exists, :field-signed, :field-lshift-u64, \
                 :field-rshift-u64), a named struct type, a member name, its byte offset and \
                 its type",
            ),
        }
    }

    /// `(ctx-load-member STRUCT-TYPE "member" OFFSET MEMBER-TYPE)`.
    pub(super) fn ctx_load_member(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let ptr = Expr::new(ExprKind::Ctx, form.span);
        self.member_load(form, ptr, args, "ctx-load-member", "`deftracepoint`")
    }

    /// `(btf-load-member PTR STRUCT-TYPE "member" OFFSET MEMBER-TYPE)`.
    pub(super) fn btf_load_member(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let ptr = self.expr(&args[0]);
        let writer = "the bpftrace front end for fentry arguments";
        self.member_load(form, ptr, &args[1..], "btf-load-member", writer)
    }

    /// One relocated load of the member `args` name from the struct at `ptr` (`FieldLoad`).
    fn member_load(
        &mut self,
        form: &Sexp,
        ptr: Expr,
        args: &[Sexp],
        name: &str,
        writer: &str,
    ) -> Expr {
        let Some(field) = kernel_field(args) else {
            return self.err(
                form.span,
                format!(
                    "`{name}` takes a named struct type, a member name, its byte offset and its \
                     type, as {writer} writes them"
                ),
            );
        };
        if MemberLoad::of(&field).is_none() {
            return self.err(
                form.span,
                format!(
                    "`{name}` reads integer, enum and pointer members of 1, 2, 4 or 8 bytes at \
                     offsets below 32768; `{}.{}` is not one",
                    field.structure.name, field.member.name
                ),
            );
        }
        let (ptr, field) = (ptr.boxed(), Box::new(field));
        Expr::new(ExprKind::FieldLoad { ptr, field }, form.span)
    }

    /// `(kernel-type-relocation KIND TYPE)`.
    pub(super) fn kernel_type_relocation(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let kind = core_kind(&args[0]);
        let kind = kind.filter(|k| matches!(k, CoreKind::TYPE_EXISTS | CoreKind::TYPE_SIZE));
        let ty = kernel_type(&args[1]).filter(|t| !t.name().is_empty());
        match (kind, ty) {
            (Some(kind), Some(ty)) => self.kernel_value(form.span, kind, KernelSubject::Type(ty)),
            _ => self.err(
                form.span,
                "`kernel-type-relocation` takes :type-exists or :type-size and a named struct, \
                 union or enum type",
            ),
        }
    }

    /// `(kernel-enumerator-relocation KIND ENUM-TYPE "NAME" VALUE)`.
    pub(super) fn kernel_enumerator_relocation(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let kind = core_kind(&args[0]);
        let kind = kind.filter(|k| matches!(k, CoreKind::ENUMVAL_EXISTS | CoreKind::ENUMVAL_VALUE));
        let value = args[3].as_int().and_then(|n| i64::try_from(n).ok());
        let enumerator = match (kernel_type(&args[1]), args[2].as_str(), value) {
            (Some(KernelType::Enum { name, size, signed }), Some(value_name), Some(value))
                if !name.is_empty() =>
            {
                Some(KernelEnumerator {
                    enumeration: name,
                    size,
                    signed,
                    name: value_name.to_string(),
                    value,
                })
            }
            _ => None,
        };
        match (kind, enumerator) {
            (Some(kind), Some(e)) => {
                self.kernel_value(form.span, kind, KernelSubject::Enumerator(e))
            }
            _ => self.err(
                form.span,
                "`kernel-enumerator-relocation` takes :enumval-exists or :enumval-value, a named \
                 enum type, the value's name and its number on the build machine",
            ),
        }
    }

    fn kernel_value(&mut self, span: Span, kind: CoreKind, of: KernelSubject) -> Expr {
        let value = KernelValue { kind, of };
        if value.local_value().is_none() {
            return self.err(
                span,
                format!("{kind:?} does not apply to {}", value.subject_name()),
            );
        }
        Expr::new(ExprKind::KernelValue(Box::new(value)), span)
    }
}

/// A relocation kind written as a keyword: `:field-exists`.
fn core_kind(form: &Sexp) -> Option<CoreKind> {
    let symbol = form.as_symbol().filter(|s| s.is_keyword())?;
    CoreKind::from_lisp_name(&symbol.name)
}

/// `STRUCT-TYPE "member" OFFSET MEMBER-TYPE`, as `import-kernel-struct` writes them.
fn kernel_field(args: &[Sexp]) -> Option<KernelFieldRef> {
    let structure = match kernel_type(&args[0])? {
        KernelType::Composite(s) if !s.name.is_empty() => s,
        _ => return None,
    };
    let member = KernelMember {
        name: args[1].as_str()?.to_string(),
        offset: args[2].as_int().and_then(|n| u32::try_from(n).ok())?,
        ty: kernel_type(&args[3])?,
    };
    Some(KernelFieldRef { structure, member })
}

/// A type written as `lisp_host` writes it: (:int SIZE SIGNED), (:ptr), (:enum "name" SIZE
/// SIGNED), (:struct "name" SIZE), (:union "name" SIZE), (:array TYPE COUNT), (:float SIZE).
fn kernel_type(form: &Sexp) -> Option<KernelType> {
    let items = form.as_list()?;
    let head = items.first()?.as_symbol().filter(|s| s.is_keyword())?;
    let number = |i: usize| items.get(i)?.as_int().and_then(|n| u32::try_from(n).ok());
    let string = |i: usize| items.get(i)?.as_str().map(str::to_string);
    let flag = |i: usize| items.get(i).is_some_and(|s| s.is_symbol_named("t"));
    Some(match (head.name.as_str(), items.len()) {
        ("int", 3) => KernelType::Int {
            size: number(1)?,
            signed: flag(2),
        },
        ("ptr", 1) => KernelType::Ptr,
        ("enum", 4) => KernelType::Enum {
            name: string(1)?,
            size: number(2)?,
            signed: flag(3),
        },
        (kind @ ("struct" | "union"), 3) => KernelType::Composite(KernelStructRef {
            name: string(1)?,
            union: kind == "union",
            size: number(2)?,
        }),
        ("array", 3) => KernelType::Array {
            elem: Box::new(kernel_type(&items[1])?),
            count: number(2)?,
        },
        ("float", 2) => KernelType::Float { size: number(1)? },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::kernel_type;
    use whistler_object::KernelType;

    fn read(text: &str) -> Option<KernelType> {
        let file = whistler_syntax::SourceFile::new("t.lisp", text);
        kernel_type(&whistler_syntax::read(&file).forms[0])
    }

    #[test]
    fn kernel_types_read_back_from_their_lisp_form() {
        let int = KernelType::Int {
            size: 4,
            signed: true,
        };
        assert_eq!(read("(:int 4 t)"), Some(int.clone()));
        assert_eq!(
            read("(:array (:int 4 t) 16)"),
            Some(KernelType::Array {
                elem: Box::new(int),
                count: 16
            })
        );
        assert_eq!(read("(:ptr)"), Some(KernelType::Ptr));
        assert_eq!(read("(:int 4)"), None);
        assert_eq!(read("(int 4 t)"), None);
    }
}
