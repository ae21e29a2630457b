//! bpftrace syntax to the compiler's forms: one `defprog` per concrete attach point, one
//! `defmap` per bpftrace map, a ring buffer for events (printf, exit, clear, print...), and
//! the [`Plan`] the runtime needs to attach, run and print. Types are checked here, so
//! mistakes are reported at the script's spans.
//!
//! Map types are fixed by their first assignment anywhere in the script, so the translation
//! runs twice: the first pass only learns the maps, the second emits code and diagnostics.

use crate::ast::*;
use crate::forms::At;
use crate::kernel_types::{self, FieldValue, StructId};
use crate::plan::{Event, Plan, PlannedMap, PlannedProbe, Printf, JOIN_ARGS};
use crate::printf;
use crate::probes::{self, ProbeKind, TracepointField};
use crate::types::{self, MapKind, Type};
use std::collections::HashMap;
use whistler_compiler::kernel_structs::{FieldAccess, KernelField};
use whistler_syntax::{Diagnostic, Sexp, Span};

/// The ring buffer every event goes through.
pub const EVENTS_MAP: &str = "events";
/// Values the runtime sets before attaching: [`GLOBAL_START`] and [`GLOBAL_CPID`].
pub const GLOBALS_MAP: &str = "globals";
pub const GLOBAL_START: u32 = 0;
pub const GLOBAL_CPID: u32 = 1;
/// The stack trace maps `kstack` and `ustack` record into (declared when used).
pub const KERNEL_STACKS_MAP: &str = "kernel-stacks";
pub const USER_STACKS_MAP: &str = "user-stacks";
/// Frames a stack map keeps per stack (the kernel's PERF_MAX_STACK_DEPTH).
pub const STACK_DEPTH: usize = 127;
const STACK_ENTRIES: i128 = 4096;
/// `bpf_get_stackid`'s flag for the user stack.
const BPF_F_USER_STACK: i128 = 1 << 8;
const RING_BYTES: i128 = 1 << 20;
const MAP_ENTRIES: i128 = 4096;
/// Iterations a `while` loop may run (the verifier needs a bound).
const WHILE_BOUND: i128 = 1024;

/// What the translation needs besides the script.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `$1`, `$2`... (positional parameters).
    pub positional: Vec<String>,
    /// `system()` is allowed.
    pub unsafe_allowed: bool,
}

/// The forms of a script and its plan.
pub fn translate(script: &Script, settings: &Settings) -> (Vec<Sexp>, Plan, Vec<Diagnostic>) {
    let mut learn = Translator::new(script, settings, HashMap::new());
    learn.script();
    let known = learn.maps;
    let mut emit = Translator::new(script, settings, known);
    emit.frozen = true;
    let forms = emit.script();
    (forms, emit.plan, emit.diags)
}

#[derive(Clone, Debug)]
struct MapInfo {
    index: usize,
    keys: Vec<Type>,
    kind: MapKind,
}

struct Translator<'a> {
    script: &'a Script,
    settings: &'a Settings,
    maps: HashMap<String, MapInfo>,
    /// In the second pass maps are known; a map never assigned is an error.
    frozen: bool,
    plan: Plan,
    diags: Vec<Diagnostic>,
    next_name: u32,
    /// Bytes of the current program's shared key and value buffers ([`KEY_BUFFER`],
    /// [`VALUE_BUFFER`]): one of each per program, so that stack use does not grow with the
    /// number of map operations.
    key_buffer: usize,
    value_buffer: usize,
    /// `kstack` and `ustack` are used: their stack maps are declared.
    kernel_stacks: bool,
    user_stacks: bool,
}

/// The program's buffer for map keys; every map operation fills it anew.
const KEY_BUFFER: &str = "key-buffer";
/// The program's buffer for map values being stored.
const VALUE_BUFFER: &str = "value-buffer";

/// The probe being translated.
struct ProbeContext {
    kind: ProbeKind,
    fields: Option<Result<Vec<TracepointField>, String>>,
    /// Scratch variables: name, type, Lisp name.
    vars: Vec<(String, Type, String)>,
    /// Macro parameters bound to argument expressions, innermost last.
    macro_args: Vec<HashMap<String, Expr>>,
    /// What the scratch variables holding kernel addresses point to, by name.
    var_kernel: HashMap<String, Kernel>,
    /// The variables of the `for ($kv : @map)` loops being translated, innermost last.
    map_entries: Vec<MapEntry>,
    /// The loops around the statement being translated, innermost last: for a `for` over a
    /// map, the forms that write the shared variables back before its callback returns
    /// (`break`, `continue`, `exit()`); nothing for the loops the compiler unrolls or bounds.
    loops: Vec<Option<Vec<Sexp>>>,
    /// The user functions being inlined, innermost last; their scratch variables are named in
    /// the innermost one's scope.
    frames: Vec<Frame>,
}

/// A user function inlined at a call: its scope, where `return` puts the value, and the flag
/// that skips the rest of the body after a `return` that does not end it.
struct Frame {
    name: String,
    /// Prefixes the names of the function's scratch variables in `ProbeContext::vars`.
    scope: String,
    /// The result's Lisp variable and whether it is signed (`None`: a void function).
    result: Option<(String, bool)>,
    /// The Lisp variable set by `return`, when a `return` does not end the body.
    done: Option<String>,
}

impl ProbeContext {
    /// The key of scratch variable `name` in the current scope.
    fn scoped(&self, name: &str) -> String {
        match self.frames.last() {
            Some(frame) => format!("{}{name}", frame.scope),
            None => name.to_string(),
        }
    }
}

/// `$kv` in `for ($kv : @map)`: the map, and the Lisp names of the entry's key and value
/// pointers in the loop's callback.
struct MapEntry {
    name: String,
    info: MapInfo,
    key: String,
    value: String,
}

/// A translated expression: for in-memory types the form is the buffer's address.
#[derive(Clone)]
struct Value {
    form: Sexp,
    ty: Type,
    /// The string of a literal, for comparisons.
    literal: Option<String>,
    /// The kernel memory an integer addresses, when its type says: a struct (through a
    /// pointer or embedded) or an array.
    kernel: Option<Kernel>,
}

/// What memory an address points to, typed by the kernel's BTF, and whether it is the traced
/// process's memory (pointers in syscall tracepoints' arguments, as bpftrace reads them) rather
/// than the kernel's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    Struct {
        id: StructId,
        user: bool,
        /// A pointer the verifier knows by its BTF type (an fentry or fexit argument or
        /// return value, or a pointer member read from one): members are loaded directly.
        btf: bool,
    },
    /// An array of this many bytes (`u6_addr8`, for `ntop`).
    Bytes { size: usize, user: bool },
    /// Not an address: an integer of this many bytes (less than 8; `bswap` swaps them).
    Int { size: usize },
}

impl Value {
    fn int(form: Sexp, signed: bool) -> Value {
        Value {
            form,
            ty: Type::Int { signed },
            literal: None,
            kernel: None,
        }
    }

    /// An address of kernel memory of a known type.
    fn address(form: Sexp, kernel: Kernel) -> Value {
        Value {
            kernel: Some(kernel),
            ..Value::int(form, false)
        }
    }
}

type Translated<T> = Option<T>;

