//! The compiler pipeline as plain calls: read → expand → per program (lower → passes →
//! register allocation → checker → code generation) → object spec → ELF bytes.

use crate::codegen::{self, CodegenError, Cpu};
use crate::expand::{self, Expanded, MacroHost, Program};
use crate::facts::{self, MapFacts, ProgramFacts, StructLayout};
use crate::ir::{self, Function};
use crate::{lower, opt, regalloc};
use whistler_object::{ObjectSpec, ProgramSpec};
use whistler_syntax::{Diagnostic, Severity, Sexp, SourceFile};

/// What to keep besides the object.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Keep per-program dumps (IR after lowering, IR after optimization, disassembly).
    pub dump: bool,
    /// The instruction-set version to emit for (`--cpu`, like clang's `-mcpu`).
    pub cpu: Cpu,
}

/// Text dumps of one program's compilation stages.
#[derive(Clone, Debug, Default)]
pub struct ProgramDump {
    pub name: String,
    /// The expanded program (see `ast::Expr`'s `Display`).
    pub expanded: String,
    pub lowered_ir: String,
    pub optimized_ir: String,
    pub asm: String,
}

/// A compiled file.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub spec: ObjectSpec,
    /// The ELF object (`whistler_object::write_object(&spec)`).
    pub elf: Vec<u8>,
    /// Filled when [`Options::dump`] is set.
    pub dumps: Vec<ProgramDump>,
    /// The programs, maps and struct layouts by Lisp name and object name: what a session binds.
    pub programs: Vec<ProgramFacts>,
    pub maps: Vec<MapFacts>,
    pub structs: Vec<StructLayout>,
    /// Every `defconstant` by Lisp name, sorted by name.
    pub constants: Vec<(String, i64)>,
}

/// Compiles a whole source file, with the standard macro library.
pub fn compile(file: &SourceFile) -> Result<Compiled, Vec<Diagnostic>> {
    compile_in(file, &mut crate::lisp_host::standard_interp())
}

/// Compiles a whole source file with a given macro host (e.g. an evaluator with host functions
/// such as `%tracepoint-format` installed).
pub fn compile_in(
    file: &SourceFile,
    host: &mut dyn MacroHost,
) -> Result<Compiled, Vec<Diagnostic>> {
    compile_in_with(file, Options::default(), host)
}

/// Compiles a whole source file with options and a given macro host.
pub fn compile_in_with(
    file: &SourceFile,
    options: Options,
    host: &mut dyn MacroHost,
) -> Result<Compiled, Vec<Diagnostic>> {
    let read = whistler_syntax::read(file);
    let result = compile_with(file, &read.forms, options, host);
    match (read.diagnostics.is_empty(), result) {
        (true, r) => r,
        (false, Ok(_)) => Err(read.diagnostics),
        (false, Err(mut e)) => {
            let mut all = read.diagnostics;
            all.append(&mut e);
            Err(all)
        }
    }
}

/// Compiles already-read top-level forms.
pub fn compile_forms(file: &SourceFile, forms: &[Sexp]) -> Result<Compiled, Vec<Diagnostic>> {
    compile_with(
        file,
        forms,
        Options::default(),
        &mut crate::lisp_host::standard_interp(),
    )
}

/// Compiles top-level forms with options and a macro host.
pub fn compile_with(
    file: &SourceFile,
    forms: &[Sexp],
    options: Options,
    host: &mut dyn MacroHost,
) -> Result<Compiled, Vec<Diagnostic>> {
    let (expanded, mut diags) = expand::expand(file, forms, host);
    let license = license(&expanded, &mut diags);
    let mut programs = Vec::new();
    let mut dumps = Vec::new();
    if diags.is_empty() {
        for p in &expanded.programs {
            match compile_program(file, &expanded, p, options) {
                Ok((spec, dump)) => {
                    programs.push(spec);
                    dumps.extend(dump);
                }
                Err(d) => diags.push(d),
            }
        }
    }
    if !diags.is_empty() {
        return Err(in_source_order(diags));
    }
    let env = &expanded.env;
    let spec = ObjectSpec {
        source_name: file.name.clone(),
        source_text: file.text.clone(),
        license,
        maps: env.maps.iter().map(|m| m.spec.clone()).collect(),
        programs,
        structs: env.structs.iter().map(|s| s.to_spec(env)).collect(),
        metrics: env.metrics.clone(),
    };
    // The spec comes from checked definitions, so a write error is a compiler bug.
    let elf = whistler_object::write_object(&spec).map_err(|e| {
        let span = forms.first().map_or_else(Default::default, |f| f.span);
        vec![Diagnostic::error(
            span,
            format!("internal compiler error: {e}"),
        )]
    })?;
    Ok(Compiled {
        spec,
        elf,
        dumps,
        programs: facts::programs(env),
        maps: facts::maps(env),
        structs: facts::structs(env),
        constants: facts::constants(env),
    })
}

