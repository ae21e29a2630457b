//! The built-in body forms: one table of name, arity, syntax, summary and expansion, from which
//! the expander dispatches, checks argument counts, tells built-ins from macros, and draws its
//! "did you mean" suggestions; [`forms`] makes it public (reference pages are generated from it).
//!
//! A form found here is always this form: it wins over a macro of the same name, and its
//! handler reports its own mistakes (a bad type in `(load u7 p 0)` is one error, never a fall
//! through to "unknown form"). Names not here are, in order: user and library macros, struct
//! accessors (`calls.rs`), kernel helpers (`calls.rs`), else an unknown form.
//!
//! Handlers live by topic: `control.rs`, `bindings.rs`, `arith.rs`, `memory.rs`, `context.rs`,
//! `maps.rs`, `places.rs`, `kernel.rs`.

mod arith;
mod bindings;
mod calls;
mod context;
mod control;
mod kernel;
mod maps;
mod memory;
mod places;

use maps::{MAP_DELETE, MAP_LOOKUP};
pub(super) use places::store;

use super::body::Expander;
use crate::ast::Expr;
use crate::ops::{BinOp, Cond, UnOp};
use std::collections::HashMap;
use std::sync::OnceLock;
use whistler_syntax::Sexp;

/// How many arguments a form takes. Forms that check their own shape (`let`, `dotimes`...)
/// accept any count here and report a mistake with the form's syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arity {
    pub min: usize,
    /// `None`: no upper bound.
    pub max: Option<usize>,
}

impl Arity {
    pub const fn exactly(n: usize) -> Arity {
        Arity {
            min: n,
            max: Some(n),
        }
    }

    pub const fn between(min: usize, max: usize) -> Arity {
        Arity {
            min,
            max: Some(max),
        }
    }

    pub const fn at_least(min: usize) -> Arity {
        Arity { min, max: None }
    }

    pub fn accepts(self, count: usize) -> bool {
        count >= self.min && self.max.is_none_or(|max| count <= max)
    }
}

impl std::fmt::Display for Arity {
    /// "2", "2 to 3", "at least 1".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.max {
            Some(max) if max == self.min => write!(f, "{max}"),
            Some(max) => write!(f, "{} to {max}", self.min),
            None => write!(f, "at least {}", self.min),
        }
    }
}

/// Expands a call whose argument count the table has checked: (expander, whole form, arguments).
type Expand = fn(&mut Expander<'_>, &Sexp, &[Sexp]) -> Expr;

/// One built-in body form.
pub struct Form {
    pub name: &'static str,
    pub arity: Arity,
    /// How a call is written, e.g. `(load TYPE PTR [OFFSET])`.
    pub syntax: &'static str,
    /// What the form does, in one line.
    pub summary: &'static str,
    expand: Expand,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form")
            .field("name", &self.name)
            .field("arity", &self.arity)
            .field("syntax", &self.syntax)
            .finish_non_exhaustive()
    }
}

/// Every built-in body form, grouped by topic.
pub fn forms() -> &'static [Form] {
    FORMS
}

/// The built-in form called `name`.
pub(super) fn find(name: &str) -> Option<&'static Form> {
    static INDEX: OnceLock<HashMap<&'static str, &'static Form>> = OnceLock::new();
    INDEX
        .get_or_init(|| FORMS.iter().map(|f| (f.name, f)).collect())
        .get(name)
        .copied()
}

impl Expander<'_> {
    /// Expands a call of a built-in form after checking its argument count.
    pub(super) fn builtin(&mut self, builtin: &Form, form: &Sexp, args: &[Sexp]) -> Expr {
        if !self.arity(form, builtin.name, args, builtin.arity) {
            return Expr::int(0, form.span);
        }
        (builtin.expand)(self, form, args)
    }

    /// Checks a call's argument count against the table (for forms also read as places).
    pub(super) fn builtin_arity(&mut self, form: &Sexp, name: &str, args: &[Sexp]) -> bool {
        let arity = find(name).map_or(Arity::at_least(0), |f| f.arity);
        self.arity(form, name, args, arity)
    }
}