impl<'a> Translator<'a> {
    fn new(
        script: &'a Script,
        settings: &'a Settings,
        maps: HashMap<String, MapInfo>,
    ) -> Translator<'a> {
        Translator {
            script,
            settings,
            maps,
            frozen: false,
            plan: Plan::default(),
            diags: Vec::new(),
            next_name: 0,
            key_buffer: 0,
            value_buffer: 0,
            kernel_stacks: false,
            user_stacks: false,
        }
    }

    fn error<T>(&mut self, span: Span, message: impl Into<String>) -> Translated<T> {
        self.diags.push(Diagnostic::error(span, message.into()));
        None
    }

    fn fresh(&mut self, base: &str) -> String {
        self.next_name += 1;
        format!("{base}-{}", self.next_name)
    }

    fn script(&mut self) -> Vec<Sexp> {
        let mut programs = Vec::new();
        for probe in &self.script.probes {
            for (text, span) in &probe.attach_points {
                match probes::expand(text) {
                    Ok(kinds) => {
                        for kind in kinds {
                            programs.extend(self.program(probe, kind, *span));
                        }
                    }
                    Err(message) => {
                        self.error::<()>(*span, message);
                    }
                }
            }
        }
        let at = At(Span::default());
        let mut forms = vec![
            at.call(
                "defmap",
                vec![
                    at.sym(EVENTS_MAP),
                    at.keyword("type"),
                    at.keyword("ringbuf"),
                    at.keyword("max-entries"),
                    at.int(RING_BYTES),
                ],
            ),
            at.call(
                "defmap",
                vec![
                    at.sym(GLOBALS_MAP),
                    at.keyword("type"),
                    at.keyword("array"),
                    at.keyword("key-size"),
                    at.int(4),
                    at.keyword("value-size"),
                    at.int(8),
                    at.keyword("max-entries"),
                    at.int(2),
                ],
            ),
        ];
        for (used, name) in [
            (self.kernel_stacks, KERNEL_STACKS_MAP),
            (self.user_stacks, USER_STACKS_MAP),
        ] {
            if used {
                forms.push(at.call(
                    "defmap",
                    vec![
                        at.sym(name),
                        at.keyword("type"),
                        at.keyword("stack-trace"),
                        at.keyword("key-size"),
                        at.int(4),
                        at.keyword("value-size"),
                        at.int(8 * STACK_DEPTH as i128),
                        at.keyword("max-entries"),
                        at.int(STACK_ENTRIES),
                    ],
                ));
            }
        }
        let mut maps: Vec<(&String, &MapInfo)> = self.maps.iter().collect();
        maps.sort_by_key(|(_, info)| info.index);
        for (name, info) in maps {
            let key_size = key_size(info);
            forms.push(at.call(
                "defmap",
                vec![
                    at.sym(&map_symbol(info.index)),
                    at.keyword("type"),
                    at.keyword("hash"),
                    at.keyword("key-size"),
                    at.int(key_size as i128),
                    at.keyword("value-size"),
                    at.int(info.kind.value_size() as i128),
                    at.keyword("max-entries"),
                    at.int(MAP_ENTRIES),
                ],
            ));
            self.plan.maps.push(PlannedMap {
                name: name.clone(),
                object_name: whistler_compiler::symbol_name(&map_symbol(info.index)),
                keys: info.keys.clone(),
                kind: info.kind,
            });
        }
        self.plan.maps.sort_by(|a, b| a.name.cmp(&b.name));
        forms.extend(programs);
        forms
    }

    fn program(&mut self, probe: &Probe, kind: ProbeKind, span: Span) -> Option<Sexp> {
        let lisp_name = format!("probe-{}", self.plan.probes.len());
        let fields = match &kind {
            ProbeKind::Tracepoint { category, name } => {
                Some(probes::tracepoint_fields(category, name))
            }
            _ => None,
        };
        let mut cx = ProbeContext {
            kind: kind.clone(),
            fields,
            vars: Vec::new(),
            macro_args: Vec::new(),
            map_entries: Vec::new(),
            loops: Vec::new(),
            var_kernel: HashMap::new(),
            frames: Vec::new(),
        };
        let at = At(probe.span);
        (self.key_buffer, self.value_buffer) = (0, 0);
        let mut body = self.block(&mut cx, &probe.body);
        if let Some(pred) = &probe.predicate {
            if let Some(test) = self.condition(&mut cx, pred) {
                body = vec![At(pred.span).call("when", [vec![test], body].concat())];
            }
        }
        let mut bindings: Vec<(String, Sexp)> = cx
            .vars
            .iter()
            .map(|(_, ty, lisp)| {
                let init = match ty.in_memory() {
                    true => at.buffer(ty.size()),
                    false => at.int(0),
                };
                (lisp.clone(), init)
            })
            .collect();
        for (name, size) in [
            (KEY_BUFFER, self.key_buffer),
            (VALUE_BUFFER, self.value_buffer),
        ] {
            if size > 0 {
                bindings.push((name.to_string(), at.buffer(size)));
            }
        }
        body.push(at.int(0));
        let options = at.list(vec![
            at.keyword("type"),
            at.keyword(kind.program_type()),
            at.keyword("section"),
            at.string(&kind.section()),
        ]);
        self.plan.probes.push(PlannedProbe {
            object_name: whistler_compiler::symbol_name(&lisp_name),
            kind,
        });
        Some(At(span).call(
            "defprog",
            vec![at.sym(&lisp_name), options, at.let_star(bindings, body)],
        ))
    }

    // ---- statements ----

    fn block(&mut self, cx: &mut ProbeContext, stmts: &[Stmt]) -> Vec<Sexp> {
        let mut forms: Vec<Sexp> = stmts.iter().filter_map(|s| self.stmt(cx, s)).collect();
        if let Some(done) = cx.frames.last().and_then(|f| f.done.clone()) {
            // After a `return` in a function, the rest of its body is skipped.
            let at = At(Span::default());
            let not_done = || at.call("=", vec![at.sym(&done), at.int(0)]);
            forms = (forms.into_iter())
                .map(|form| at.call("when", vec![not_done(), form]))
                .collect();
        }
        forms.push(At(Span::default()).int(0));
        forms
    }

    fn stmt(&mut self, cx: &mut ProbeContext, stmt: &Stmt) -> Translated<Sexp> {
        let at = At(stmt.span);
        match &stmt.kind {
            StmtKind::Expr(e) => self.effect(cx, e),
            StmtKind::Assign(target, value) => self.assign(cx, target, value, stmt.span),
            StmtKind::If(cond, then, otherwise) => {
                let test = self.condition(cx, cond)?;
                let then = at.progn(self.block(cx, then));
                let otherwise = at.progn(self.block(cx, otherwise));
                Some(at.call("if", vec![test, then, otherwise]))
            }
            StmtKind::Unroll(count, body) => {
                if *count == 0 || *count > 100 {
                    return self.error(stmt.span, "unroll takes a count from 1 to 100");
                }
                let var = self.fresh("unroll");
                let body = self.loop_body(cx, None, body);
                let head = at.list(vec![at.sym(&var), at.int(*count as i128)]);
                Some(at.call("dotimes", [vec![head], body].concat()))
            }
            StmtKind::While(cond, body) => {
                let test = self.condition(cx, cond)?;
                let var = self.fresh("while");
                let body = self.loop_body(cx, None, body);
                let head = at.list(vec![at.sym(&var), at.int(WHILE_BOUND)]);
                Some(at.call(
                    "dotimes",
                    vec![head, at.call("when", [vec![test], body].concat())],
                ))
            }
            StmtKind::ForRange(name, from, to, body) => {
                let (Some(from_n), Some(to_n)) = (constant(from), constant(to)) else {
                    return self.error(stmt.span, "for ranges need constant bounds here");
                };
                let var = self.var_binding(cx, name, Type::INT, stmt.span)?;
                let counter = self.fresh("for");
                let mut forms = vec![at.call(
                    "setq",
                    vec![
                        at.sym(&var),
                        at.call("+", vec![at.sym(&counter), at.int(from_n as i128)]),
                    ],
                )];
                forms.extend(self.loop_body(cx, None, body));
                let count = (to_n - from_n).max(0) as i128;
                let head = at.list(vec![at.sym(&counter), at.int(count)]);
                Some(at.call("dotimes", [vec![head], forms].concat()))
            }
            StmtKind::ForMap(var, map, map_span, body) => {
                self.for_map(cx, var, map, *map_span, body, stmt.span)
            }
            StmtKind::Return(value) => self.return_stmt(cx, value.as_ref(), stmt.span),
            StmtKind::Break | StmtKind::Continue => match cx.loops.last() {
                Some(Some(write_back)) => {
                    let stop = matches!(stmt.kind, StmtKind::Break);
                    let forms = [
                        write_back.clone(),
                        vec![at.call("return", vec![at.int(stop as i128)])],
                    ];
                    Some(at.progn(forms.concat()))
                }
                _ => self.error(
                    stmt.span,
                    "break and continue are supported in `for` loops over maps only",
                ),
            },
        }
    }

    /// A loop's body, with `write_back` (see [`ProbeContext::loops`]) in force inside it.
    fn loop_body(
        &mut self,
        cx: &mut ProbeContext,
        write_back: Option<Vec<Sexp>>,
        body: &[Stmt],
    ) -> Vec<Sexp> {
        cx.loops.push(write_back);
        let forms = self.block(cx, body);
        cx.loops.pop();
        forms
    }

    /// `for ($kv : @map) { body }`: the body becomes the callback of `for_each_map_elem` (the
    /// compiler's `map-for-each`), a function of its own. The integer scratch variables of the
    /// code around it travel in a record: the caller fills it before the walk and reads it
    /// back after; each iteration reads it at its start and writes it back at its end.
    /// Variables first assigned in the body belong to it, as in bpftrace.
    fn for_map(
        &mut self,
        cx: &mut ProbeContext,
        var: &str,
        map: &str,
        map_span: Span,
        body: &[Stmt],
        span: Span,
    ) -> Translated<Sexp> {
        let at = At(span);
        let info = self.map_info(map, map_span)?;
        if info.kind.has_bucket() {
            let kind = info.kind.name();
            return self.error(map_span, format!("`for` cannot walk {map}, a {kind} map"));
        }
        let shared: Vec<String> = (cx.vars.iter())
            .filter(|(_, ty, _)| !ty.in_memory())
            .map(|(_, _, lisp)| lisp.clone())
            .collect();
        let outer_vars = cx.vars.len();
        let outer_buffers = (self.key_buffer, self.value_buffer);
        (self.key_buffer, self.value_buffer) = (0, 0);
        let (key, value, record) = (self.fresh("key"), self.fresh("value"), self.fresh("shared"));
        let rec = || at.sym(&record);
        let store = |i: usize, lisp: &String| at.store64(rec(), 8 * i, at.sym(lisp));
        let write_back: Vec<Sexp> = shared
            .iter()
            .enumerate()
            .map(|(i, l)| store(i, l))
            .collect();
        cx.map_entries.push(MapEntry {
            name: var.to_string(),
            info: info.clone(),
            key: key.clone(),
            value: value.clone(),
        });
        let forms = self.loop_body(cx, Some(write_back.clone()), body);
        cx.map_entries.pop();
        let mut bindings: Vec<(String, Sexp)> = (shared.iter().enumerate())
            .map(|(i, lisp)| (lisp.clone(), at.load("u64", rec(), 8 * i)))
            .collect();
        for (_, ty, lisp) in cx.vars.drain(outer_vars..) {
            let init = match ty.in_memory() {
                true => at.buffer(ty.size()),
                false => at.int(0),
            };
            bindings.push((lisp, init));
        }
        for (name, size) in [
            (KEY_BUFFER, self.key_buffer),
            (VALUE_BUFFER, self.value_buffer),
        ] {
            if size > 0 {
                bindings.push((name.to_string(), at.buffer(size)));
            }
        }
        (self.key_buffer, self.value_buffer) = outer_buffers;
        let callback = at.let_star(bindings, [forms, write_back.clone()].concat());
        let head = at.list(vec![
            at.sym(&key),
            at.sym(&value),
            at.sym(&map_symbol(info.index)),
            rec(),
            rec(),
        ]);
        let mut caller = write_back;
        caller.push(at.call("map-for-each", vec![head, callback, at.int(0)]));
        caller.extend(
            shared
                .iter()
                .enumerate()
                .map(|(i, lisp)| at.call("setq", vec![at.sym(lisp), at.load("u64", rec(), 8 * i)])),
        );
        let record_bytes = at.buffer(8 * shared.len());
        Some(at.let_star(vec![(record, record_bytes)], caller))
    }

    /// `$kv.0` (the key; `$kv.0.N`, key N of several) and `$kv.1` (the value) of a `for` loop
    /// over a map, read through the entry's pointers.
    fn map_entry_part(&mut self, entry: &MapEntry, path: &[&str], span: Span) -> Translated<Value> {
        let at = At(span);
        let MapEntry {
            info, key, value, ..
        } = entry;
        let slot = |n: usize| {
            let offset = info.keys[..n].iter().map(|t| t.slot_size()).sum::<usize>();
            (info.keys[n], offset)
        };
        let (ptr, ty, offset) = match (path, info.keys.len()) {
            (["0"], 0) => (key, Type::UINT, 0),
            (["0"], 1) => (key, slot(0).0, 0),
            (["0", n], count) if count > 1 => {
                match n.parse::<usize>().ok().filter(|&n| n < count) {
                    Some(n) => (key, slot(n).0, slot(n).1),
                    None => {
                        return self.error(span, format!("the map's keys are 0 to {}", count - 1))
                    }
                }
            }
            (["1"], _) => match info.kind {
                MapKind::Value(ty) => (value, ty, 0),
                _ => (value, Type::INT, 0),
            },
            _ => {
                let several = if info.keys.len() > 1 {
                    " ($kv.0.N: key N)"
                } else {
                    ""
                };
                return self.error(
                    span,
                    format!("a map entry is (key, value): use $kv.0{several} and $kv.1"),
                );
            }
        };
        let form = match (ty.in_memory(), ty) {
            (true, _) => at.call("+", vec![at.sym(ptr), at.int(offset as i128)]),
            (false, Type::Int { signed: true }) => at.load("i64", at.sym(ptr), offset),
            (false, _) => at.load("u64", at.sym(ptr), offset),
        };
        Some(Value {
            form,
            ty,
            literal: None,
            kernel: None,
        })
    }

    /// An expression statement: a call for its effect, or a value thrown away.
    fn effect(&mut self, cx: &mut ProbeContext, e: &Expr) -> Translated<Sexp> {
        let at = At(e.span);
        let ExprKind::Call(name, args) = &e.kind else {
            return self.expr(cx, e).map(|v| v.form);
        };
        match name.as_str() {
            "printf" => self.printf(cx, args, e.span, Event::Printf),
            "system" if self.settings.unsafe_allowed => {
                self.printf(cx, args, e.span, Event::System)
            }
            "system" => self.error(e.span, "system() needs --unsafe"),
            "cat" => self.printf(cx, args, e.span, Event::Cat),
            "join" => self.join(cx, args, e.span),
            "time" => {
                let format = match args.first() {
                    None => "%H:%M:%S\n".to_string(),
                    Some(Expr {
                        kind: ExprKind::Str(s),
                        ..
                    }) => s.clone(),
                    Some(other) => return self.error(other.span, "time() takes a format string"),
                };
                let index = self.plan.texts.len();
                self.plan.texts.push(format);
                Some(self.event(at, Event::Time, index, Vec::new()))
            }
            "exit" => {
                let event = self.event(at, Event::Exit, 0, Vec::new());
                Some(at.progn(vec![event, leave(at, cx, at.int(0))]))
            }
            "clear" | "zero" | "print" => {
                let event = match name.as_str() {
                    "clear" => Event::Clear,
                    "zero" => Event::Zero,
                    _ => Event::Print,
                };
                match args.first().map(|a| &a.kind) {
                    Some(ExprKind::Map(map, keys)) if keys.is_empty() => {
                        let info = self.map_info(map, e.span)?;
                        Some(self.event(at, event, info.index, Vec::new()))
                    }
                    Some(_) if event == Event::Print => {
                        let value = self.expr(cx, &args[0])?;
                        let index = self.plan.printfs.len();
                        self.plan.printfs.push(Printf {
                            format: printf::value_format(value.ty),
                            args: vec![value.ty],
                        });
                        Some(self.event(at, Event::Printf, index, vec![value]))
                    }
                    _ => self.error(e.span, format!("{name}() takes a map, as in {name}(@m)")),
                }
            }
            "delete" => {
                let (map, keys) = self.map_arg(args, e.span)?;
                let info = self.map_info(&map, e.span)?;
                let keys = self.values(cx, &keys)?;
                Some(self.with_key(at, &info, keys, None, |at, key| {
                    vec![at.call("map-delete-ptr", vec![at.sym(&map_symbol(info.index)), key])]
                }))
            }
            "signal" => {
                let sig = match args.first().map(|a| &a.kind) {
                    Some(ExprKind::Str(s)) => signal_number(s)
                        .map(|n| at.int(n as i128))
                        .or_else(|| self.error(e.span, format!("unknown signal `{s}`")))?,
                    Some(_) => self.expr(cx, &args[0])?.form,
                    None => return self.error(e.span, "signal() takes a signal"),
                };
                Some(at.call("send-signal", vec![sig]))
            }
            _ => self.expr(cx, e).map(|v| v.form),
        }
    }

    /// `printf`, `system` and `cat`: the format checked, the arguments sent in an event.
    fn printf(
        &mut self,
        cx: &mut ProbeContext,
        args: &[Expr],
        span: Span,
        event: Event,
    ) -> Translated<Sexp> {
        let Some(Expr {
            kind: ExprKind::Str(format),
            ..
        }) = args.first()
        else {
            return self.error(span, "the first argument must be a format string");
        };
        let values = self.values(cx, &args[1..])?;
        let types: Vec<Type> = values.iter().map(|v| v.ty).collect();
        if let Err(message) = printf::check(format, &types) {
            return self.error(args[0].span, message);
        }
        let index = self.plan.printfs.len();
        self.plan.printfs.push(Printf {
            format: format.clone(),
            args: types,
        });
        Some(self.event(At(span), event, index, values))
    }

    /// `join(array [, delimiter])`: the strings a NULL-terminated array of pointers points to
    /// (as `argv` in `execve`'s arguments), read straight into the event record.
    fn join(&mut self, cx: &mut ProbeContext, args: &[Expr], span: Span) -> Translated<Sexp> {
        let at = At(span);
        let (array, delimiter) = match args {
            [array] => (array, " ".to_string()),
            [array, Expr {
                kind: ExprKind::Str(d),
                ..
            }] => (array, d.clone()),
            _ => {
                return self.error(
                    span,
                    "join() takes an array and optionally a delimiter string",
                )
            }
        };
        let (array, _) = self.int_expr(cx, array)?;
        let index = self.plan.texts.len();
        self.plan.texts.push(delimiter);
        let header = ((index as i128) << 32) | Event::Join as i128;
        let (base, slot, done, record) = (
            self.fresh("array"),
            self.fresh("element"),
            self.fresh("done"),
            self.fresh("record"),
        );
        let size = crate::STRING_SIZE;
        let mut writes = vec![at.store64(at.sym(&record), 0, at.int(header))];
        for i in 0..JOIN_ARGS {
            let pointer = || at.load("u64", at.sym(&slot), 0);
            let element = at.call("+", vec![at.sym(&base), at.int(8 * i as i128)]);
            let destination = at.call("+", vec![at.sym(&record), at.int((8 + i * size) as i128)]);
            writes.push(at.call(
                "when",
                vec![
                    at.call("=", vec![at.sym(&done), at.int(0)]),
                    at.store64(at.sym(&slot), 0, at.int(0)),
                    at.call("probe-read", vec![at.sym(&slot), at.int(8), element]),
                    at.call(
                        "if",
                        vec![
                            at.call("=", vec![pointer(), at.int(0)]),
                            at.call("setq", vec![at.sym(&done), at.int(1)]),
                            at.call(
                                "probe-read-str",
                                vec![destination, at.int(size as i128), pointer()],
                            ),
                        ],
                    ),
                ],
            ));
        }
        let head = at.list(vec![
            at.sym(&record),
            at.sym(EVENTS_MAP),
            at.int((8 + JOIN_ARGS * size) as i128),
        ]);
        Some(at.let_star(
            vec![(base, array), (slot, at.buffer(8)), (done, at.int(0))],
            vec![at.call("with-ringbuf", [vec![head], writes].concat())],
        ))
    }

    /// Sends an event record: an 8-byte header (event kind, index) and the values.
    fn event(&mut self, at: At, event: Event, index: usize, values: Vec<Value>) -> Sexp {
        let header = ((index as i128) << 32) | event as i128;
        let (bindings, values) = self.bind_values(values);
        let record = self.fresh("record");
        let size = 8 + values.iter().map(|v| v.ty.slot_size()).sum::<usize>();
        let mut writes = vec![at.store64(at.sym(&record), 0, at.int(header))];
        let mut offset = 8;
        for v in values {
            let slot = v.ty.slot_size();
            writes.push(store_value(at, at.sym(&record), offset, v, slot));
            offset += slot;
        }
        let head = at.list(vec![
            at.sym(&record),
            at.sym(EVENTS_MAP),
            at.int(size as i128),
        ]);
        let send = at.call("with-ringbuf", [vec![head], writes].concat());
        at.let_star(bindings, vec![send])
    }

    fn assign(
        &mut self,
        cx: &mut ProbeContext,
        target: &Expr,
        value: &Expr,
        span: Span,
    ) -> Translated<Sexp> {
        let at = At(span);
        match &target.kind {
            ExprKind::Var(name) => {
                let v = self.expr(cx, value)?;
                let var = self.var_binding(cx, name, v.ty, target.span)?;
                let key = cx.scoped(name);
                match v.kernel {
                    // Kept where the verifier may no longer know it by its BTF type.
                    Some(Kernel::Struct { id, user, .. }) => {
                        let btf = false;
                        cx.var_kernel
                            .insert(key.clone(), Kernel::Struct { id, user, btf })
                    }
                    Some(k) => cx.var_kernel.insert(key.clone(), k),
                    None => cx.var_kernel.remove(&key),
                };
                let ty = cx
                    .vars
                    .iter()
                    .find(|(n, ..)| *n == key)
                    .map(|(_, t, _)| *t)?;
                match ty.in_memory() {
                    false => Some(at.call("setq", vec![at.sym(&var), v.form])),
                    true => Some(copy_string(at, at.sym(&var), ty.size(), v)),
                }
            }
            ExprKind::Map(name, keys) => {
                if let ExprKind::Call(func, args) = &value.kind {
                    if let Some(kind) = self.aggregation(func, args, value.span) {
                        return self.aggregate(cx, name, keys, kind, args, span);
                    }
                }
                let v = self.expr(cx, value)?;
                let keys = self.values(cx, keys)?;
                let info = self.declare_map(name, &keys, MapKind::Value(v.ty), span)?;
                let MapKind::Value(ty) = info.kind else {
                    return self.error(
                        span,
                        format!("{name} holds {}(), not plain values", info.kind.name()),
                    );
                };
                let symbol = map_symbol(info.index);
                let size = ty.slot_size();
                self.value_buffer = self.value_buffer.max(size);
                let (bindings, mut bound) = self.bind_values(vec![v]);
                let v = bound.remove(0);
                let write = vec![
                    at.call(
                        "memset",
                        vec![
                            at.sym(VALUE_BUFFER),
                            at.int(0),
                            at.int(0),
                            at.int(size as i128),
                        ],
                    ),
                    store_value(at, at.sym(VALUE_BUFFER), 0, v, size),
                ];
                let update = move |at: At, key: Sexp| {
                    vec![at.call(
                        "map-update-ptr",
                        vec![at.sym(&symbol), key, at.sym(VALUE_BUFFER), at.int(0)],
                    )]
                };
                let body = self.with_key(at, &info, keys, None, update);
                Some(at.let_star(bindings, [write, vec![body]].concat()))
            }
            _ => self.error(target.span, "only $variables and @maps can be assigned"),
        }
    }

    /// The aggregation a call names, with its constant parameters.
    fn aggregation(&mut self, func: &str, args: &[Expr], span: Span) -> Option<MapKind> {
        if func != "lhist" {
            return MapKind::without_parameters(func);
        }
        let bounds: Vec<Option<i64>> = args.iter().skip(1).map(constant).collect();
        match bounds[..] {
            [Some(min), Some(max), Some(step)] if step > 0 && max > min => {
                Some(MapKind::Lhist { min, max, step })
            }
            _ => self.error(
                span,
                "lhist(value, min, max, step) needs constant min < max and step > 0",
            ),
        }
    }

    fn aggregate(
        &mut self,
        cx: &mut ProbeContext,
        name: &str,
        keys: &[Expr],
        kind: MapKind,
        args: &[Expr],
        span: Span,
    ) -> Translated<Sexp> {
        let at = At(span);
        let wanted = match kind {
            MapKind::Count => 0,
            MapKind::Lhist { .. } => 4,
            _ => 1,
        };
        if args.len() != wanted {
            return self.error(
                span,
                format!("{}() takes {wanted} argument(s)", kind.name()),
            );
        }
        let value = match args.first() {
            Some(arg) => {
                let v = self.expr(cx, arg)?;
                if !matches!(v.ty, Type::Int { .. }) {
                    return self.error(arg.span, format!("{}() takes an integer", kind.name()));
                }
                Some(v.form)
            }
            None => None,
        };
        let keys = self.values(cx, keys)?;
        let info = self.declare_map(name, &keys, kind, span)?;
        if info.kind != kind {
            return self.error(
                span,
                format!(
                    "{name} holds {}(), it cannot take {}() too",
                    info.kind.name(),
                    kind.name()
                ),
            );
        }
        let symbol = map_symbol(info.index);
        let v = self.fresh("v");
        let bind_value = vec![(v.clone(), value.unwrap_or_else(|| at.int(1)))];
        let add = |me: &mut Self, bucket: Option<Sexp>, delta: Sexp| {
            me.with_key(at, &info, keys.clone(), bucket, |at, key| {
                vec![atomic_add(at, &symbol, key, delta)]
            })
        };
        let body = match kind {
            MapKind::Count | MapKind::Sum => vec![add(self, None, at.sym(&v))],
            MapKind::Avg | MapKind::Stats => vec![
                add(self, Some(at.int(0)), at.int(1)),
                add(self, Some(at.int(1)), at.sym(&v)),
            ],
            MapKind::Hist => vec![add(self, Some(log2_bucket(at, at.sym(&v))), at.int(1))],
            MapKind::Lhist { min, max, step } => {
                let bucket = linear_bucket(at, at.sym(&v), min, max, step);
                vec![add(self, Some(bucket), at.int(1))]
            }
            MapKind::Min | MapKind::Max => {
                let replace = if kind == MapKind::Min { "s<" } else { "s>" };
                let v2 = v.clone();
                vec![self.with_key(at, &info, keys.clone(), None, |at, key| {
                    vec![keep_extreme(at, &symbol, key, at.sym(&v2), replace)]
                })]
            }
            MapKind::Value(_) => unreachable!("aggregation() returns aggregations"),
        };
        Some(at.let_star(bind_value, body))
    }

    /// Builds the key of `info` from `keys` (and a bucket number) in a stack buffer, then
    /// `body(key address)`.
    fn with_key(
        &mut self,
        at: At,
        info: &MapInfo,
        keys: Vec<Value>,
        bucket: Option<Sexp>,
        body: impl FnOnce(At, Sexp) -> Vec<Sexp>,
    ) -> Sexp {
        let size = key_size(info);
        self.key_buffer = self.key_buffer.max(size);
        self.value_buffer = self.value_buffer.max(8);
        let (bindings, keys) = self.bind_values(keys);
        let key = || at.sym(KEY_BUFFER);
        let mut forms = vec![at.call(
            "memset",
            vec![key(), at.int(0), at.int(0), at.int(size as i128)],
        )];
        let mut offset = 0;
        for (v, slot) in keys.into_iter().zip(&info.keys) {
            forms.push(store_value(at, key(), offset, v, slot.slot_size()));
            offset += slot.slot_size();
        }
        if let Some(bucket) = bucket {
            forms.push(at.store64(key(), offset, bucket));
        }
        forms.extend(body(at, key()));
        at.let_star(bindings, forms)
    }

    /// Binds each value that is not a literal to a fresh variable (evaluating it once, in
    /// order); literals stay, to be stored word by word where they go.
    fn bind_values(&mut self, values: Vec<Value>) -> (Vec<(String, Sexp)>, Vec<Value>) {
        let mut bindings = Vec::new();
        let mut bound = Vec::new();
        for v in values {
            if v.literal.is_some() {
                bound.push(v);
                continue;
            }
            let name = self.fresh("v");
            bindings.push((name.clone(), v.form.clone()));
            bound.push(Value {
                form: At(v.form.span).sym(&name),
                ..v
            });
        }
        (bindings, bound)
    }

    fn map_info(&mut self, name: &str, span: Span) -> Translated<MapInfo> {
        match self.maps.get(name) {
            Some(info) => Some(info.clone()),
            None if self.frozen => self.error(span, format!("{name} is never assigned")),
            None => None,
        }
    }

    /// The map, declared on first sight in the learning pass.
    fn declare_map(
        &mut self,
        name: &str,
        keys: &[Value],
        kind: MapKind,
        span: Span,
    ) -> Translated<MapInfo> {
        if !self.maps.contains_key(name) && !self.frozen {
            let info = MapInfo {
                index: self.maps.len(),
                keys: keys.iter().map(|v| v.ty).collect(),
                kind,
            };
            self.maps.insert(name.to_string(), info);
        } else if let Some(known) = self.maps.get_mut(name).filter(|_| !self.frozen) {
            // A string key or value slot takes the longest string stored in it.
            for (slot, v) in known.keys.iter_mut().zip(keys) {
                if let (Type::Str(a), Type::Str(b)) = (*slot, v.ty) {
                    *slot = Type::Str(a.max(b));
                }
            }
            if let (MapKind::Value(Type::Str(a)), MapKind::Value(Type::Str(b))) = (known.kind, kind)
            {
                known.kind = MapKind::Value(Type::Str(a.max(b)));
            }
        }
        let info = self.map_info(name, span)?;
        if info.keys.len() != keys.len() {
            return self.error(
                span,
                format!("{name} has {} key(s), not {}", info.keys.len(), keys.len()),
            );
        }
        for (v, slot) in keys.iter().zip(&info.keys) {
            if v.ty.in_memory() != slot.in_memory() {
                return self.error(
                    span,
                    format!(
                        "{name}'s key is {}, not {}",
                        slot.describe(),
                        v.ty.describe()
                    ),
                );
            }
        }
        Some(info)
    }

    fn map_arg(&mut self, args: &[Expr], span: Span) -> Translated<(String, Vec<Expr>)> {
        match args {
            [Expr {
                kind: ExprKind::Map(name, keys),
                ..
            }] => Some((name.clone(), keys.clone())),
            [Expr {
                kind: ExprKind::Map(name, none),
                ..
            }, key]
                if none.is_empty() =>
            {
                let keys = match &key.kind {
                    ExprKind::Tuple(items) => items.clone(),
                    _ => vec![key.clone()],
                };
                Some((name.clone(), keys))
            }
            _ => self.error(span, "expected a map entry, as in @m[key]"),
        }
    }

    /// A scratch variable's Lisp name, declared with `ty` on first assignment.
    fn var_binding(
        &mut self,
        cx: &mut ProbeContext,
        name: &str,
        ty: Type,
        span: Span,
    ) -> Translated<String> {
        let key = cx.scoped(name);
        if let Some((_, known, lisp)) = cx.vars.iter().find(|(n, ..)| *n == key) {
            if known.in_memory() != ty.in_memory() {
                return self.error(
                    span,
                    format!("${name} is {}, not {}", known.describe(), ty.describe()),
                );
            }
            return Some(lisp.clone());
        }
        let lisp = match cx.frames.is_empty() {
            true => format!("scratch-{name}"),
            false => self.fresh(&format!("scratch-{name}")),
        };
        cx.vars.push((key, ty, lisp.clone()));
        Some(lisp)
    }

    // ---- expressions ----

    fn values(&mut self, cx: &mut ProbeContext, exprs: &[Expr]) -> Translated<Vec<Value>> {
        let values: Vec<Option<Value>> = exprs.iter().map(|e| self.expr(cx, e)).collect();
        values.into_iter().collect()
    }

    /// An integer expression as a test (non-zero is true).
    fn condition(&mut self, cx: &mut ProbeContext, e: &Expr) -> Translated<Sexp> {
        let v = self.expr(cx, e)?;
        match v.ty {
            Type::Int { .. } => Some(At(e.span).call("/=", vec![v.form, At(e.span).int(0)])),
            other => self.error(
                e.span,
                format!("a condition must be an integer, not {}", other.describe()),
            ),
        }
    }

    fn int_expr(&mut self, cx: &mut ProbeContext, e: &Expr) -> Translated<(Sexp, bool)> {
        let v = self.expr(cx, e)?;
        match v.ty {
            Type::Int { signed } => Some((v.form, signed)),
            other => self.error(
                e.span,
                format!("expected an integer, found {}", other.describe()),
            ),
        }
    }

    fn expr(&mut self, cx: &mut ProbeContext, e: &Expr) -> Translated<Value> {
        let at = At(e.span);
        match &e.kind {
            ExprKind::Int(n) => Some(Value::int(at.int(*n as i128), true)),
            ExprKind::Str(s) => Some(self.string_literal(at, s)),
            ExprKind::Var(name) => {
                if let Some(arg) = cx
                    .macro_args
                    .last()
                    .and_then(|a| a.get(&format!("${name}")))
                {
                    let arg = arg.clone();
                    return self.expr(cx, &arg);
                }
                let key = cx.scoped(name);
                match cx.vars.iter().find(|(n, ..)| *n == key) {
                    Some((_, ty, lisp)) => Some(Value {
                        form: at.sym(lisp),
                        ty: *ty,
                        literal: None,
                        kernel: cx.var_kernel.get(&key).copied(),
                    }),
                    None if cx.map_entries.iter().any(|m| &m.name == name) => self.error(
                        e.span,
                        format!("${name} is a map entry (key, value): use ${name}.0 and ${name}.1"),
                    ),
                    None => self.error(e.span, format!("${name} is used before it is assigned")),
                }
            }
            ExprKind::Map(name, keys) => self.map_read(cx, name, keys, e.span),
            ExprKind::Builtin(name) => {
                if let Some(arg) = cx.macro_args.last().and_then(|a| a.get(name)) {
                    let arg = arg.clone();
                    return self.expr(cx, &arg);
                }
                self.builtin(cx, name, e.span)
            }
            ExprKind::Positional(n) => {
                let text = self
                    .settings
                    .positional
                    .get((*n as usize).wrapping_sub(1))
                    .cloned()
                    .unwrap_or_default();
                match text.parse::<i64>() {
                    Ok(n) => Some(Value::int(at.int(n as i128), true)),
                    Err(_) if text.is_empty() => Some(Value::int(at.int(0), true)),
                    Err(_) => Some(self.string_literal(at, &text)),
                }
            }
            ExprKind::PositionalCount => Some(Value::int(
                at.int(self.settings.positional.len() as i128),
                true,
            )),
            ExprKind::Call(name, args) => self.call(cx, name, args, e.span),
            ExprKind::Binary(op, left, right) => self.binary(cx, *op, left, right, e.span),
            ExprKind::Unary(op, operand) => {
                let (v, signed) = self.int_expr(cx, operand)?;
                let form = match op {
                    UnOp::Not => at.call("not", vec![v]),
                    UnOp::BitNot => at.call("lognot", vec![v]),
                    UnOp::Neg => at.call("-", vec![v]),
                    UnOp::Deref => read_memory(at, v, 8, false, false, self),
                };
                Some(Value::int(form, signed || *op == UnOp::Neg))
            }
            ExprKind::Ternary(cond, then, otherwise) => {
                let test = self.condition(cx, cond)?;
                let a = self.expr(cx, then)?;
                let b = self.expr(cx, otherwise)?;
                if a.ty.in_memory() != b.ty.in_memory() {
                    return self.error(e.span, "both branches of ?: must have one type");
                }
                let ty = match (a.ty, b.ty) {
                    (Type::Str(x), Type::Str(y)) if x != y => {
                        return self.error(e.span, "both strings of ?: must have one size")
                    }
                    (Type::Int { signed: x }, Type::Int { signed: y }) => {
                        Type::Int { signed: x || y }
                    }
                    (t, _) => t,
                };
                Some(Value {
                    form: at.call("if", vec![test, a.form, b.form]),
                    ty,
                    literal: None,
                    kernel: None,
                })
            }
            ExprKind::Field(..) if map_entry_path(cx, e).is_some() => {
                let (entry, path) = map_entry_path(cx, e)?;
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                self.map_entry_part(&cx.map_entries[entry], &path, e.span)
            }
            ExprKind::Field(base, field) => self.field(cx, base, field, e.span),
            ExprKind::Cast(ty, operand) => {
                let (v, _) = self.int_expr(cx, operand)?;
                if let Some(name) = crate::parser::struct_pointer_name(ty) {
                    let id = kernel_types::struct_named(name)
                        .map_err(|message| self.error::<()>(e.span, message))
                        .ok()?;
                    let user = matches!(cx.kind, ProbeKind::Uprobe { .. });
                    let btf = false;
                    return Some(Value::address(v, Kernel::Struct { id, user, btf }));
                }
                let (size, signed) = types::int_type(ty)?;
                let form = at.call("cast", vec![at.sym(types::load_type(size, signed)), v]);
                Some(sized_int(form, size, signed))
            }
            ExprKind::SizeofType(ty) => {
                let (size, _) = types::int_type(ty)?;
                Some(Value::int(at.int(size as i128), false))
            }
            ExprKind::Offsetof(name, path) => {
                let offset = self.offset_of(name, path, e.span)?;
                Some(Value::int(at.int(offset as i128), false))
            }
            ExprKind::Index(..) => self.error(e.span, "indexing is not supported yet"),
            ExprKind::Tuple(_) => self.error(e.span, "tuples are supported as map keys only"),
        }
    }

    fn string_literal(&mut self, at: At, s: &str) -> Value {
        let bytes = s.as_bytes();
        let size = bytes.len() + 1;
        let name = self.fresh("literal");
        let mut forms = Vec::new();
        for (i, chunk) in bytes.chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            forms.push(at.store64(
                at.sym(&name),
                i * 8,
                at.int(u64::from_le_bytes(word) as i128),
            ));
        }
        forms.push(at.sym(&name));
        Value {
            form: at.let_star(vec![(name, at.buffer(size.div_ceil(8) * 8))], forms),
            ty: Type::Str(size),
            literal: Some(s.to_string()),
            kernel: None,
        }
    }

    fn map_read(
        &mut self,
        cx: &mut ProbeContext,
        name: &str,
        keys: &[Expr],
        span: Span,
    ) -> Translated<Value> {
        let at = At(span);
        let keys = self.values(cx, keys)?;
        let Some(info) = self.maps.get(name).cloned() else {
            return match self.frozen {
                true => self.error(span, format!("{name} is never assigned")),
                false => Some(Value::int(at.int(0), true)),
            };
        };
        let ty = match info.kind {
            MapKind::Value(t) => t,
            MapKind::Count | MapKind::Sum | MapKind::Min | MapKind::Max => Type::INT,
            other => {
                return self.error(
                    span,
                    format!("{name} holds {}(), which cannot be read", other.name()),
                )
            }
        };
        let pointer = self.fresh("entry");
        let symbol = map_symbol(info.index);
        let read = move |at: At, key: Sexp| {
            let lookup = at.call("map-lookup-ptr", vec![at.sym(&symbol), key]);
            let (missing, present) = match ty.in_memory() {
                true => (at.buffer(ty.size()), at.sym(&pointer)),
                false => (at.int(0), at.load("u64", at.sym(&pointer), 0)),
            };
            let absent = at.call("=", vec![at.sym(&pointer), at.int(0)]);
            vec![at.let_star(
                vec![(pointer.clone(), lookup)],
                vec![at.call("if", vec![absent, missing, present])],
            )]
        };
        let form = self.with_key(at, &info, keys, None, read);
        Some(Value {
            form,
            ty,
            literal: None,
            kernel: None,
        })
    }

    fn builtin(&mut self, cx: &mut ProbeContext, name: &str, span: Span) -> Translated<Value> {
        let at = At(span);
        let pid_tgid = || at.call("get-current-pid-tgid", vec![]);
        let uid_gid = || at.call("get-current-uid-gid", vec![]);
        let unsigned = |form| Some(Value::int(form, false));
        match name {
            "pid" => unsigned(at.call(">>", vec![pid_tgid(), at.int(32)])),
            "tid" => unsigned(at.call("cast", vec![at.sym("u32"), pid_tgid()])),
            "uid" => unsigned(at.call("cast", vec![at.sym("u32"), uid_gid()])),
            "gid" => unsigned(at.call(">>", vec![uid_gid(), at.int(32)])),
            "nsecs" => unsigned(at.call("ktime-get-ns", vec![])),
            "elapsed" => unsigned(at.call(
                "-",
                vec![at.call("ktime-get-ns", vec![]), global(at, GLOBAL_START)],
            )),
            "cpid" => unsigned(global(at, GLOBAL_CPID)),
            "cpu" => unsigned(at.call("get-smp-processor-id", vec![])),
            "rand" => unsigned(at.call("get-prandom-u32", vec![])),
            "cgroup" => unsigned(at.call("get-current-cgroup-id", vec![])),
            "curtask" => unsigned(at.call("get-current-task", vec![])),
            "jiffies" => unsigned(at.call("jiffies64", vec![])),
            "comm" => {
                let buffer = self.fresh("comm");
                let form = at.let_star(
                    vec![(buffer.clone(), at.buffer(16))],
                    vec![
                        at.call("get-current-comm", vec![at.sym(&buffer), at.int(16)]),
                        at.sym(&buffer),
                    ],
                );
                Some(Value {
                    form,
                    ty: Type::Str(16),
                    literal: None,
                    kernel: None,
                })
            }
            "probe" => Some(self.string_literal(at, &cx.kind.full_name())),
            "func" => match &cx.kind {
                ProbeKind::Kprobe { function, .. }
                | ProbeKind::Fentry { function, .. }
                | ProbeKind::Uprobe {
                    symbol: function, ..
                } => {
                    let function = function.clone();
                    Some(self.string_literal(at, &function))
                }
                _ => self.error(
                    span,
                    "func is known in kprobe, uprobe and fentry probes only",
                ),
            },
            "retval" if matches!(cx.kind, ProbeKind::Fentry { ret: true, .. }) => {
                let ProbeKind::Fentry { function, .. } = &cx.kind else {
                    unreachable!("matched above")
                };
                let function = function.clone();
                self.fentry_value(at, &function, None)
            }
            "retval" => match &cx.kind {
                ProbeKind::Kprobe { ret: true, .. } | ProbeKind::Uprobe { ret: true, .. } => {
                    Some(Value::int(at.call("pt-regs-ret", vec![]), true))
                }
                _ => self.error(
                    span,
                    "retval is known in kretprobe and uretprobe probes only",
                ),
            },
            "args" => self.error(span, "use a field of args, as in args.filename"),
            "kstack" => Some(self.stack(at, false, STACK_DEPTH)),
            "ustack" => Some(self.stack(at, true, STACK_DEPTH)),
            _ => {
                if let Some(n) = name.strip_prefix("arg").and_then(|n| n.parse::<u8>().ok()) {
                    if !matches!(cx.kind, ProbeKind::Kprobe { .. } | ProbeKind::Uprobe { .. }) {
                        return self
                            .error(span, "arg0-arg5 are known in kprobe and uprobe probes only");
                    }
                    if n > 5 {
                        return self.error(span, "arguments past arg5 are not in registers");
                    }
                    return unsigned(at.call(&format!("pt-regs-parm{}", n + 1), vec![]));
                }
                if let Some(n) = header_constant(name).or_else(|| kernel_types::enum_value(name)) {
                    return Some(Value::int(at.int(n as i128), true));
                }
                self.error(span, format!("unknown builtin or identifier `{name}`"))
            }
        }
    }

    fn field(
        &mut self,
        cx: &mut ProbeContext,
        base: &Expr,
        field: &str,
        span: Span,
    ) -> Translated<Value> {
        let at = At(span);
        let macro_arg = |name: &str| cx.macro_args.last().is_some_and(|a| a.contains_key(name));
        if !matches!(&base.kind, ExprKind::Builtin(b) if b == "args" && !macro_arg(b)) {
            let v = self.expr(cx, base)?;
            let Some(pointer @ Kernel::Struct { .. }) = v.kernel else {
                return self.error(
                    span,
                    format!(
                        "`{field}` is looked up in a value that is not a kernel struct; cast it \
                         first, as in ((struct task_struct *)curtask)->{field}"
                    ),
                );
            };
            return self.struct_field(at, v.form, pointer, field);
        }
        if let ProbeKind::Fentry { function, .. } = &cx.kind {
            let function = function.clone();
            return self.fentry_value(at, &function, Some(field));
        }
        let fields = match &cx.fields {
            Some(Ok(fields)) => fields,
            Some(Err(e)) => {
                let e = e.clone();
                return self.error(span, e);
            }
            None => return self.error(span, "args.FIELD is known in tracepoint probes only"),
        };
        let Some(f) = fields.iter().find(|f| f.name == field).cloned() else {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            return self.error(
                span,
                format!(
                    "this tracepoint has no field `{field}`; it has {}",
                    names.join(", ")
                ),
            );
        };
        let ty = f.value_type();
        let record = match &cx.kind {
            ProbeKind::Tracepoint { name, .. } => RecordField::of(name, &f),
            _ => RecordField { member: None },
        };
        match f.ty {
            probes::FieldType::Int { signed } => {
                let form = record.load(at, types::load_type(f.size, signed), f.offset);
                Some(
                    match f.c_type.contains("struct ") || f.c_type.contains("union ") {
                        true => match kernel_types::pointee_of_c_type(&f.c_type) {
                            Some(id) => {
                                let user = cx.kind.has_user_pointer_args();
                                Value::address(
                                    form,
                                    Kernel::Struct {
                                        id,
                                        user,
                                        btf: false,
                                    },
                                )
                            }
                            None => Value::int(form, signed),
                        },
                        false => sized_int(form, f.size, signed),
                    },
                )
            }
            probes::FieldType::CharArray | probes::FieldType::DataLocString => {
                let buffer = self.fresh("field");
                let source = match f.ty {
                    probes::FieldType::CharArray => record.offset(at, f.offset),
                    _ => at.call(
                        "logand",
                        vec![record.load(at, "u32", f.offset), at.int(0xffff)],
                    ),
                };
                let address = at.call("+", vec![at.call("ctx-ptr", vec![]), source]);
                let form = at.let_star(
                    vec![(buffer.clone(), at.buffer(ty.size()))],
                    vec![
                        at.call(
                            "probe-read-kernel-str",
                            vec![at.sym(&buffer), at.int(ty.size() as i128), address],
                        ),
                        at.sym(&buffer),
                    ],
                );
                Some(Value {
                    form,
                    ty,
                    literal: None,
                    kernel: None,
                })
            }
        }
    }

    /// An fentry/fexit argument by name (`args.filename`), or fexit's return value (`None`):
    /// the context holds them as 8-byte slots, the arguments first; their types come from the
    /// function's prototype in BTF.
    fn fentry_value(&mut self, at: At, function: &str, name: Option<&str>) -> Translated<Value> {
        let kernel_types::Signature { params, ret } = kernel_types::function_signature(function)
            .map_err(|message| self.error::<()>(at.0, message))
            .ok()?;
        let (slot, value) = match name {
            Some(name) => match params.iter().position(|(n, _)| n == name) {
                Some(i) => (i, params[i].1.clone()),
                None => {
                    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
                    return self.error(
                        at.0,
                        format!(
                            "{function} has no argument `{name}`; it has {}",
                            names.join(", ")
                        ),
                    );
                }
            },
            None => (params.len(), ret),
        };
        let form = at.call("ctx-load", vec![at.sym("u64"), at.int(8 * slot as i128)]);
        match value {
            Some(FieldValue::Int { size, signed }) => {
                let load = at.call("cast", vec![at.sym(types::load_type(size, signed)), form]);
                Some(sized_int(load, size, signed))
            }
            Some(FieldValue::Pointer(Some(id))) => {
                let pointer = Kernel::Struct {
                    id,
                    user: false,
                    btf: true,
                };
                Some(Value::address(form, pointer))
            }
            Some(FieldValue::Pointer(None)) => Some(Value::int(form, false)),
            _ => self.error(
                at.0,
                format!(
                    "{function}'s {} is not an integer or a pointer",
                    name.unwrap_or("return value")
                ),
            ),
        }
    }

    /// Field `name` of the kernel struct `id` at `base`: read with `probe-read-kernel` at an
    /// offset the loader relocates (CO-RE) for the kernel it loads on; when `base` is a pointer
    /// the verifier knows by its BTF type (`btf`), integers and pointers are loaded directly, with
    /// one relocated load (`btf-load-member`).
    fn struct_field(
        &mut self,
        at: At,
        base: Sexp,
        pointer: Kernel,
        name: &str,
    ) -> Translated<Value> {
        let Kernel::Struct { id, user, btf } = pointer else {
            return self.error(
                at.0,
                format!("`{name}` is looked up in a value that is not a struct"),
            );
        };
        let f = kernel_types::field(id, name)
            .map_err(|message| self.error::<()>(at.0, message))
            .ok()?;
        let core = f.core.as_ref().map(|(owner, member)| {
            vec![
                crate::forms::kernel_type(at, owner),
                at.string(name),
                at.int(f.offset as i128),
                crate::forms::kernel_type(at, member),
            ]
        });
        if let (true, Some(core), FieldValue::Int { .. } | FieldValue::Pointer(_)) =
            (btf, &core, &f.value)
        {
            let mut args = vec![base];
            args.extend(core.iter().cloned());
            let form = at.call("btf-load-member", args);
            return Some(match f.value {
                FieldValue::Int { size, signed } => sized_int(form, size, signed),
                FieldValue::Pointer(Some(id)) => {
                    Value::address(form, Kernel::Struct { id, user, btf })
                }
                _ => Value::int(form, false),
            });
        }
        let offset = match core {
            Some(core) => at.call("kernel-field-offset", core),
            None => at.int(f.offset as i128),
        };
        let address = at.call("+", vec![base, offset]);
        Some(match f.value {
            FieldValue::Int { size, signed } => {
                let form = read_memory(at, address, size, signed, user, self);
                sized_int(form, size, signed)
            }
            FieldValue::Pointer(pointee) => {
                let form = read_memory(at, address, 8, false, user, self);
                match pointee {
                    // Read from memory: a number to the verifier, whatever `base` was.
                    Some(id) => Value::address(
                        form,
                        Kernel::Struct {
                            id,
                            user,
                            btf: false,
                        },
                    ),
                    None => Value::int(form, false),
                }
            }
            FieldValue::Struct(id) => Value::address(address, Kernel::Struct { id, user, btf }),
            FieldValue::Bytes(size) => Value::address(address, Kernel::Bytes { size, user }),
            FieldValue::Chars(size) => {
                let buffer = self.fresh("chars");
                let form = at.let_star(
                    vec![(buffer.clone(), at.buffer(size))],
                    vec![
                        at.call(
                            if user {
                                "probe-read-user-str"
                            } else {
                                "probe-read-kernel-str"
                            },
                            vec![at.sym(&buffer), at.int(size as i128), address],
                        ),
                        at.sym(&buffer),
                    ],
                );
                Value {
                    form,
                    ty: Type::Str(size),
                    literal: None,
                    kernel: None,
                }
            }
        })
    }

    fn call(
        &mut self,
        cx: &mut ProbeContext,
        name: &str,
        args: &[Expr],
        span: Span,
    ) -> Translated<Value> {
        let at = At(span);
        if let Some(f) = self.script.functions.iter().find(|f| f.name == name) {
            return self.inline_function(cx, f, args, span);
        }
        match name {
            "str" => {
                let Some(first) = args.first() else {
                    return self.error(span, "str() takes an address");
                };
                let value = self.expr(cx, first)?;
                // A string already (a `__data_loc` field, which bpftrace 0.17 reads with str()).
                if let (Type::Str(_), 1) = (value.ty, args.len()) {
                    return Some(value);
                }
                let Type::Int { .. } = value.ty else {
                    let found = value.ty.describe();
                    return self.error(first.span, format!("expected an integer, found {found}"));
                };
                let address = value.form;
                let size = match args.get(1) {
                    None => crate::STRING_SIZE,
                    Some(n) => match constant(n) {
                        Some(n) if n > 0 && n as usize <= crate::STRING_SIZE => n as usize + 1,
                        _ => {
                            return self.error(n.span, "str()'s length must be a constant up to 64")
                        }
                    },
                };
                let buffer = self.fresh("str");
                let form = at.let_star(
                    vec![(buffer.clone(), at.buffer(size))],
                    vec![
                        at.call(
                            "probe-read-str",
                            vec![at.sym(&buffer), at.int(size as i128), address],
                        ),
                        at.sym(&buffer),
                    ],
                );
                Some(Value {
                    form,
                    ty: Type::Str(size),
                    literal: None,
                    kernel: None,
                })
            }
            "ntop" => self.ntop(cx, args, span),
            "buf" => self.buf(cx, args, span),
            "strftime" => {
                let [Expr {
                    kind: ExprKind::Str(format),
                    ..
                }, time] = args
                else {
                    return self.error(span, "strftime() takes a format string and nanoseconds");
                };
                let (form, _) = self.int_expr(cx, time)?;
                let index = self.plan.texts.len();
                self.plan.texts.push(format.clone());
                Some(Value {
                    form,
                    ty: Type::Timestamp(index as u32),
                    literal: None,
                    kernel: None,
                })
            }
            "kstack" | "ustack" => {
                // kstack(N), kstack(MODE, N): the mode (bpftrace, perf) is bpftrace's default.
                let limit = match args.last().map(|a| (a, constant(a))) {
                    None => STACK_DEPTH,
                    Some((_, Some(n))) if n > 0 => (n as usize).min(STACK_DEPTH),
                    Some((a, _)) if matches!(&a.kind, ExprKind::Builtin(m) if m == "bpftrace") => {
                        STACK_DEPTH
                    }
                    Some((a, _)) => {
                        return self.error(
                            a.span,
                            format!("{name}() takes a constant number of frames"),
                        )
                    }
                };
                Some(self.stack(at, name == "ustack", limit))
            }
            "bswap" => {
                let [arg] = args else {
                    return self.error(span, "bswap() takes one integer");
                };
                let v = self.expr(cx, arg)?;
                let Type::Int { signed } = v.ty else {
                    return self.error(span, "bswap() takes an integer");
                };
                let (size, swap) = match v.kernel {
                    Some(Kernel::Int { size: 1 }) => return Some(v),
                    Some(Kernel::Int { size: 2 }) => (2, "ntohs"),
                    Some(Kernel::Int { size: 4 }) => (4, "ntohl"),
                    _ => (8, "ntohll"),
                };
                Some(sized_int(at.call(swap, vec![v.form]), size, signed))
            }
            "kaddr" => match args {
                [Expr {
                    kind: ExprKind::Str(symbol),
                    ..
                }] => match crate::symbols::kernel_address(symbol) {
                    Some(address) => Some(Value::int(at.int(address as i128), false)),
                    None => self.error(
                        span,
                        format!("no kernel symbol `{symbol}` in /proc/kallsyms"),
                    ),
                },
                _ => self.error(span, "kaddr() takes a symbol name in quotes"),
            },
            "ksym" => {
                let [arg] = args else {
                    return self.error(span, "ksym() takes one address");
                };
                let (v, _) = self.int_expr(cx, arg)?;
                Some(Value {
                    form: v,
                    ty: Type::Ksym,
                    literal: None,
                    kernel: None,
                })
            }
            "usym" => {
                let [arg] = args else {
                    return self.error(span, "usym() takes one address");
                };
                let (v, _) = self.int_expr(cx, arg)?;
                let buffer = self.fresh("usym");
                let pid = at.call(
                    ">>",
                    vec![at.call("get-current-pid-tgid", vec![]), at.int(32)],
                );
                let form = at.let_star(
                    vec![(buffer.clone(), at.buffer(16))],
                    vec![
                        at.store64(at.sym(&buffer), 0, v),
                        at.store64(at.sym(&buffer), 8, pid),
                        at.sym(&buffer),
                    ],
                );
                Some(Value {
                    form,
                    ty: Type::Usym,
                    literal: None,
                    kernel: None,
                })
            }
            "has_key" => {
                let (map, keys) = self.map_arg(args, span)?;
                let info = self.map_info(&map, span)?;
                let keys = self.values(cx, &keys)?;
                let symbol = map_symbol(info.index);
                let form = self.with_key(at, &info, keys, None, |at, key| {
                    vec![at.call(
                        "/=",
                        vec![
                            at.call("map-lookup-ptr", vec![at.sym(&symbol), key]),
                            at.int(0),
                        ],
                    )]
                });
                Some(Value::int(form, false))
            }
            "sizeof" => {
                let [arg] = args else {
                    return self.error(span, "sizeof() takes one expression or type");
                };
                let v = self.expr(cx, arg)?;
                Some(Value::int(at.int(v.ty.size() as i128), false))
            }
            "strlen" | "len" if name == "strlen" => {
                let [arg] = args else {
                    return self.error(span, "strlen() takes one string");
                };
                let v = self.expr(cx, arg)?;
                let Type::Str(size) = v.ty else {
                    return self.error(span, "strlen() takes a string");
                };
                Some(Value::int(string_length(self, at, v.form, size), false))
            }
            _ => {
                if let Some(m) = self.script.macros.iter().find(|m| m.name == name).cloned() {
                    return self.expand_macro(cx, &m, args, span);
                }
                let known = [
                    "count", "sum", "min", "max", "avg", "stats", "hist", "lhist",
                ];
                if known.contains(&name) {
                    return self.error(
                        span,
                        format!("{name}() is assigned to a map, as in @x = {name}(...)"),
                    );
                }
                self.error(span, format!("unknown function `{name}`"))
            }
        }
    }

    /// `buf(address, length)` (or `buf(array)`): up to [`crate::STRING_SIZE`] bytes of memory
    /// with their count, printed by `%r` with non-printable bytes as `\xNN`.
    fn buf(&mut self, cx: &mut ProbeContext, args: &[Expr], span: Span) -> Translated<Value> {
        let at = At(span);
        let max = crate::STRING_SIZE;
        let (address, length) = match args {
            [address] => {
                let v = self.expr(cx, address)?;
                match v.kernel {
                    Some(Kernel::Bytes { size, .. }) => (v.form, at.int(size.min(max) as i128)),
                    _ => {
                        return self
                            .error(span, "buf(address) needs a length unless it is an array")
                    }
                }
            }
            [address, length] => (self.int_expr(cx, address)?.0, self.int_expr(cx, length)?.0),
            _ => return self.error(span, "buf() takes an address and a length"),
        };
        let (buffer, n) = (self.fresh("buf"), self.fresh("length"));
        let form = at.let_star(
            vec![(buffer.clone(), at.buffer(8 + max)), (n.clone(), length)],
            vec![
                at.call(
                    "when",
                    vec![
                        at.call(">", vec![at.sym(&n), at.int(max as i128)]),
                        at.call("setq", vec![at.sym(&n), at.int(max as i128)]),
                    ],
                ),
                at.store64(at.sym(&buffer), 0, at.sym(&n)),
                at.call(
                    "probe-read",
                    vec![
                        at.call("+", vec![at.sym(&buffer), at.int(8)]),
                        at.sym(&n),
                        address,
                    ],
                ),
                at.sym(&buffer),
            ],
        );
        Some(Value {
            form,
            ty: Type::Buf(max),
            literal: None,
            kernel: None,
        })
    }

    /// `kstack`/`ustack`: the stack's id in its stack map (with the process id for user
    /// stacks, whose symbols are the process's).
    fn stack(&mut self, at: At, user: bool, limit: usize) -> Value {
        let (map, flags) = match user {
            false => (KERNEL_STACKS_MAP, 0),
            true => (USER_STACKS_MAP, BPF_F_USER_STACK),
        };
        *(match user {
            false => &mut self.kernel_stacks,
            true => &mut self.user_stacks,
        }) = true;
        let id = at.call(
            "get-stackid",
            vec![at.call("ctx-ptr", vec![]), at.sym(map), at.int(flags)],
        );
        let ty = Type::Stack {
            user,
            limit: limit.min(u8::MAX as usize) as u8,
        };
        let form = match user {
            false => id,
            true => {
                let buffer = self.fresh("ustack");
                let pid = at.call(
                    ">>",
                    vec![at.call("get-current-pid-tgid", vec![]), at.int(32)],
                );
                at.let_star(
                    vec![(buffer.clone(), at.buffer(16))],
                    vec![
                        at.store64(at.sym(&buffer), 0, id),
                        at.store64(at.sym(&buffer), 8, pid),
                        at.sym(&buffer),
                    ],
                )
            }
        };
        Value {
            form,
            ty,
            literal: None,
            kernel: None,
        }
    }

    /// `ntop([family,] address)`: an IPv4 address from an integer (as the kernel stores it, in
    /// network order) or an IPv6 (or IPv4) one from a kernel byte array, printed as text.
    fn ntop(&mut self, cx: &mut ProbeContext, args: &[Expr], span: Span) -> Translated<Value> {
        let at = At(span);
        let (family, address) = match args {
            [address] => (None, address),
            [family, address] => (Some(family), address),
            _ => return self.error(span, "ntop() takes an address, or a family and an address"),
        };
        let family = match family {
            Some(f) => Some(self.int_expr(cx, f)?.0),
            None => None,
        };
        let v = self.expr(cx, address)?;
        let buffer = self.fresh("inet");
        let (family, fill) = match (v.ty, v.kernel) {
            (Type::Int { .. }, Some(Kernel::Bytes { size, user })) => {
                let family = family.unwrap_or_else(|| at.int(if size >= 16 { 10 } else { 2 }));
                let read = if user {
                    "probe-read-user"
                } else {
                    "probe-read-kernel"
                };
                let destination = at.call("+", vec![at.sym(&buffer), at.int(8)]);
                let length = at.int(size.min(16) as i128);
                (family, at.call(read, vec![destination, length, v.form]))
            }
            (Type::Int { .. }, _) => {
                let family = family.unwrap_or_else(|| at.int(2));
                let store = at.call(
                    "store",
                    vec![at.sym("u32"), at.sym(&buffer), at.int(8), v.form],
                );
                (family, store)
            }
            (other, _) => {
                return self.error(
                    address.span,
                    format!(
                        "ntop() takes an integer or a kernel byte array, not {}",
                        other.describe()
                    ),
                )
            }
        };
        let form = at.let_star(
            vec![(buffer.clone(), at.buffer(Type::Inet.size()))],
            vec![
                at.store64(at.sym(&buffer), 0, family),
                fill,
                at.sym(&buffer),
            ],
        );
        Some(Value {
            form,
            ty: Type::Inet,
            literal: None,
            kernel: None,
        })
    }

    /// `offsetof(struct NAME, a.b)`: the bytes from the start of the kernel struct to the
    /// field, through embedded structs for a path; the kernel's BTF gives the layout.
    fn offset_of(&mut self, name: &str, path: &[String], span: Span) -> Translated<u64> {
        if crate::script_types::layout(&self.script.structs, name).is_some() {
            return self.declared_offset_of(name, path, span);
        }
        let mut id = kernel_types::struct_named(name)
            .map_err(|message| self.error::<()>(span, message))
            .ok()?;
        let mut offset = 0;
        for (i, part) in path.iter().enumerate() {
            let field = kernel_types::field(id, part)
                .map_err(|message| self.error::<()>(span, message))
                .ok()?;
            offset += field.offset;
            match (field.value, path.get(i + 1)) {
                (_, None) => {}
                (FieldValue::Struct(inner), Some(_)) => id = inner,
                (_, Some(next)) => {
                    return self.error(
                        span,
                        format!("`{part}` is not a struct or union, so it has no field `{next}`"),
                    )
                }
            }
        }
        Some(offset as u64)
    }

    /// `offsetof` of a struct the script declares, from its C layout.
    fn declared_offset_of(&mut self, name: &str, path: &[String], span: Span) -> Translated<u64> {
        let (mut owner, mut offset) = (name.to_string(), 0);
        for (i, part) in path.iter().enumerate() {
            let layout = match crate::script_types::layout(&self.script.structs, &owner) {
                Some(Ok(layout)) => layout,
                Some(Err(message)) => return self.error(span, message),
                None => return self.error(span, format!("struct {owner} is not declared")),
            };
            let Some(member) = layout.members.iter().find(|m| m.name == *part) else {
                return self.error(span, format!("struct {owner} has no field `{part}`"));
            };
            offset += member.offset;
            match (&member.embedded, path.get(i + 1)) {
                (_, None) => {}
                (Some(inner), Some(_)) => owner = inner.clone(),
                (None, Some(next)) => {
                    return self.error(
                        span,
                        format!("`{part}` is not a struct or union, so it has no field `{next}`"),
                    )
                }
            }
        }
        Some(offset)
    }

    /// A user function's call, inlined: the arguments evaluated into the function's own
    /// scratch variables, then its body, whose `return` sets the call's value.
    fn inline_function(
        &mut self,
        cx: &mut ProbeContext,
        f: &'a Function,
        args: &[Expr],
        span: Span,
    ) -> Translated<Value> {
        let at = At(span);
        if cx.frames.iter().any(|frame| frame.name == f.name) {
            return self.error(
                span,
                format!(
                    "function `{}` calls itself, which is not supported (functions are inlined)",
                    f.name
                ),
            );
        }
        if args.len() != f.params.len() {
            return self.error(
                span,
                format!(
                    "function `{}` takes {} argument(s), not {}",
                    f.name,
                    f.params.len(),
                    args.len()
                ),
            );
        }
        let mut values = Vec::new();
        for arg in args {
            values.push(self.int_expr(cx, arg)?);
        }
        let result = match f.ret.as_str() {
            "void" => None,
            ty => Some(types::int_type(ty)?.1),
        };
        if result.is_some() && !f.body.iter().any(has_return_value) {
            return self.error(
                f.span,
                format!(
                    "function `{}` returns {} but has no `return`",
                    f.name, f.ret
                ),
            );
        }
        let tail_return = matches!(f.body.last(), Some(s) if matches!(s.kind, StmtKind::Return(_)));
        let early_return =
            (f.body.iter().rev().skip(usize::from(tail_return))).any(contains_return);
        let scope = format!("{}#{}:", f.name, self.fresh("call"));
        cx.frames.push(Frame {
            name: f.name.clone(),
            scope,
            result: None,
            done: None,
        });
        let mut forms = Vec::new();
        let result = result.and_then(|signed| {
            let lisp = self.var_binding(cx, "#result", Type::Int { signed }, span)?;
            forms.push(at.call("setq", vec![at.sym(&lisp), at.int(0)]));
            Some((lisp, signed))
        });
        let done = match early_return {
            true => self.var_binding(cx, "#done", Type::INT, span),
            false => None,
        };
        if let Some(done) = &done {
            forms.push(at.call("setq", vec![at.sym(done), at.int(0)]));
        }
        for ((param, ty), (value, _)) in f.params.iter().zip(values) {
            let (size, signed) = types::int_type(ty).unwrap_or((8, true));
            let value = match size {
                8 => value,
                _ => at.call("cast", vec![at.sym(types::load_type(size, signed)), value]),
            };
            if let Some(lisp) = self.var_binding(cx, param, Type::Int { signed }, span) {
                forms.push(at.call("setq", vec![at.sym(&lisp), value]));
            }
        }
        if let Some(frame) = cx.frames.last_mut() {
            frame.result = result.clone();
            frame.done = done;
        }
        let hidden_macro_args = std::mem::take(&mut cx.macro_args);
        let hidden_entries = std::mem::take(&mut cx.map_entries);
        forms.extend(self.block(cx, &f.body));
        cx.macro_args = hidden_macro_args;
        cx.map_entries = hidden_entries;
        cx.frames.pop();
        let value = match result {
            Some((lisp, signed)) => Value::int(at.sym(&lisp), signed),
            None => Value::int(at.int(0), true),
        };
        forms.push(value.form);
        Some(Value::int(at.progn(forms), value.ty == Type::INT))
    }

    /// `return;` leaves the probe; in a function, `return [EXPR];` sets the call's value and
    /// skips the rest of its body.
    fn return_stmt(
        &mut self,
        cx: &mut ProbeContext,
        value: Option<&Expr>,
        span: Span,
    ) -> Translated<Sexp> {
        let at = At(span);
        let Some(frame) = cx.frames.last() else {
            return match value {
                None => Some(leave(at, cx, at.int(0))),
                Some(v) => self.error(v.span, "a probe's `return` takes no value"),
            };
        };
        let (name, result, done) = (frame.name.clone(), frame.result.clone(), frame.done.clone());
        let mut forms = Vec::new();
        match (value, result) {
            (Some(e), Some((lisp, _))) => {
                let (v, _) = self.int_expr(cx, e)?;
                forms.push(at.call("setq", vec![at.sym(&lisp), v]));
            }
            (None, None) => {}
            (Some(e), None) => {
                return self.error(e.span, format!("function `{name}` returns void: no value"))
            }
            (None, Some(_)) => {
                return self.error(span, format!("function `{name}` must return a value"))
            }
        }
        if let Some(done) = done {
            forms.push(at.call("setq", vec![at.sym(&done), at.int(1)]));
        }
        forms.push(at.int(0));
        Some(at.progn(forms))
    }

    /// A macro call: the body's statements with the parameters bound to the arguments; its
    /// value is the last expression statement's.
    fn expand_macro(
        &mut self,
        cx: &mut ProbeContext,
        m: &Macro,
        args: &[Expr],
        span: Span,
    ) -> Translated<Value> {
        if args.len() != m.params.len() {
            return self.error(
                span,
                format!("macro {} takes {} argument(s)", m.name, m.params.len()),
            );
        }
        if cx.macro_args.len() > 16 {
            return self.error(span, "macros nest too deeply");
        }
        let bound = m.params.iter().cloned().zip(args.iter().cloned()).collect();
        cx.macro_args.push(bound);
        let (last, init) = match m.body.split_last() {
            Some((
                Stmt {
                    kind: StmtKind::Expr(e),
                    ..
                },
                init,
            )) => (Some(e.clone()), init),
            _ => (None, &m.body[..]),
        };
        let mut forms: Vec<Sexp> = init.iter().filter_map(|s| self.stmt(cx, s)).collect();
        let value = match &last {
            Some(e) => self.expr(cx, e),
            None => Some(Value::int(At(span).int(0), true)),
        };
        cx.macro_args.pop();
        let value = value?;
        forms.push(value.form);
        Some(Value {
            form: At(span).progn(forms),
            ty: value.ty,
            literal: value.literal,
            kernel: value.kernel,
        })
    }

    fn binary(
        &mut self,
        cx: &mut ProbeContext,
        op: BinOp,
        left: &Expr,
        right: &Expr,
        span: Span,
    ) -> Translated<Value> {
        let at = At(span);
        let a = self.expr(cx, left)?;
        let b = self.expr(cx, right)?;
        if let (Type::Str(_), Type::Str(_)) = (a.ty, b.ty) {
            let equal = match op {
                BinOp::Eq => true,
                BinOp::Ne => false,
                _ => return self.error(span, "strings compare with == and != only"),
            };
            let test = strings_equal(self, at, a, b);
            let form = if equal {
                test
            } else {
                at.call("not", vec![test])
            };
            return Some(Value::int(form, false));
        }
        let (Type::Int { signed: sa }, Type::Int { signed: sb }) = (a.ty, b.ty) else {
            return self.error(
                span,
                format!("cannot combine {} and {}", a.ty.describe(), b.ty.describe()),
            );
        };
        let signed = sa && sb;
        let (x, y) = (a.form, b.form);
        let compare = |unsigned: &str, signed_op: &str| match signed {
            true => signed_op.to_string(),
            false => unsigned.to_string(),
        };
        let (head, result_signed) = match op {
            BinOp::Add => ("+".to_string(), sa || sb),
            BinOp::Sub => ("-".to_string(), sa || sb),
            BinOp::Mul => ("*".to_string(), sa || sb),
            BinOp::Div => ("/".to_string(), sa || sb),
            BinOp::Mod => ("mod".to_string(), sa || sb),
            BinOp::Shl => ("<<".to_string(), sa),
            BinOp::Shr => (">>".to_string(), sa),
            BinOp::BitAnd => ("logand".to_string(), sa || sb),
            BinOp::BitOr => ("logior".to_string(), sa || sb),
            BinOp::BitXor => ("logxor".to_string(), sa || sb),
            BinOp::Eq => ("=".to_string(), false),
            BinOp::Ne => ("/=".to_string(), false),
            BinOp::Lt => (compare("<", "s<"), false),
            BinOp::Le => (compare("<=", "s<="), false),
            BinOp::Gt => (compare(">", "s>"), false),
            BinOp::Ge => (compare(">=", "s>="), false),
            BinOp::And | BinOp::Or => {
                let head = if op == BinOp::And { "and" } else { "or" };
                let form = at.call(
                    head,
                    vec![
                        at.call("/=", vec![x, at.int(0)]),
                        at.call("/=", vec![y, at.int(0)]),
                    ],
                );
                return Some(Value::int(form, false));
            }
        };
        Some(Value::int(at.call(&head, vec![x, y]), result_signed))
    }
}