/// Diagnostics in source order, whichever stage found them; a note stays after the
/// diagnostic it belongs to.
fn in_source_order(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut groups: Vec<Vec<Diagnostic>> = Vec::new();
    for d in diags {
        match groups.last_mut() {
            Some(group) if d.severity == Severity::Note => group.push(d),
            _ => groups.push(vec![d]),
        }
    }
    groups.sort_by_key(|group| group[0].span.start);
    groups.concat()
}

/// The object's license: every program that names one must agree; "GPL" by default.
fn license(expanded: &Expanded, diags: &mut Vec<Diagnostic>) -> String {
    let mut chosen: Option<String> = None;
    for p in &expanded.env.programs {
        let Some((l, span)) = &p.license else {
            continue;
        };
        match &chosen {
            Some(c) if c != l => diags.push(
                Diagnostic::error(
                    *span,
                    format!("license \"{l}\" differs from \"{c}\" given earlier"),
                )
                .with_help("all programs of one object share one license"),
            ),
            Some(_) => {}
            None => chosen = Some(l.clone()),
        }
    }
    chosen.unwrap_or_else(|| "GPL".to_string())
}

fn compile_program(
    file: &SourceFile,
    expanded: &Expanded,
    p: &Program,
    options: Options,
) -> Result<(ProgramSpec, Vec<ProgramDump>), Diagnostic> {
    let span = p.def.span;
    let ice = |msg: String| Diagnostic::error(span, format!("internal compiler error: {msg}"));
    let map_sizes: Vec<(u32, u32)> = (expanded.env.maps.iter())
        .map(|m| (m.spec.key_size, m.spec.value_size))
        .collect();
    let mut func = lower::lower(&p.def.name, &p.body, p.var_count, func_maps(expanded));
    func.map_sizes = map_sizes.clone();
    func.read_only_data = options.cpu.has_read_only_data();
    func.returns_int = p.def.program_type.returns_int();
    func.packet_fields = crate::context::packet_pointer_fields(p.def.program_type);
    let mut dump = options.dump.then(|| ProgramDump {
        name: p.def.name.clone(),
        expanded: p.body.to_string(),
        ..Default::default()
    });
    let code = compile_function(file, func, span, options, dump.as_mut())?;
    let mut callbacks = Vec::with_capacity(p.callbacks.len());
    let mut callback_dumps = Vec::new();
    for (n, callback) in p.callbacks.iter().enumerate() {
        let name = format!("{}-callback-{n}", p.def.name);
        let mut func = lower::lower_callback(&name, callback, p.var_count, func_maps(expanded));
        func.map_sizes = map_sizes.clone();
        func.read_only_data = options.cpu.has_read_only_data();
        let mut callback_dump = options.dump.then(|| ProgramDump {
            name: name.clone(),
            expanded: callback.body.to_string(),
            asm: format!("; placed after {}'s body, in its assembly\n", p.def.name),
            ..Default::default()
        });
        callbacks.push(compile_function(
            file,
            func,
            span,
            options,
            callback_dump.as_mut(),
        )?);
        callback_dumps.extend(callback_dump);
    }
    let code = codegen::callbacks::link(code, callbacks).map_err(ice)?;
    if let Some(dump) = dump.as_mut() {
        dump.asm = disassemble(&code.insns);
    }
    let dumps = dump.into_iter().chain(callback_dumps).collect();
    let spec = ProgramSpec {
        // libbpf passes the symbol name to the kernel, which accepts only [A-Za-z0-9_.].
        name: whistler_object::symbol_name(&p.def.name),
        section: p.def.section.clone(),
        insns: code.insns,
        map_relocs: code.map_relocs,
        data_relocs: code.data_relocs,
        lines: code.lines,
        core_relocs: code.core_relocs,
    };
    Ok((spec, dumps))
}

/// The names of the object's maps, which `MapFd` instructions index.
fn func_maps(expanded: &Expanded) -> Vec<String> {
    (expanded.env.maps.iter())
        .map(|m| m.spec.name.clone())
        .collect()
}

