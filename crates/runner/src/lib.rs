//! Runs one-file Lisp session files (`whistler run FILE.lisp`) written the way Whistler's
//! documentation writes them: `whistler:defstruct`, `defmacro`/`defun`, and
//! `(with-bpf-session () (bpf:map ...) (bpf:prog ...) USER-CODE...)`.
//!
//! The BPF side of every session in the file is compiled first, with the same evaluator that
//! later runs the user code (so user macros work in program bodies); a compile error runs
//! nothing. Then the top-level forms run in order. Each `with-bpf-session` loads its object
//! when reached, binds its maps and programs to their names, runs its body and closes
//! everything on the way out, whether the body returns, fails or is interrupted (Ctrl-C
//! signals an `interrupt` condition that `handler-case` can catch).
//!
//! Lisp functions for session code: `bpf:attach`, `bpf:map-ref`, `bpf-session-map`,
//! `bpf-session-prog`, `*bpf-session*`; `map-lookup`, `map-update`, `map-delete`,
//! `map-get-next-key` (octet vectors or integers as keys), their `-int` variants (integers),
//! `map-lookup-struct[-int]`, `map-update-struct[-int]`, `map-delete-struct`,
//! `map-get-next-key-struct`, `map-keys`, `encode-int-key`, `decode-int-value`,
//! `+bpf-any+`/`+bpf-noexist+`/`+bpf-exist+`; `open-ring-consumer`,
//! `open-decoding-ring-consumer`, `with-decoding-ring-consumer`, `with-ring-consumer`,
//! `ring-poll` (`:timeout-ms`), `ring-consume`, `close-ring-consumer`; per `whistler:defstruct`
//! NAME: `make-NAME-record`, `NAME-record-FIELD`, `decode-NAME`, `encode-NAME`;
//! `bpf-session-maps`/`bpf-session-progs`; the object-level API of `objects.rs`
//! (`compile-to-elf`, `with-bpf-object`, `attach-*`, `detach`...); and `*args*`,
//! `sb-ext:*posix-argv*`, `(uiop:command-line-arguments)`, `(uiop:getenv NAME)`.

mod api;
mod bytes;
mod objects;
pub mod os_host;
mod plan;
mod records;
mod ring;
mod sbcl;
mod session;

use session::{CompiledSession, Runtime};
use std::cell::RefCell;
use std::io::Write;
use std::path::Path;
use std::rc::Rc;
use whistler_bpf::AttachType;
use whistler_compiler::file_forms::{self, FormRole};
use whistler_lisp::{ErrorKind, EvalError, Interp, Limits, Value};
use whistler_loader::LoadOptions;
use whistler_syntax::{Diagnostic, ReadOptions, Sexp, SourceFile};

/// What the run came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every form ran.
    Completed,
    /// The file did not read or compile; nothing ran.
    CompileFailed,
    /// User code signalled an error nothing handled (everything was closed).
    Failed,
    /// Ctrl-C, not handled by the code (everything was closed).
    Interrupted,
    /// `sb-ext:exit` with this code (everything was closed).
    Exited(i32),
}

impl Outcome {
    /// The process exit code: 0, 1, 1, 130.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Completed => 0,
            Outcome::CompileFailed | Outcome::Failed => 1,
            Outcome::Interrupted => 130,
            Outcome::Exited(code) => code,
        }
    }
}

/// What the session file sees of the command line, and the kernel BTF it is built and loaded for.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The arguments after the file: `*args*` and `(uiop:command-line-arguments)`.
    pub args: Vec<String>,
    /// Kernel BTF to compile against and to relocate for, instead of
    /// `/sys/kernel/btf/vmlinux` (`$WHISTLER_BTF` also sets the first).
    pub kernel_btf: Option<std::path::PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// True when `file` is a session file to run with [`run_file`] (a `with-bpf-session`, or any