// ---- code shapes ----

/// Whether a statement is or holds a `return`.
fn contains_return(stmt: &Stmt) -> bool {
    statement_returns(stmt, false)
}

/// Whether a statement is or holds a `return` with a value.
fn has_return_value(stmt: &Stmt) -> bool {
    statement_returns(stmt, true)
}

fn statement_returns(stmt: &Stmt, with_value: bool) -> bool {
    let any = |stmts: &[Stmt]| stmts.iter().any(|s| statement_returns(s, with_value));
    match &stmt.kind {
        StmtKind::Return(value) => !with_value || value.is_some(),
        StmtKind::If(_, then, otherwise) => any(then) || any(otherwise),
        StmtKind::Unroll(_, body)
        | StmtKind::While(_, body)
        | StmtKind::ForRange(_, _, _, body)
        | StmtKind::ForMap(_, _, _, body) => any(body),
        _ => false,
    }
}

/// The Lisp name of map number `index`.
/// Leaves the probe (`return`, `exit()`) with `value`; inside a `for` loop over a map, whose
/// body is a callback, the walk stops instead, its shared variables written back.
fn leave(at: At, cx: &ProbeContext, value: Sexp) -> Sexp {
    match cx.loops.iter().rev().find_map(Option::as_ref) {
        Some(write_back) => {
            let stop = at.call("return", vec![at.int(1)]);
            at.progn([write_back.clone(), vec![stop]].concat())
        }
        None => at.call("return", vec![value]),
    }
}