/// One lowered function through the passes, register allocation and code generation; its IR
/// before and after optimization is added to `dump`.
fn compile_function(
    file: &SourceFile,
    mut func: Function,
    span: whistler_syntax::Span,
    options: Options,
    dump: Option<&mut ProgramDump>,
) -> Result<codegen::Code, Diagnostic> {
    let ice = |msg: String| Diagnostic::error(span, format!("internal compiler error: {msg}"));
    check(&func, "lowering").map_err(ice)?;
    let lowered_ir = dump.is_some().then(|| ir::print::to_text(&func));
    optimize(&mut func).map_err(ice)?;
    let alloc = regalloc::allocate(&func);
    regalloc::checker::check(&func, &alloc)
        .map_err(|e| ice(format!("register allocation: {e}")))?;
    if let Some(dump) = dump {
        dump.lowered_ir += &lowered_ir.unwrap_or_default();
        dump.optimized_ir += &ir::print::to_text(&func);
    }
    codegen::generate(&func, &alloc, file, options.cpu).map_err(|e| match e {
        CodegenError::StackTooLarge(_) => Diagnostic::error(span, e.to_string()).with_help(
            "use fewer or smaller structs and temporaries, or move data into a per-CPU array map",
        ),
        CodegenError::Internal(_) => Diagnostic::error(span, e.to_string()),
    })
}

/// Rounds of the main pass list at most; each round peels one level of constants or branches
/// (an unrolled `log2` of a constant needs one round per step), and a round that changes
/// nothing ends the loop early.
const MAX_ROUNDS: usize = 12;

/// The optimization passes, each followed by the verifier, repeated until the IR stops
/// changing.
pub fn optimize(func: &mut Function) -> Result<(), String> {
    let mut before = None;
    for _ in 0..MAX_ROUNDS {
        // Compacting renumbers the blocks, which the fingerprint sees: both fingerprints
        // compared are taken right after it, so a round that changed nothing ends the loop.
        func.compact();
        let now = func.fingerprint();
        if before == Some(now) {
            break;
        }
        before = Some(now);
        opt::simplify_cfg::run(func);
        check(func, "simplify_cfg")?;
        opt::copy_propagation::run(func);
        check(func, "copy_propagation")?;
        opt::const_fold::run(func);
        check(func, "const_fold")?;
        opt::redundant_zext::run(func);
        check(func, "redundant_zext")?;
        opt::value_numbering::run(func);
        check(func, "value_numbering")?;
        opt::reassociate::run(func);
        check(func, "reassociate")?;
        opt::address_folding::run(func);
        check(func, "address_folding")?;
        opt::context_loads::run(func);
        check(func, "context_loads")?;
        opt::stack_forwarding::run(func);
        check(func, "stack_forwarding")?;
        opt::read_only_keys::run(func);
        check(func, "read_only_keys")?;
        opt::shared_key_slots::run(func);
        check(func, "shared_key_slots")?;
        opt::known_branches::run(func);
        check(func, "known_branches")?;
        opt::zeroed_buffer_checks::run(func);
        check(func, "zeroed_buffer_checks")?;
        opt::int_return::run(func);
        check(func, "int_return")?;
        opt::join_constants::run(func);
        check(func, "join_constants")?;
        opt::sign_select::run(func);
        check(func, "sign_select")?;
        opt::copy_propagation::run(func);
        check(func, "copy_propagation")?;
        opt::unused_helper_calls::run(func);
        check(func, "unused_helper_calls")?;
        opt::dead_code::run(func);
        check(func, "dead_code")?;
        opt::widened_stores::run(func);
        check(func, "widened_stores")?;
        opt::merged_copies::run(func);
        check(func, "merged_copies")?;
        opt::dead_stack_stores::run(func);
        check(func, "dead_stack_stores")?;
    }
    func.compact();
    opt::simplify_cfg::run(func);
    check(func, "simplify_cfg")?;
    opt::rebased_accesses::run(func);
    check(func, "rebased_accesses")?;
    opt::copy_propagation::run(func);
    check(func, "copy_propagation")?;
    opt::shared_branches::run(func);
    check(func, "shared_branches")?;
    opt::rematerialize::run(func);
    check(func, "rematerialize")?;
    opt::dead_code::run(func);
    check(func, "dead_code")
}

/// Runs the IR verifier (debug and test builds only).
fn check(func: &Function, after: &str) -> Result<(), String> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    let errors = ir::verify::verify(func);
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!("invalid IR after {after}: {}", errors.join("; ")))
}

/// Disassembly, one instruction per line.
pub fn disassemble(insns: &[whistler_bpf::Insn]) -> String {
    whistler_bpf::disasm::disassemble(insns)
        .into_iter()
        .map(|(i, text)| format!("{i:4}: {text}\n"))
        .collect()
}