/// top-level user code), false for a plain file of definitions (compile and run as an object).
pub fn needs_runner(file: &SourceFile) -> bool {
    let read = whistler_syntax::read_with(file, ReadOptions { host_code: true });
    plan::needs_runner(&expand_definitions(&read.forms, &mut new_interp(None)))
}

/// The evaluator with the standard macro library, `deftracepoint` and `import-kernel-struct`
/// reading the live tracefs and kernel BTF, and files readable at compile time.
fn new_interp(kernel_btf: Option<&Path>) -> Interp {
    let mut interp = whistler_kernel_host::macro_host_with_btf(kernel_btf);
    interp.set_host(Box::new(os_host::OsHost::read_only()));
    interp
}

/// The forms with top-level macro calls that define things expanded (session forms stay).
fn expand_definitions(forms: &[Sexp], interp: &mut Interp) -> Vec<Sexp> {
    file_forms::expand_definitions(forms, interp, plan::is_session_form)
}

/// Runs the session file at `path` with [`run_source`], writing its output to stdout and
/// diagnostics to stderr.
pub fn run_file(path: &Path, options: &RunOptions) -> Result<Outcome, RunError> {
    let text = std::fs::read_to_string(path).map_err(|source| RunError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let file = SourceFile::new(path.display().to_string(), text);
    let outcome = run_source(
        &file,
        options,
        Box::new(std::io::stdout()),
        &mut std::io::stderr(),
    );
    let _ = std::io::stdout().flush();
    Ok(outcome)
}

/// Runs a session file's text: Lisp output goes to `out`, diagnostics to `err`; while it runs,
/// Ctrl-C (or SIGTERM) raises the `interrupt` condition.
pub fn run_source(
    file: &SourceFile,
    options: &RunOptions,
    out: Box<dyn Write>,
    err: &mut dyn Write,
) -> Outcome {
    let read = whistler_syntax::read_with(file, ReadOptions { host_code: true });
    if !read.diagnostics.is_empty() {
        report(file, &read.diagnostics, err);
        return Outcome::CompileFailed;
    }
    let mut interp = new_interp(options.kernel_btf.as_deref());
    interp.set_host(Box::new(os_host::OsHost::full()));
    interp.set_output(out);
    let _ctrl_c = match whistler_session::raise_on_ctrl_c(interp.interrupt_flag()) {
        Ok(guard) => guard,
        Err(e) => {
            let _ = writeln!(err, "cannot install the Ctrl-C handler: {e}");
            return Outcome::Failed;
        }
    };
    let rt = Rc::new(RefCell::new(Runtime::loading_with(LoadOptions {
        kernel_btf: options.kernel_btf.clone(),
        ..LoadOptions::default()
    })));
    if let Err(e) = install(&mut interp, &rt, options) {
        report(file, &e.to_diagnostics(), err);
        return Outcome::Failed;
    }
    let forms = expand_definitions(&read.forms, &mut interp);
    let outcome = match prepare(file, &forms, &mut interp, &rt) {
        Ok(kinds) => run_forms(file, &forms, &kinds, &mut interp, err),
        Err(diags) => {
            report(file, &diags, err);
            Outcome::CompileFailed
        }
    };
    rt.borrow_mut().close_all();
    outcome
}

fn report(file: &SourceFile, diags: &[Diagnostic], err: &mut dyn Write) {
    for d in diags {
        let _ = writeln!(err, "{}", whistler_syntax::render(file, d));
    }
}

/// Macros written in Lisp that session files use (the `+bpf-...+` constants come from
/// `whistler-bpf`).
const PRELUDE: &str = r#"
(defvar *bpf-session* nil)
(defmacro with-decoding-ring-consumer ((var map decoder callback) &body body)
  `(let ((,var (open-decoding-ring-consumer ,map ,decoder ,callback)))
     (unwind-protect (progn ,@body) (close-ring-consumer ,var))))
(defmacro with-ring-consumer ((var map callback) &body body)
  `(let ((,var (open-ring-consumer ,map ,callback)))
     (unwind-protect (progn ,@body) (close-ring-consumer ,var))))
(defmacro with-bpf-object ((var path) &body body)
  `(let ((,var (open-bpf-object ,path)))
     (unwind-protect (progn (load-bpf-object ,var) ,@body) (close-bpf-object ,var))))
"#;

fn install(
    interp: &mut Interp,
    rt: &Rc<RefCell<Runtime>>,
    options: &RunOptions,
) -> Result<(), EvalError> {
    api::install(interp, rt);
    sbcl::install(interp);
    let attach_types = AttachType::ALL.iter().map(|t| (t.kernel_name(), *t as i64));
    whistler_compiler::lisp_host::define_kernel_constants(interp, attach_types);
    interp.define_host_macro("with-bpf-session", Box::new(expand_session));
    let prelude = SourceFile::new("<runner prelude>", PRELUDE);
    for form in whistler_syntax::read(&prelude).forms {
        interp.eval_library_form(&form)?;
    }
    let args: Vec<Value> = options
        .args
        .iter()
        .map(|a| Value::string(a.as_str()))
        .collect();
    let list = Value::list(args);
    define_parameter(interp, "*args*", list.clone())?;
    // SBCL's argv (program name first), which scripts read as `(second sb-ext:*posix-argv*)`.
    let argv = Value::list_with_tail([Value::string("whistler")], list.clone());
    define_parameter(interp, "sb-ext:*posix-argv*", argv)?;
    interp.define_builtin(
        "uiop:command-line-arguments",
        Box::new(move |_, _, _| Ok(list.clone())),
    );
    interp.define_builtin(
        "uiop:getenv",
        Box::new(|_, args, _| {
            let name = args.first().and_then(Value::as_str).unwrap_or_default();
            Ok(std::env::var(name.as_str()).map_or(Value::Nil, |v| Value::string(v.as_str())))
        }),
    );
    Ok(())
}

/// `(defparameter NAME 'VALUE)`.
fn define_parameter(interp: &mut Interp, name: &str, value: Value) -> Result<(), EvalError> {
    let form = Value::list([
        Value::sym(&interp.symbol("defparameter")),
        Value::sym(&interp.symbol(name)),
        Value::list([Value::sym(&interp.symbol("quote")), value]),
    ]);
    interp.eval_value(&form).map(drop)
}

/// `(with-bpf-session OPTIONS BODY...)` → open the compiled session, bind its maps and
/// programs to their names, run the rest of BODY, close the session in any case.
fn expand_session(
    interp: &mut Interp,
    args: &[Value],
    span: whistler_syntax::Span,
) -> Result<Value, EvalError> {
    let form = args.first().cloned().unwrap_or(Value::Nil);
    let start = form.span().start as usize;
    if form.span() == whistler_lisp::NO_SPAN {
        return Err(records::error(
            "with-bpf-session must be written in the file, not built by a macro",
            span,
        ));
    }
    let sym = |interp: &mut Interp, name: &str| Value::sym(&interp.symbol(name));
    let quote = sym(interp, "quote");
    let session_var = sym(interp, &format!("%bpf-session-{start}"));
    let mut bindings = vec![Value::list([
        sym(interp, "*bpf-session*"),
        session_var.clone(),
    ])];
    let mut body = Vec::new();
    for item in form.cdr().cdr().iter() {
        let head = item.car();
        let bpf = head
            .as_sym()
            .filter(|s| s.package.as_deref() == Some("bpf"));
        let getter = match bpf.map(|s| s.name.as_str()) {
            Some("map") => "bpf-session-map",
            Some("prog") => "bpf-session-prog",
            _ => {
                body.push(item);
                continue;
            }
        };
        let name = item.cdr().car();
        let fetch = Value::list([
            sym(interp, getter),
            Value::list([quote.clone(), name.clone()]),
        ]);
        bindings.push(Value::list([name, fetch]));
    }
    let inner = Value::list_with_tail(
        [sym(interp, "let"), Value::list(bindings)],
        Value::list(body),
    );
    let open = Value::list([sym(interp, "%bpf-session-open"), Value::int(start as i64)]);
    let close = Value::list([sym(interp, "%bpf-session-close"), session_var.clone()]);
    Ok(Value::list([
        sym(interp, "let"),
        Value::list([Value::list([session_var, open])]),
        Value::list([sym(interp, "unwind-protect"), inner, close]),
    ]))
}

/// Classifies the forms and compiles the BPF side of every session; defines the record
/// codecs. Returns each top-level form's kind.
fn prepare(
    file: &SourceFile,
    forms: &[Sexp],
    interp: &mut Interp,
    rt: &Rc<RefCell<Runtime>>,
) -> Result<Vec<FormRole>, Vec<Diagnostic>> {
    let kinds = file_forms::roles(forms);
    let shared: Vec<Sexp> = forms
        .iter()
        .zip(&kinds)
        .filter(|(_, k)| matches!(k, FormRole::Bpf | FormRole::Shared))
        .map(|(f, _)| f.clone())
        .collect();
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut structs = Vec::new();
    let sessions = plan::sessions(forms);
    let mut units: Vec<(Option<&plan::SessionForm>, Vec<Sexp>)> = sessions
        .iter()
        .map(|s| {
            let mut unit = shared.clone();
            unit.extend(s.maps.iter().cloned());
            unit.extend(s.progs.iter().cloned());
            (Some(s), unit)
        })
        .collect();
    if (units.is_empty() && kinds.contains(&FormRole::Bpf)) || plan::defines_programs(forms) {
        units.push((None, shared.clone()));
    }
    for (session, unit) in units {
        let options = whistler_compiler::Options::default();
        match whistler_compiler::compile_with(file, &unit, options, interp) {
            Ok(compiled) => {
                if let Some(s) = session {
                    let entry = CompiledSession {
                        maps: s.declared(&compiled.maps, |m| (&m.lisp_name, &m.symbol, m.span)),
                        progs: s
                            .declared(&compiled.programs, |p| (&p.lisp_name, &p.symbol, p.span)),
                        elf: compiled.elf,
                    };
                    rt.borrow_mut().compiled.insert(s.start, entry);
                } else {
                    rt.borrow_mut().toplevel_elf = Some(compiled.elf);
                }
                structs = compiled.structs;
            }
            Err(errors) => {
                for d in errors {
                    if !diags
                        .iter()
                        .any(|e| e.span == d.span && e.message == d.message)
                    {
                        diags.push(d);
                    }
                }
            }
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let layouts = Rc::new(records::Layouts::new(&structs));
    records::define_all(interp, &layouts).map_err(|e| e.to_diagnostics())?;
    Ok(kinds)
}

/// Runs the Shared and User forms in order; stops at the first unhandled error.
fn run_forms(
    file: &SourceFile,
    forms: &[Sexp],
    kinds: &[FormRole],
    interp: &mut Interp,
    err: &mut dyn Write,
) -> Outcome {
    interp.set_limits(Limits {
        max_steps: u64::MAX,
        ..Limits::default()
    });
    for (form, kind) in forms.iter().zip(kinds) {
        if matches!(kind, FormRole::Setup | FormRole::Bpf) {
            continue;
        }
        if let Err(mut e) = interp.eval_toplevel(form) {
            // The session form is the frame of all user code: naming it says nothing.
            e.expansions.retain(|f| f.name != "with-bpf-session");
            let _ = std::io::stdout().flush();
            if e.kind == ErrorKind::Interrupted {
                let _ = writeln!(err, "interrupted");
                return Outcome::Interrupted;
            }
            if e.condition() == sbcl::EXIT_CONDITION {
                return Outcome::Exited(e.message().parse().unwrap_or(1));
            }
            report(file, &e.to_diagnostics(), err);
            return Outcome::Failed;
        }
    }
    Outcome::Completed
}