/// `$kv.0`, `$kv.1` or `$kv.0.N` where `$kv` is a `for` loop's map entry: the entry's index
/// in `cx.map_entries` and the field names.
fn map_entry_path(cx: &ProbeContext, e: &Expr) -> Option<(usize, Vec<String>)> {
    match &e.kind {
        ExprKind::Var(name) => cx
            .map_entries
            .iter()
            .rposition(|m| &m.name == name)
            .map(|i| (i, Vec::new())),
        ExprKind::Field(base, field) => {
            let (entry, mut path) = map_entry_path(cx, base)?;
            path.push(field.clone());
            Some((entry, path))
        }
        _ => None,
    }
}

fn map_symbol(index: usize) -> String {
    format!("map-{index}")
}

fn key_size(info: &MapInfo) -> usize {
    let keys: usize = info.keys.iter().map(|t| t.slot_size()).sum();
    let bucket = if info.kind.has_bucket() { 8 } else { 0 };
    (keys + bucket).max(8)
}

/// An integer of `size` bytes (its width remembered for `bswap`).
fn sized_int(form: Sexp, size: usize, signed: bool) -> Value {
    Value {
        kernel: (size < 8).then_some(Kernel::Int { size }),
        ..Value::int(form, signed)
    }
}

/// `(getmap globals SLOT)`.
fn global(at: At, slot: u32) -> Sexp {
    at.call("getmap", vec![at.sym(GLOBALS_MAP), at.int(slot as i128)])
}