const ANY: Arity = Arity::at_least(0);

static FORMS: &[Form] = &[
    // ---- control flow (control.rs) ----
    Form {
        name: "progn",
        arity: ANY,
        syntax: "(progn FORM...)",
        summary:
            "Evaluates the forms in order; the value is the last one's (0 when there is none).",
        expand: |x, form, args| x.body(args, form.span),
    },
    Form {
        name: "if",
        arity: Arity::between(2, 3),
        syntax: "(if TEST THEN [ELSE])",
        summary: "THEN when TEST is non-zero, else ELSE (0 when absent).",
        expand: |x, form, args| x.if_form(form, args),
    },
    Form {
        name: "when",
        arity: Arity::at_least(1),
        syntax: "(when TEST FORM...)",
        summary: "The forms when TEST is non-zero, else 0.",
        expand: |x, form, args| x.when_form(form, args, true),
    },
    Form {
        name: "unless",
        arity: Arity::at_least(1),
        syntax: "(unless TEST FORM...)",
        summary: "The forms when TEST is zero, else 0.",
        expand: |x, form, args| x.when_form(form, args, false),
    },
    Form {
        name: "cond",
        arity: ANY,
        syntax: "(cond (TEST FORM...)... [(t FORM...)])",
        summary: "The forms of the first clause whose TEST is non-zero (a clause of a TEST alone \
                  gives its value), else 0.",
        expand: |x, form, args| x.cond_form(args, form.span),
    },
    Form {
        name: "case",
        arity: Arity::at_least(1),
        syntax: "(case KEY (KEYS FORM...)... [(t FORM...)])",
        summary: "The forms of the first clause whose constant KEYS (one, or a list) hold KEY's \
                  value, else 0.",
        expand: |x, form, args| x.case_form(form, args),
    },
    Form {
        name: "and",
        arity: ANY,
        syntax: "(and FORM...)",
        summary: "0 at the first form valued 0, else the last form's value (1 when empty).",
        expand: |x, form, args| x.and_or(form, args, true),
    },
    Form {
        name: "or",
        arity: ANY,
        syntax: "(or FORM...)",
        summary: "The first non-zero form's value, else 0.",
        expand: |x, form, args| x.and_or(form, args, false),
    },
    Form {
        name: "not",
        arity: Arity::exactly(1),
        syntax: "(not X)",
        summary: "1 when X is 0, else 0.",
        expand: |x, form, args| x.not_form(form, args),
    },
    Form {
        name: "zerop",
        arity: Arity::exactly(1),
        syntax: "(zerop X)",
        summary: "1 when X is 0, else 0.",
        expand: |x, form, args| x.not_form(form, args),
    },
    Form {
        name: "return",
        arity: Arity::between(0, 1),
        syntax: "(return [VALUE])",
        summary: "Ends the program with VALUE (0), also from inside `dotimes`.",
        expand: |x, form, args| x.return_form(form, args),
    },
    Form {
        name: "dotimes",
        arity: ANY,
        syntax: "(dotimes (VAR COUNT) FORM...)",
        summary: "Runs the forms COUNT times (a constant up to 1048576), VAR counting from 0.",
        expand: |x, form, args| x.dotimes(form, args),
    },
    Form {
        name: "declare",
        arity: ANY,
        syntax: "(declare (type TYPE NAME...)...)",
        summary: "Types of variables, at the start of a `let` body; valued 0 elsewhere.",
        expand: |_, form, _| Expr::int(0, form.span),
    },
    // ---- variables (bindings.rs) ----
    Form {
        name: "let",
        arity: ANY,
        syntax: "(let ((NAME [TYPE] INIT)...) FORM...)",
        summary: "Binds the variables (all initial values first), then evaluates the forms.",
        expand: |x, form, args| x.let_form(form, false, args),
    },
    Form {
        name: "let*",
        arity: ANY,
        syntax: "(let* ((NAME [TYPE] INIT)...) FORM...)",
        summary: "Binds the variables one after another, then evaluates the forms.",
        expand: |x, form, args| x.let_form(form, true, args),
    },
    Form {
        name: "when-let",
        arity: ANY,
        syntax: "(when-let ((NAME INIT)...) FORM...)",
        summary: "Binds the variables; the forms when every one is non-zero, else 0.",
        expand: |x, form, args| x.when_let(form, args),
    },
    Form {
        name: "if-let",
        arity: Arity::between(2, 3),
        syntax: "(if-let (NAME INIT) THEN [ELSE])",
        summary: "Binds NAME; THEN when it is non-zero, else ELSE (0).",
        expand: |x, form, args| x.if_let(form, args),
    },
    // ---- places (places.rs) ----
    Form {
        name: "setf",
        arity: ANY,
        syntax: "(setf PLACE VALUE...)",
        summary: "Writes each VALUE to its PLACE (variable, struct field, `load`, `ctx` field, \
                  `getmap` entry); valued the last VALUE.",
        expand: |x, form, args| x.setf(form, "setf", args),
    },
    Form {
        name: "setq",
        arity: ANY,
        syntax: "(setq PLACE VALUE...)",
        summary: "The same as `setf`.",
        expand: |x, form, args| x.setf(form, "setq", args),
    },
    Form {
        name: "incf",
        arity: Arity::between(1, 2),
        syntax: "(incf PLACE [DELTA])",
        summary: "Adds DELTA (1) to PLACE; a missing hash map entry is inserted as DELTA.",
        expand: |x, form, args| x.incf(form, args, false),
    },
    Form {
        name: "decf",
        arity: Arity::between(1, 2),
        syntax: "(decf PLACE [DELTA])",
        summary: "Subtracts DELTA (1) from PLACE.",
        expand: |x, form, args| x.incf(form, args, true),
    },
    // ---- arithmetic, comparisons, conversions (arith.rs) ----
    Form {
        name: "+",
        arity: ANY,
        syntax: "(+ X...)",
        summary: "The sum, wrapping at 64 bits (0 when empty).",
        expand: |x, form, args| x.fold_args(form, args, BinOp::Add, 0),
    },
    Form {
        name: "*",
        arity: ANY,
        syntax: "(* X...)",
        summary: "The product, wrapping at 64 bits (1 when empty).",
        expand: |x, form, args| x.fold_args(form, args, BinOp::Mul, 1),
    },
    Form {
        name: "logand",
        arity: ANY,
        syntax: "(logand X...)",
        summary: "Bitwise and (all ones when empty).",
        expand: |x, form, args| x.fold_args(form, args, BinOp::And, -1),
    },
    Form {
        name: "logior",
        arity: ANY,
        syntax: "(logior X...)",
        summary: "Bitwise or (0 when empty).",
        expand: |x, form, args| x.fold_args(form, args, BinOp::Or, 0),
    },
    Form {
        name: "logxor",
        arity: ANY,
        syntax: "(logxor X...)",
        summary: "Bitwise exclusive or (0 when empty).",
        expand: |x, form, args| x.fold_args(form, args, BinOp::Xor, 0),
    },
    Form {
        name: "-",
        arity: Arity::at_least(1),
        syntax: "(- X Y...)",
        summary: "X minus every Y; with X alone, its negation.",
        expand: |x, form, args| x.minus(form, args),
    },
    Form {
        name: "/",
        arity: Arity::exactly(2),
        syntax: "(/ X Y)",
        summary: "Unsigned division (the kernel makes X / 0 zero; a constant 0 is an error).",
        expand: |x, form, args| x.binary(form, args, BinOp::Div),
    },
    Form {
        name: "mod",
        arity: Arity::exactly(2),
        syntax: "(mod X Y)",
        summary: "Unsigned remainder (the kernel makes X mod 0 X; a constant 0 is an error).",
        expand: |x, form, args| x.binary(form, args, BinOp::Mod),
    },
    Form {
        name: "rem",
        arity: Arity::exactly(2),
        syntax: "(rem X Y)",
        summary: "The same as `mod`.",
        expand: |x, form, args| x.binary(form, args, BinOp::Mod),
    },
    Form {
        name: "<<",
        arity: Arity::exactly(2),
        syntax: "(<< X N)",
        summary: "X shifted left by N bits (0 to 63).",
        expand: |x, form, args| x.binary(form, args, BinOp::Lsh),
    },
    Form {
        name: ">>",
        arity: Arity::exactly(2),
        syntax: "(>> X N)",
        summary: "X shifted right by N bits (0 to 63), filling with zeros.",
        expand: |x, form, args| x.binary(form, args, BinOp::Rsh),
    },
    Form {
        name: ">>>",
        arity: Arity::exactly(2),
        syntax: "(>>> X N)",
        summary: "X shifted right by N bits (0 to 63), copying the sign bit.",
        expand: |x, form, args| x.binary(form, args, BinOp::Arsh),
    },
    Form {
        name: "ash",
        arity: Arity::exactly(2),
        syntax: "(ash X N)",
        summary: "X shifted left by the constant N (-63 to 63), arithmetically right when N < 0.",
        expand: |x, form, args| x.ash(form, args),
    },
    Form {
        name: "lognot",
        arity: Arity::exactly(1),
        syntax: "(lognot X)",
        summary: "X with every bit flipped.",
        expand: |x, form, args| x.with_constant(form, args, BinOp::Xor, -1),
    },
    Form {
        name: "1+",
        arity: Arity::exactly(1),
        syntax: "(1+ X)",
        summary: "X plus 1.",
        expand: |x, form, args| x.with_constant(form, args, BinOp::Add, 1),
    },
    Form {
        name: "1-",
        arity: Arity::exactly(1),
        syntax: "(1- X)",
        summary: "X minus 1.",
        expand: |x, form, args| x.with_constant(form, args, BinOp::Sub, 1),
    },
    Form {
        name: "=",
        arity: Arity::exactly(2),
        syntax: "(= X Y)",
        summary: "1 when X equals Y, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Eq),
    },
    Form {
        name: "/=",
        arity: Arity::exactly(2),
        syntax: "(/= X Y)",
        summary: "1 when X differs from Y, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Ne),
    },
    Form {
        name: ">",
        arity: Arity::exactly(2),
        syntax: "(> X Y)",
        summary: "1 when X > Y as unsigned numbers, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Gt),
    },
    Form {
        name: ">=",
        arity: Arity::exactly(2),
        syntax: "(>= X Y)",
        summary: "1 when X >= Y as unsigned numbers, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Ge),
    },
    Form {
        name: "<",
        arity: Arity::exactly(2),
        syntax: "(< X Y)",
        summary: "1 when X < Y as unsigned numbers, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Lt),
    },
    Form {
        name: "<=",
        arity: Arity::exactly(2),
        syntax: "(<= X Y)",
        summary: "1 when X <= Y as unsigned numbers, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Le),
    },
    Form {
        name: "s>",
        arity: Arity::exactly(2),
        syntax: "(s> X Y)",
        summary: "1 when X > Y as signed numbers, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Sgt),
    },
    Form {
        name: "s>=",
        arity: Arity::exactly(2),
        syntax: "(s>= X Y)",
        summary: "1 when X >= Y as signed numbers, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Sge),
    },
    Form {
        name: "s<",
        arity: Arity::exactly(2),
        syntax: "(s< X Y)",
        summary: "1 when X < Y as signed numbers, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Slt),
    },
    Form {
        name: "s<=",
        arity: Arity::exactly(2),
        syntax: "(s<= X Y)",
        summary: "1 when X <= Y as signed numbers, else 0.",
        expand: |x, form, args| x.compare(form, args, Cond::Sle),
    },
    Form {
        name: "cast",
        arity: Arity::exactly(2),
        syntax: "(cast TYPE X)",
        summary: "X converted to TYPE: truncated, then zero- or sign-extended.",
        expand: |x, form, args| x.cast(form, args),
    },
    Form {
        name: "the",
        arity: Arity::exactly(2),
        syntax: "(the TYPE X)",
        summary: "The same as `cast`.",
        expand: |x, form, args| x.cast(form, args),
    },
    Form {
        name: "ntohs",
        arity: Arity::exactly(1),
        syntax: "(ntohs X)",
        summary: "The low 16 bits of X with their two bytes swapped (network to host order).",
        expand: |x, form, args| x.unary(form, args, UnOp::Swap16),
    },
    Form {
        name: "htons",
        arity: Arity::exactly(1),
        syntax: "(htons X)",
        summary: "The low 16 bits of X with their two bytes swapped (host to network order).",
        expand: |x, form, args| x.unary(form, args, UnOp::Swap16),
    },
    Form {
        name: "ntohl",
        arity: Arity::exactly(1),
        syntax: "(ntohl X)",
        summary: "The low 32 bits of X with their bytes reversed (network to host order).",
        expand: |x, form, args| x.unary(form, args, UnOp::Swap32),
    },
    Form {
        name: "htonl",
        arity: Arity::exactly(1),
        syntax: "(htonl X)",
        summary: "The low 32 bits of X with their bytes reversed (host to network order).",
        expand: |x, form, args| x.unary(form, args, UnOp::Swap32),
    },
    Form {
        name: "ntohll",
        arity: Arity::exactly(1),
        syntax: "(ntohll X)",
        summary: "X with its eight bytes reversed (network to host order).",
        expand: |x, form, args| x.unary(form, args, UnOp::Swap64),
    },
    Form {
        name: "htonll",
        arity: Arity::exactly(1),
        syntax: "(htonll X)",
        summary: "X with its eight bytes reversed (host to network order).",
        expand: |x, form, args| x.unary(form, args, UnOp::Swap64),
    },
    Form {
        name: "sizeof",
        arity: ANY,
        syntax: "(sizeof STRUCT-OR-TYPE)",
        summary: "The size in bytes of a struct, union or scalar type (a constant).",
        expand: |x, form, args| x.sizeof(form, args),
    },
    // ---- memory and raw instructions (memory.rs) ----
    Form {
        name: "load",
        arity: Arity::between(2, 3),
        syntax: "(load TYPE PTR [OFFSET])",
        summary: "The TYPE value at PTR + OFFSET (0); a place for `setf`.",
        expand: |x, form, args| x.load_form(form, args),
    },
    Form {
        name: "store",
        arity: Arity::exactly(4),
        syntax: "(store TYPE PTR OFFSET VALUE)",
        summary: "Writes VALUE as a TYPE at PTR + OFFSET.",
        expand: |x, form, args| x.store_form(form, args),
    },
    Form {
        name: "ctx-load",
        arity: Arity::exactly(2),
        syntax: "(ctx-load TYPE OFFSET)",
        summary: "The TYPE value at OFFSET in the program's context.",
        expand: |x, form, args| x.ctx_access(form, args, false),
    },
    Form {
        name: "ctx-store",
        arity: Arity::exactly(3),
        syntax: "(ctx-store TYPE OFFSET VALUE)",
        summary: "Writes VALUE as a TYPE at OFFSET in the program's context.",
        expand: |x, form, args| x.ctx_access(form, args, true),
    },
    Form {
        name: "stack-addr",
        arity: Arity::exactly(1),
        syntax: "(stack-addr VAR)",
        summary: "The stack address of VAR, a variable bound by `let` (kept in memory for it).",
        expand: |x, form, args| x.stack_addr(form, args),
    },
    Form {
        name: "struct-alloc",
        arity: Arity::exactly(1),
        syntax: "(struct-alloc SIZE)",
        summary: "The address of a zeroed stack buffer of SIZE bytes (a constant).",
        expand: |x, form, args| x.struct_alloc(form, args),
    },
    Form {
        name: "atomic-add",
        arity: Arity::between(3, 4),
        syntax: "(atomic-add PTR OFFSET VALUE [TYPE])",
        summary: "Atomically adds VALUE to the u64 (or u32 TYPE) at PTR + OFFSET.",
        expand: |x, form, args| x.atomic_add(form, args),
    },
    Form {
        name: "memset",
        arity: Arity::exactly(4),
        syntax: "(memset PTR OFFSET BYTE LENGTH)",
        summary:
            "Fills LENGTH bytes (a constant up to 4096) at PTR + OFFSET (a constant) with BYTE.",
        expand: |x, form, args| x.memset(form, args),
    },
    Form {
        name: "memcpy",
        arity: Arity::exactly(5),
        syntax: "(memcpy DST DST-OFFSET SRC SRC-OFFSET LENGTH)",
        summary: "Copies LENGTH bytes (a constant up to 4096) between constant offsets.",
        expand: |x, form, args| x.memcpy(form, args),
    },
    Form {
        name: "asm",
        arity: Arity::exactly(5),
        syntax: "(asm OPCODE DST SRC OFF IMM)",
        summary: "One raw instruction from constant fields; R0-R5 count as clobbered, the value \
                  is R0.",
        expand: |x, form, args| x.asm(form, args),
    },
    // ---- kernel structs (kernel.rs) ----
    Form {
        name: "kernel-field-offset",
        arity: Arity::exactly(4),
        syntax: "(kernel-field-offset STRUCT-TYPE \"member\" OFFSET MEMBER-TYPE)",
        summary: "A kernel struct member's byte offset (OFFSET on the build machine) with a CO-RE \
                  relocation that the loader rewrites for the running kernel; written by \
                  `import-kernel-struct`.",
        expand: |x, form, args| x.kernel_field_offset(form, args),
    },
    Form {
        name: "ctx-load-member",
        arity: Arity::exactly(4),
        syntax: "(ctx-load-member STRUCT-TYPE \"member\" OFFSET MEMBER-TYPE)",
        summary: "The integer, enum or pointer member of the kernel struct the context points to \
                  (a tracepoint's record), read with one load whose offset and width the loader \
                  rewrites for the running kernel (CO-RE), sign-extended when signed; written by \
                  `deftracepoint`.",
        expand: |x, form, args| x.ctx_load_member(form, args),
    },
    Form {
        name: "btf-load-member",
        arity: Arity::exactly(5),
        syntax: "(btf-load-member PTR STRUCT-TYPE \"member\" OFFSET MEMBER-TYPE)",
        summary: "The integer, enum or pointer member of the kernel struct at PTR, a pointer the \
                  verifier knows by its BTF type (an fentry, fexit, tp_btf or lsm argument, or a \
                  pointer member read from one), read with one load whose offset and width the \
                  loader rewrites for the running kernel (CO-RE), sign-extended when signed; no \
                  `probe-read-kernel`. Other pointers fail to load.",
        expand: |x, form, args| x.btf_load_member(form, args),
    },
    Form {
        name: "kernel-field-relocation",
        arity: Arity::exactly(5),
        syntax: "(kernel-field-relocation KIND STRUCT-TYPE \"member\" OFFSET MEMBER-TYPE)",
        summary: "A number about a kernel struct member for the running kernel, KIND one of \
                  :field-byte-offset, :field-byte-size, :field-exists, :field-signed, \
                  :field-lshift-u64, :field-rshift-u64 (libbpf's CO-RE field relocations); \
                  written by `kernel-field-exists` and `kernel-field-size`.",
        expand: |x, form, args| x.kernel_field_relocation(form, args),
    },
    Form {
        name: "kernel-type-relocation",
        arity: Arity::exactly(2),
        syntax: "(kernel-type-relocation KIND TYPE)",
        summary: "Whether the running kernel has the named struct, union or enum TYPE \
                  (KIND :type-exists), or its size (:type-size); written by \
                  `kernel-type-exists` and `kernel-type-size`.",
        expand: |x, form, args| x.kernel_type_relocation(form, args),
    },
    Form {
        name: "kernel-enumerator-relocation",
        arity: Arity::exactly(4),
        syntax: "(kernel-enumerator-relocation KIND ENUM-TYPE \"NAME\" VALUE)",
        summary: "Whether the running kernel's enum has the value NAME (KIND :enumval-exists), \
                  or its number (:enumval-value; VALUE on the build machine); written by \
                  `kernel-enum-value-exists` and `kernel-enum-value`.",
        expand: |x, form, args| x.kernel_enumerator_relocation(form, args),
    },
    // ---- the program's context (context.rs) ----
    Form {
        name: "ctx",
        arity: Arity::between(1, 2),
        syntax: "(ctx FIELD [INDEX]) or (ctx TYPE OFFSET)",
        summary: "A field of the program type's context struct by name, or a TYPE at a \
                  constant OFFSET; a place for `setf`.",
        expand: |x, form, args| x.ctx_form(form, args),
    },
    Form {
        name: "ctx-ptr",
        arity: Arity::exactly(0),
        syntax: "(ctx-ptr)",
        summary: "The context pointer the program was called with.",
        expand: |_, form, _| Expr::new(crate::ast::ExprKind::Ctx, form.span),
    },
    Form {
        name: "xdp-data",
        arity: Arity::exactly(0),
        syntax: "(xdp-data)",
        summary: "The packet's start in an XDP program (`xdp_md.data`).",
        expand: |x, form, _| x.xdp_bound(form, "xdp-data", 0),
    },
    Form {
        name: "xdp-data-end",
        arity: Arity::exactly(0),
        syntax: "(xdp-data-end)",
        summary: "The packet's end in an XDP program (`xdp_md.data_end`).",
        expand: |x, form, _| x.xdp_bound(form, "xdp-data-end", 4),
    },
    Form {
        name: "pt-regs-parm1",
        arity: Arity::exactly(0),
        syntax: "(pt-regs-parm1)",
        summary: "The first argument of the probed function (kprobes, `struct pt_regs`).",
        expand: |x, form, _| x.pt_regs_parm(form, 1),
    },
    Form {
        name: "pt-regs-parm2",
        arity: Arity::exactly(0),
        syntax: "(pt-regs-parm2)",
        summary: "The second argument of the probed function.",
        expand: |x, form, _| x.pt_regs_parm(form, 2),
    },
    Form {
        name: "pt-regs-parm3",
        arity: Arity::exactly(0),
        syntax: "(pt-regs-parm3)",
        summary: "The third argument of the probed function.",
        expand: |x, form, _| x.pt_regs_parm(form, 3),
    },
    Form {
        name: "pt-regs-parm4",
        arity: Arity::exactly(0),
        syntax: "(pt-regs-parm4)",
        summary: "The fourth argument of the probed function.",
        expand: |x, form, _| x.pt_regs_parm(form, 4),
    },
    Form {
        name: "pt-regs-parm5",
        arity: Arity::exactly(0),
        syntax: "(pt-regs-parm5)",
        summary: "The fifth argument of the probed function.",
        expand: |x, form, _| x.pt_regs_parm(form, 5),
    },
    Form {
        name: "pt-regs-parm6",
        arity: Arity::exactly(0),
        syntax: "(pt-regs-parm6)",
        summary: "The sixth argument of the probed function.",
        expand: |x, form, _| x.pt_regs_parm(form, 6),
    },
    Form {
        name: "pt-regs-ret",
        arity: Arity::exactly(0),
        syntax: "(pt-regs-ret)",
        summary: "The return value of the probed function (kretprobes).",
        expand: |x, form, args| x.pt_regs_ret(form, args),
    },
    // ---- maps, ring buffers, tail calls (maps.rs) ----
    Form {
        name: "map-lookup",
        arity: Arity::exactly(2),
        syntax: "(map-lookup MAP KEY)",
        summary: "A pointer to KEY's value in MAP, or 0 (a key up to 8 bytes is a value).",
        expand: |x, form, args| x.map_key_call(form, args, MAP_LOOKUP, false),
    },
    Form {
        name: "map-lookup-ptr",
        arity: Arity::exactly(2),
        syntax: "(map-lookup-ptr MAP KEY-PTR)",
        summary: "`map-lookup` with the key given by its address.",
        expand: |x, form, args| x.map_key_call(form, args, MAP_LOOKUP, true),
    },
    Form {
        name: "map-update",
        arity: Arity::between(3, 4),
        syntax: "(map-update MAP KEY VALUE [FLAGS])",
        summary: "Stores VALUE under KEY (bpf_map_update_elem); 0 on success.",
        expand: |x, form, args| x.map_update(form, args, false),
    },
    Form {
        name: "map-update-ptr",
        arity: Arity::between(3, 4),
        syntax: "(map-update-ptr MAP KEY-PTR VALUE-PTR [FLAGS])",
        summary: "`map-update` with the key and value given by their addresses.",
        expand: |x, form, args| x.map_update(form, args, true),
    },
    Form {
        name: "map-delete",
        arity: Arity::exactly(2),
        syntax: "(map-delete MAP KEY)",
        summary: "Deletes KEY from MAP (bpf_map_delete_elem); 0 on success.",
        expand: |x, form, args| x.map_key_call(form, args, MAP_DELETE, false),
    },
    Form {
        name: "map-delete-ptr",
        arity: Arity::exactly(2),
        syntax: "(map-delete-ptr MAP KEY-PTR)",
        summary: "`map-delete` with the key given by its address.",
        expand: |x, form, args| x.map_key_call(form, args, MAP_DELETE, true),
    },
    Form {
        name: "getmap",
        arity: Arity::exactly(2),
        syntax: "(getmap MAP KEY)",
        summary: "KEY's value (0 when absent) for values up to 8 bytes, else a pointer to it or \
                  0; a place for `setf` and `incf`.",
        expand: |x, form, args| x.getmap_form(form, args),
    },
    Form {
        name: "remmap",
        arity: Arity::exactly(2),
        syntax: "(remmap MAP KEY)",
        summary: "Deletes KEY from MAP; 0 on success.",
        expand: |x, form, args| x.map_key_call(form, args, MAP_DELETE, false),
    },
    Form {
        name: "map-for-each",
        arity: Arity::at_least(1),
        syntax: "(map-for-each (KEY VALUE MAP [CONTEXT-VAR CONTEXT]) BODY...)",
        summary: "Runs BODY for each entry of MAP (`for_each_map_elem`, Linux 5.13) with KEY and \
                  VALUE bound to pointers to the entry's key and value, and CONTEXT-VAR to \
                  CONTEXT's value (a stack pointer to share data through). BODY is a function of \
                  its own: it sees `ctx` and those names, not the variables around it; \
                  `(return 1)` stops the walk. The value is the number of entries visited.",
        expand: |x, form, args| x.map_for_each(form, args),
    },
    Form {
        name: "tail-call",
        arity: Arity::exactly(2),
        syntax: "(tail-call PROG-ARRAY INDEX)",
        summary: "Continues in the program at INDEX of a `:prog-array` map; goes on here when \
                  there is none.",
        expand: |x, form, args| x.tail_call(form, args),
    },
    Form {
        name: "with-ringbuf",
        arity: ANY,
        syntax: "(with-ringbuf (VAR MAP SIZE [FLAGS]) FORM...)",
        summary: "Reserves SIZE bytes in a `:ringbuf` map, runs the forms with VAR pointing at \
                  them, then submits them; nothing when the reservation fails.",
        expand: |x, form, args| x.with_ringbuf(form, args),
    },
    Form {
        name: "fill-process-info",
        arity: ANY,
        syntax: "(fill-process-info EVENT :pid-field ACCESSOR ...)",
        summary: "Sets an event's fields to the current pid, tid, uid, gid, time (keys \
                  `:pid-field`...) and command name (`:comm-field`, `:comm-size`).",
        expand: |x, form, args| x.fill_process_info(form, args),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for f in FORMS {
            assert!(
                std::ptr::eq(find(f.name).expect(f.name), f),
                "{} twice",
                f.name
            );
            assert!(
                f.syntax.starts_with(&format!("({} ", f.name))
                    || f.syntax == format!("({})", f.name),
                "{}",
                f.syntax
            );
        }
    }

    #[test]
    fn arity_text() {
        assert_eq!(Arity::exactly(1).to_string(), "1");
        assert_eq!(Arity::between(2, 3).to_string(), "2 to 3");
        assert_eq!(Arity::at_least(1).to_string(), "at least 1");
        assert!(Arity::at_least(1).accepts(9) && !Arity::between(2, 3).accepts(4));
    }
}
