//! The embedded Common Lisp evaluator as the compiler's macro host: top-level `defmacro`,
//! `defun`, `defvar`... are evaluated, and macro calls in program bodies are expanded, by a
//! [`whistler_lisp::Interp`] preloaded with the standard macro library (`lib/*.lisp`).

use crate::expand::MacroHost;
use crate::kernel_structs::{
    kernel_enum, kernel_struct, named_type, tracepoint_record, FieldAccess, KernelField,
    KernelStruct, TracepointRecord,
};
use std::cell::OnceCell;
use std::rc::Rc;
use whistler_lisp::{EvalError, Interp, Value};
use whistler_object::btf::LazyBtf;
use whistler_object::{KernelStructRef, KernelType};
use whistler_syntax::{Diagnostic, LibraryList, ReadOptions, Sexp, SourceFile, Symbol};

/// The standard macro library, in load order: (file name, text, its top-level lists). Written
/// by the build script (`build.rs`, which holds the list of files), which splits each text
/// into its top-level lists ahead of time.
pub const STANDARD_LIBRARY: &[(&str, &str, &[LibraryList<'static>])] =
    include!(concat!(env!("OUT_DIR"), "/standard_library.rs"));

/// An evaluator with the standard macro library loaded.
///
/// # Panics
/// When the shipped library fails to load: a bug caught by this crate's tests.
pub fn standard_interp() -> Interp {
    let mut interp = Interp::new();
    load_standard_library(&mut interp)
        .unwrap_or_else(|errors| panic!("the standard macro library does not load: {errors:?}"));
    interp
}

/// Loads the standard library into `interp`, reporting errors against the library's own text.
/// Its `defmacro`s and `defun`s are evaluated on first use
/// ([`Interp::load_library`]): a program pays for the macros it uses.
/// The kernel's named constants come first (see [`define_kernel_constants`]).
pub fn load_standard_library(interp: &mut Interp) -> Result<(), Vec<String>> {
    interp.define_constant_table(Rc::new(KernelConstants));
    let mut errors = Vec::new();
    for (name, text, lists) in STANDARD_LIBRARY {
        let diagnostics = interp.load_split_library(text, lists, ReadOptions::default());
        if !diagnostics.is_empty() {
            let file = SourceFile::new(*name, *text);
            errors.extend(
                diagnostics
                    .iter()
                    .map(|d| whistler_syntax::render(&file, d)),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Defines kernel constants, given by their kernel names, as Lisp constants: `XDP_PASS` becomes
/// `+xdp-pass+` ([`lisp_constant_name`]). The numbers stay in `whistler-bpf`; Lisp code never
/// restates them.
pub fn define_kernel_constants<'a>(
    interp: &mut Interp,
    constants: impl IntoIterator<Item = (&'a str, i64)>,
) {
    for (kernel_name, value) in constants {
        let name = lisp_constant_name(kernel_name);
        interp.define_constant(&Symbol::new(name), Value::int(value));
    }
}

/// The Lisp name of the kernel constant `kernel_name`: `XDP_PASS` is `+xdp-pass+`.
fn lisp_constant_name(kernel_name: &str) -> String {
    format!("+{}+", kernel_name.to_ascii_lowercase().replace('_', "-"))
}

/// `whistler_bpf::consts::CONSTANTS` under their Lisp names ([`lisp_constant_name`]), looked
/// up when a program names one rather than all defined ahead.
struct KernelConstants;

impl whistler_lisp::ConstantTable for KernelConstants {
    fn value(&self, name: &str) -> Option<Value> {
        let kernel_name = name.strip_prefix('+')?.strip_suffix('+')?;
        // `by_name` also takes other spellings (`xdp_pass`, capitals): only this one is Lisp's.
        if kernel_name
            .bytes()
            .any(|b| b == b'_' || b.is_ascii_uppercase())
        {
            return None;
        }
        whistler_bpf::consts::by_name(kernel_name).map(Value::int)
    }

    fn names(&self) -> Vec<String> {
        let constants = whistler_bpf::consts::CONSTANTS.iter();
        constants
            .map(|(name, _)| lisp_constant_name(name))
            .collect()
    }
}

/// [`standard_interp`] that can read the kernel a program is built for: `deftracepoint` gets a
/// tracepoint's format text from `tracepoint_format(category, event)` (through the host function
/// `%tracepoint-format`) and `import-kernel-struct` reads struct layouts from the BTF bytes
/// `vmlinux_btf()` returns (read and indexed once, on first use; host function `%kernel-struct`; the CO-RE
/// forms also ask `%kernel-type` for a named struct, union or enum, and `%kernel-enum` for an
/// enum's values, each NIL when the kernel has none; `deftracepoint` asks `%tracepoint-record`
/// for an event's record). An `Err`
/// becomes a Lisp error with its text. The compiler does no I/O: the embedding program supplies
/// both (tracefs and `/sys/kernel/btf/vmlinux`, or files).
pub fn standard_interp_for_kernel<E1: std::fmt::Display, E2: std::fmt::Display>(
    tracepoint_format: impl Fn(&str, &str) -> Result<String, E1> + 'static,
    vmlinux_btf: impl Fn() -> Result<Vec<u8>, E2> + 'static,
) -> Interp {
    let mut interp = standard_interp();
    interp.define_builtin(
        "%tracepoint-format",
        Box::new(move |_, args, span| {
            let arg = |i: usize| args.get(i).and_then(Value::as_str).unwrap_or_default();
            tracepoint_format(&arg(0), &arg(1))
                .map(Value::string)
                .map_err(|e| EvalError::new("error", e.to_string(), span))
        }),
    );
    let btf: Rc<OnceCell<Result<LazyBtf, String>>> = Rc::default();
    let vmlinux_btf = Rc::new(vmlinux_btf);
    // Each host function indexes the BTF on first use, into the one cell they share; types are
    // decoded as lookups reach them.
    let reader = |read: fn(&mut Interp, &LazyBtf, &str) -> Result<Value, String>| {
        let (btf, vmlinux_btf) = (btf.clone(), vmlinux_btf.clone());
        Box::new(move |interp: &mut Interp, args: &[Value], span| {
            let btf = btf.get_or_init(|| {
                let bytes =
                    vmlinux_btf().map_err(|e| format!("cannot read the kernel's BTF: {e}"))?;
                LazyBtf::from_bytes(bytes)
                    .map_err(|e| format!("cannot decode the kernel's BTF: {e}"))
            });
            let name = args.first().and_then(Value::as_str).unwrap_or_default();
            btf.as_ref()
                .map_err(String::clone)
                .and_then(|btf| read(interp, btf, &name))
                .map_err(|e| EvalError::new("error", e, span))
        })
    };
    interp.define_builtin(
        "%kernel-struct",
        reader(|interp, btf, name| Ok(layout_value(interp, &kernel_struct(btf, name)?))),
    );
    interp.define_builtin(
        "%kernel-type",
        reader(|interp, btf, name| {
            Ok(named_type(btf, name).map_or(Value::Nil, |t| kernel_type_value(interp, &t)))
        }),
    );
    interp.define_builtin(
        "%tracepoint-record",
        reader(|interp, btf, event| {
            Ok(tracepoint_record(btf, event).map_or(Value::Nil, |r| record_value(interp, &r)))
        }),
    );
    interp.define_builtin(
        "%kernel-enum",
        reader(|interp, btf, name| {
            Ok(kernel_enum(btf, name).map_or(Value::Nil, |(ty, values)| {
                let values = values.into_iter().map(|(name, value)| {
                    Value::list([Value::string(name.as_str()), Value::int(value)])
                });
                Value::list([
                    kernel_type_value(interp, &ty),
                    Value::list(values.collect::<Vec<_>>()),
                ])
            }))
        }),
    );
    interp
}

/// A struct layout as `%kernel-struct` returns it: (SIZE (MEMBER...) STRUCT-TYPE), each MEMBER as
/// [`member_value`] writes it, STRUCT-TYPE as [`kernel_type_value`] does.
fn layout_value(interp: &mut Interp, layout: &KernelStruct) -> Value {
    let fields = layout
        .fields
        .iter()
        .map(|field| member_value(interp, field));
    let fields: Vec<Value> = fields.collect();
    let structure = KernelType::Composite(KernelStructRef {
        name: layout.name.clone(),
        union: layout.union,
        size: layout.size,
    });
    Value::list([
        Value::int(i64::from(layout.size)),
        Value::list(fields),
        kernel_type_value(interp, &structure),
    ])
}

/// A tracepoint record as `%tracepoint-record` returns it: (STRUCT-TYPE (("field" . MEMBER)...)),
/// each field by the format file's name, MEMBER as [`member_value`] writes it.
fn record_value(interp: &mut Interp, record: &TracepointRecord) -> Value {
    let fields = record.fields.iter().map(|(name, member)| {
        Value::cons(Value::string(name.as_str()), member_value(interp, member))
    });
    let fields: Vec<Value> = fields.collect();
    Value::list([
        kernel_type_value(interp, &record.structure),
        Value::list(fields),
    ])
}

/// A struct member as Lisp data: ("name" OFFSET ACCESS TYPE BTF-TYPE), ACCESS `:value` (TYPE the
/// load type), `:address` (TYPE the embedded struct's name or NIL) or `:bitfield`, BTF-TYPE as
/// [`kernel_type_value`] writes it.
fn member_value(interp: &mut Interp, field: &KernelField) -> Value {
    let (access, ty) = match &field.access {
        FieldAccess::Value(ty) => (":value", Value::sym(&interp.symbol(ty.name()))),
        FieldAccess::Address(name) => (
            ":address",
            name.as_deref().map_or(Value::Nil, Value::string),
        ),
        FieldAccess::Bitfield => (":bitfield", Value::Nil),
    };
    Value::list([
        Value::string(field.name.as_str()),
        Value::int(i64::from(field.offset)),
        Value::sym(&interp.symbol(access)),
        ty,
        kernel_type_value(interp, &field.ty),
    ])
}

/// A kernel type as Lisp data, which the `kernel-field-offset` form reads back: (:int SIZE
/// SIGNED), (:ptr), (:enum "name" SIZE SIGNED), (:struct "name" SIZE), (:union "name" SIZE),
/// (:array ELEMENT-TYPE COUNT), (:float SIZE).
fn kernel_type_value(interp: &mut Interp, ty: &KernelType) -> Value {
    let t = interp.symbol("t");
    let flag = |b: bool| Value::bool(b, &t);
    let size = |n: u32| Value::int(i64::from(n));
    let mut keyword = |name: &str| Value::sym(&interp.symbol(name));
    match ty {
        KernelType::Int { size: n, signed } => {
            Value::list([keyword(":int"), size(*n), flag(*signed)])
        }
        KernelType::Ptr => Value::list([keyword(":ptr")]),
        KernelType::Enum {
            name,
            size: n,
            signed,
        } => Value::list([
            keyword(":enum"),
            Value::string(name.as_str()),
            size(*n),
            flag(*signed),
        ]),
        KernelType::Composite(s) => Value::list([
            keyword(if s.union { ":union" } else { ":struct" }),
            Value::string(s.name.as_str()),
            size(s.size),
        ]),
        KernelType::Array { elem, count } => {
            let array = keyword(":array");
            Value::list([array, kernel_type_value(interp, elem), size(*count)])
        }
        KernelType::Float { size: n } => Value::list([keyword(":float"), size(*n)]),
    }
}

impl MacroHost for Interp {
    fn eval_toplevel(&mut self, form: &Sexp) -> Result<(), Vec<Diagnostic>> {
        Interp::eval_toplevel(self, form)
            .map(drop)
            .map_err(|e| e.to_diagnostics())
    }

    fn is_macro(&self, name: &Symbol) -> bool {
        Interp::is_macro(self, name)
    }

    fn macroexpand_1(&mut self, form: &Sexp) -> Result<Option<Sexp>, Vec<Diagnostic>> {
        Interp::macroexpand_1(self, form).map_err(|e| e.to_diagnostics())
    }

    fn macro_names(&self) -> Vec<String> {
        Interp::macro_names(self)
    }

    fn constant_value(&self, name: &Symbol) -> Option<i64> {
        integer_bits(&self.global_value(name)?)
    }

    fn eval_integer(&mut self, form: &Sexp) -> Result<i64, Vec<Diagnostic>> {
        let value = Interp::eval_toplevel(self, form).map_err(|e| e.to_diagnostics())?;
        integer_bits(&value).ok_or_else(|| {
            let printed = whistler_lisp::prin1(&value);
            let what = if matches!(value, Value::Int(..) | Value::Big(_)) {
                format!("{printed} does not fit in 64 bits")
            } else {
                format!("`{form}` is {printed}, not an integer")
            };
            vec![Diagnostic::error(form.span, what)]
        })
    }

    fn describe_global(&self, name: &Symbol) -> Option<String> {
        if name.is_keyword() {
            return None;
        }
        self.global_value(name).map(|v| whistler_lisp::prin1(&v))
    }
}

/// A Lisp integer as the 64 bits a program holds: from -2^63 to 2^64-1, negative numbers in
/// two's complement (C's conversion); `None` for anything else.
fn integer_bits(value: &Value) -> Option<i64> {
    let n: i128 = match value {
        Value::Int(n, _) => (*n).into(),
        Value::Big(b) => i128::try_from(&**b).ok()?,
        _ => return None,
    };
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&n)
        .then_some(n as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_standard_library_loads() {
        let mut interp = whistler_lisp::Interp::new();
        assert_eq!(super::load_standard_library(&mut interp), Ok(()));
        let deferred_errors: Vec<String> = interp
            .define_all_deferred()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(deferred_errors, Vec::<String>::new());
    }

    /// Each library file splits into its top-level lists without being read, so a program
    /// reads only the definitions it uses; the build script's tables are those splits.
    #[test]
    fn the_standard_library_splits_without_reading() {
        for (name, text, lists) in super::STANDARD_LIBRARY {
            let split = whistler_syntax::library_lists(text);
            assert_eq!(split.as_deref(), Some(*lists), "{name}");
        }
    }
}