/// Writes a value (a variable, or a literal written word by word) into a slot of
/// `slot_size` bytes at `ptr + offset`, which the caller has zeroed.
fn store_value(at: At, ptr: Sexp, offset: usize, v: Value, slot_size: usize) -> Sexp {
    if let Some(text) = &v.literal {
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        let words = bytes
            .chunks(8)
            .take(slot_size / 8)
            .enumerate()
            .map(|(i, chunk)| {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                at.store64(
                    ptr.clone(),
                    offset + i * 8,
                    at.int(u64::from_le_bytes(word) as i128),
                )
            })
            .collect();
        return at.progn(words);
    }
    match v.ty.in_memory() {
        false => at.store64(ptr, offset, v.form),
        true => at.memcpy(ptr, offset, v.form, v.ty.size().min(slot_size)),
    }
}

/// Copies a string into a string variable's buffer of `size` bytes, zeroing the rest.
fn copy_string(at: At, dst: Sexp, size: usize, v: Value) -> Sexp {
    let n = v.ty.size().min(size);
    let mut forms = vec![at.memcpy(dst.clone(), 0, v.form, n)];
    if n < size {
        forms.push(at.call(
            "memset",
            vec![
                dst,
                at.int(n as i128),
                at.int(0),
                at.int((size - n) as i128),
            ],
        ));
    }
    at.progn(forms)
}

