//! `kernel-field-offset`: a kernel struct member's byte offset as a constant that carries a
//! CO-RE relocation, written by `import-kernel-struct`'s accessors with the member's type as
//! the build machine's BTF describes it (the Lisp data `lisp_host` produces).

use crate::ast::{Expr, ExprKind};
use crate::expand::body::Expander;
use whistler_object::{KernelFieldRef, KernelMember, KernelStructRef, KernelType};
use whistler_syntax::Sexp;

impl Expander<'_> {
    /// `(kernel-field-offset STRUCT-TYPE "member" OFFSET MEMBER-TYPE)`.
    pub(super) fn kernel_field_offset(&mut self, form: &Sexp, args: &[Sexp]) -> Expr {
        let structure = match kernel_type(&args[0]) {
            Some(KernelType::Composite(s)) if !s.name.is_empty() => Some(s),
            _ => None,
        };
        let name = args[1].as_str();
        let offset = args[2].as_int().and_then(|n| u32::try_from(n).ok());
        let ty = kernel_type(&args[3]);
        let (Some(structure), Some(name), Some(offset), Some(ty)) = (structure, name, offset, ty)
        else {
            return self.err(
                form.span,
                "`kernel-field-offset` takes a named struct type, a member name, its byte offset \
                 and its type, as `import-kernel-struct` writes them",
            );
        };
        let member = KernelMember {
            name: name.to_string(),
            offset,
            ty,
        };
        let field = KernelFieldRef { structure, member };
        Expr::new(ExprKind::KernelFieldOffset(Box::new(field)), form.span)
    }
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