/// Adds `delta` to the u64 at `key` in `map`, inserting it when missing.
fn atomic_add(at: At, map: &str, key: Sexp, delta: Sexp) -> Sexp {
    let (p, q, v) = ("entry", "entry-again", VALUE_BUFFER);
    let add = |ptr: &str, delta: Sexp| at.call("atomic-add", vec![at.sym(ptr), at.int(0), delta]);
    let lookup = |key: Sexp| at.call("map-lookup-ptr", vec![at.sym(map), key]);
    at.let_star(
        vec![("delta".into(), delta), (p.into(), lookup(key.clone()))],
        vec![at.call(
            "if",
            vec![
                at.call("/=", vec![at.sym(p), at.int(0)]),
                add(p, at.sym("delta")),
                at.progn(vec![
                    at.store64(at.sym(v), 0, at.sym("delta")),
                    at.call(
                        "when",
                        vec![
                            at.call(
                                "/=",
                                vec![
                                    at.call(
                                        "map-update-ptr",
                                        vec![at.sym(map), key.clone(), at.sym(v), at.int(1)],
                                    ),
                                    at.int(0),
                                ],
                            ),
                            at.let_star(
                                vec![(q.into(), lookup(key))],
                                vec![at.call(
                                    "when",
                                    vec![
                                        at.call("/=", vec![at.sym(q), at.int(0)]),
                                        add(q, at.sym("delta")),
                                    ],
                                )],
                            ),
                        ],
                    ),
                ]),
            ],
        )],
    )
}

/// Keeps the smaller (`s<`) or larger (`s>`) of the stored value and `value`.
fn keep_extreme(at: At, map: &str, key: Sexp, value: Sexp, replace: &str) -> Sexp {
    let (p, v) = ("entry", VALUE_BUFFER);
    at.let_star(
        vec![(
            p.into(),
            at.call("map-lookup-ptr", vec![at.sym(map), key.clone()]),
        )],
        vec![at.call(
            "if",
            vec![
                at.call("/=", vec![at.sym(p), at.int(0)]),
                at.call(
                    "when",
                    vec![
                        at.call(replace, vec![value.clone(), at.load("i64", at.sym(p), 0)]),
                        at.store64(at.sym(p), 0, value.clone()),
                    ],
                ),
                at.progn(vec![
                    at.store64(at.sym(v), 0, value),
                    at.call(
                        "map-update-ptr",
                        vec![at.sym(map), key, at.sym(v), at.int(0)],
                    ),
                ]),
            ],
        )],
    )
}

/// bpftrace's power-of-two bucket: 0 for negatives, 1 for 0, 2 + log2(v) above.
fn log2_bucket(at: At, value: Sexp) -> Sexp {
    let mut steps = Vec::new();
    for shift in [32, 16, 8, 4, 2, 1] {
        steps.push(at.call(
            "when",
            vec![
                at.call(">=", vec![at.sym("n"), at.int(1i128 << shift)]),
                at.call(
                    "setq",
                    vec![
                        at.sym("n"),
                        at.call(">>", vec![at.sym("n"), at.int(shift)]),
                        at.sym("bits"),
                        at.call("+", vec![at.sym("bits"), at.int(shift)]),
                    ],
                ),
            ],
        ));
    }
    steps.push(at.call("+", vec![at.sym("bits"), at.int(2)]));
    at.let_star(
        vec![("n".into(), value), ("bits".into(), at.int(0))],
        vec![at.call(
            "cond",
            vec![
                at.list(vec![at.call("s<", vec![at.sym("n"), at.int(0)]), at.int(0)]),
                at.list(vec![at.call("=", vec![at.sym("n"), at.int(0)]), at.int(1)]),
                at.list([vec![at.sym("t")], steps].concat()),
            ],
        )],
    )
}

/// lhist's bucket: 0 below `min`, the last above `max`, else 1 + (v - min) / step.
fn linear_bucket(at: At, value: Sexp, min: i64, max: i64, step: i64) -> Sexp {
    let buckets = (max - min) / step;
    at.let_star(
        vec![("n".into(), value)],
        vec![at.call(
            "cond",
            vec![
                at.list(vec![
                    at.call("s<", vec![at.sym("n"), at.int(min as i128)]),
                    at.int(0),
                ]),
                at.list(vec![
                    at.call("s>=", vec![at.sym("n"), at.int(max as i128)]),
                    at.int(buckets as i128 + 1),
                ]),
                at.list(vec![
                    at.sym("t"),
                    at.call(
                        "+",
                        vec![
                            at.int(1),
                            at.call(
                                "/",
                                vec![
                                    at.call("-", vec![at.sym("n"), at.int(min as i128)]),
                                    at.int(step as i128),
                                ],
                            ),
                        ],
                    ),
                ]),
            ],
        )],
    )
}

/// `*address`: an integer of `size` bytes read from kernel memory, or the traced process's
/// when `user` (0 when the read fails).
fn read_memory(
    at: At,
    address: Sexp,
    size: usize,
    signed: bool,
    user: bool,
    t: &mut Translator,
) -> Sexp {
    let buffer = t.fresh("deref");
    at.let_star(
        vec![(buffer.clone(), at.buffer(8))],
        vec![
            at.call(
                if user {
                    "probe-read-user"
                } else {
                    "probe-read-kernel"
                },
                vec![at.sym(&buffer), at.int(size as i128), address],
            ),
            at.load(types::load_type(size, signed), at.sym(&buffer), 0),
        ],
    )
}

/// 1 when two strings are equal up to their first NUL, else 0. A literal compares its bytes
/// and its terminator only.
fn strings_equal(t: &mut Translator, at: At, a: Value, b: Value) -> Sexp {
    let (x, y) = (t.fresh("left"), t.fresh("right"));
    let literal = a.literal.clone().or(b.literal.clone());
    let limit = a.ty.size().min(b.ty.size());
    let count = match &literal {
        Some(s) => (s.len() + 1).min(limit),
        None => limit,
    };
    // Byte i matches, and either both strings ended there or the rest matches too.
    let mut test = at.int(1);
    for i in (0..count).rev() {
        let byte = |name: &str| at.load("u8", at.sym(name), i);
        let same = at.call("=", vec![byte(&x), byte(&y)]);
        test = match literal.is_some() {
            true => at.call("and", vec![same, test]),
            false => at.call(
                "and",
                vec![
                    same,
                    at.call("or", vec![at.call("=", vec![byte(&x), at.int(0)]), test]),
                ],
            ),
        };
    }
    at.let_star(vec![(x, a.form), (y, b.form)], vec![test])
}

/// The length of a NUL-terminated string in a buffer of `size` bytes.
fn string_length(t: &mut Translator, at: At, buffer: Sexp, size: usize) -> Sexp {
    let (b, n, i) = (t.fresh("s"), t.fresh("len"), t.fresh("i"));
    at.let_star(
        vec![(b.clone(), buffer), (n.clone(), at.int(size as i128))],
        vec![
            at.call(
                "dotimes",
                vec![
                    at.list(vec![at.sym(&i), at.int(size as i128)]),
                    at.call(
                        "when",
                        vec![
                            at.call(
                                "and",
                                vec![
                                    at.call("=", vec![at.sym(&n), at.int(size as i128)]),
                                    at.call(
                                        "=",
                                        vec![
                                            at.call(
                                                "load",
                                                vec![
                                                    at.sym("u8"),
                                                    at.call("+", vec![at.sym(&b), at.sym(&i)]),
                                                    at.int(0),
                                                ],
                                            ),
                                            at.int(0),
                                        ],
                                    ),
                                ],
                            ),
                            at.call("setq", vec![at.sym(&n), at.sym(&i)]),
                        ],
                    ),
                ],
            ),
            at.sym(&n),
        ],
    )
}

/// An integer the parser can see is constant.
fn constant(e: &Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Int(n) => Some(*n),
        ExprKind::Unary(UnOp::Neg, inner) => constant(inner).map(|n| -n),
        _ => None,
    }
}

/// Constants bpftrace's tools take from the C headers they include (`#define`s, which BTF does
/// not describe); enum values come from BTF.
fn header_constant(name: &str) -> Option<i64> {
    Some(match name {
        "TASK_RUNNING" => 0,
        "AF_INET" => 2,
        "AF_INET6" => 10,
        _ => return None,
    })
}

fn signal_number(name: &str) -> Option<i32> {
    let name = name.trim_start_matches("SIG");
    Some(match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "KILL" => 9,
        "USR1" => 10,
        "USR2" => 12,
        "TERM" => 15,
        "CONT" => 18,
        "STOP" => 19,
        _ => return None,
    })
}

/// A tracepoint field as the event's record in the kernel's BTF holds it, when it does:
/// read at the running kernel's offset (CO-RE), as `deftracepoint` reads it; otherwise at the
/// format file's offset.
struct RecordField {
    member: Option<(whistler_object::KernelType, KernelField)>,
}

impl RecordField {
    fn of(event: &str, f: &TracepointField) -> RecordField {
        RecordField {
            member: kernel_types::tracepoint_member(event, &f.name),
        }
    }

    /// The member's CO-RE description: the struct's type, its name, offset and type.
    fn core_args(at: At, owner: &whistler_object::KernelType, m: &KernelField) -> Vec<Sexp> {
        vec![
            crate::forms::kernel_type(at, owner),
            at.string(&m.name),
            at.int(m.offset as i128),
            crate::forms::kernel_type(at, &m.ty),
        ]
    }

    /// The field's value: `(ctx-load-member ...)` for a member read as a value, else
    /// `(ctx-load TYPE OFFSET)`.
    fn load(&self, at: At, ty: &str, offset: usize) -> Sexp {
        match &self.member {
            Some((owner, m)) if matches!(m.access, FieldAccess::Value(_)) => {
                at.call("ctx-load-member", Self::core_args(at, owner, m))
            }
            _ => at.call("ctx-load", vec![at.sym(ty), at.int(offset as i128)]),
        }
    }

    /// The field's offset in the context: relocated for a member read by address (an array).
    fn offset(&self, at: At, offset: usize) -> Sexp {
        match &self.member {
            Some((owner, m)) if matches!(m.access, FieldAccess::Address(_)) => {
                at.call("kernel-field-offset", Self::core_args(at, owner, m))
            }
            _ => at.int(offset as i128),
        }
    }
}
