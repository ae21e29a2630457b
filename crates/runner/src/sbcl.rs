//! The SBCL extensions session scripts use: `sb-ext:run-program` with its process accessors,
//! `sb-ext:posix-getenv`, `sb-posix:getenv`, and `sb-ext:exit`/`sb-ext:quit` (which unwind,
//! so every session closes, before the runner exits with the code).

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use whistler_lisp::{keyword_arg, EvalError, InputStream, Interp, Value};
use whistler_syntax::Span;

/// The condition `sb-ext:exit` signals; the runner turns it into the process's exit code.
pub const EXIT_CONDITION: &str = "%exit";

/// A program started by `run-program`.
struct Process {
    child: RefCell<Option<Child>>,
    pid: u32,
    /// The exit code once it ended, or the signal number when a signal ended it.
    exit_code: RefCell<Option<i32>>,
    /// A signal ended it (`process-status` is `:signaled`).
    signaled: Cell<bool>,
    /// Where captured output goes once the program ends: `(stream-value, is-error)`.
    copy_to: Vec<(Value, bool)>,
    output: RefCell<Option<Value>>,
    error: RefCell<Option<Value>>,
}

pub fn install(interp: &mut Interp) {
    interp.define_builtin("sb-ext:run-program", Box::new(run_program));
    for name in ["sb-ext:posix-getenv", "sb-posix:getenv"] {
        interp.define_builtin(
            name,
            Box::new(|_, args, _| {
                let name = args.first().and_then(Value::as_str).unwrap_or_default();
                Ok(std::env::var(name.as_str()).map_or(Value::Nil, |v| Value::string(v.as_str())))
            }),
        );
    }
    for name in ["sb-ext:exit", "sb-ext:quit"] {
        interp.define_builtin(
            name,
            Box::new(|_, args, span| {
                let code = keyword_arg(args, "code")
                    .or_else(|| keyword_arg(args, "unix-status"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                Err(EvalError::new(EXIT_CONDITION, code.to_string(), span))
            }),
        );
    }
    interp.define_builtin(
        "sb-ext:process-wait",
        Box::new(|interp, args, span| {
            let p = process(args, span)?;
            wait(interp, &p, span)?;
            Ok(args[0].clone())
        }),
    );
    interp.define_builtin(
        "sb-ext:process-exit-code",
        Box::new(|interp, args, span| {
            let p = process(args, span)?;
            poll(interp, &p, span)?;
            let code = *p.exit_code.borrow();
            Ok(code.map_or(Value::Nil, |c| Value::int(i64::from(c))))
        }),
    );
    interp.define_builtin(
        "sb-ext:process-alive-p",
        Box::new(|interp, args, span| {
            let p = process(args, span)?;
            poll(interp, &p, span)?;
            let alive = p.exit_code.borrow().is_none();
            Ok(Value::bool(alive, &interp.symbol("t")))
        }),
    );
    interp.define_builtin(
        "sb-ext:process-status",
        Box::new(|interp, args, span| {
            let p = process(args, span)?;
            poll(interp, &p, span)?;
            let status = match (p.exit_code.borrow().is_some(), p.signaled.get()) {
                (false, _) => "running",
                (true, false) => "exited",
                (true, true) => "signaled",
            };
            Ok(Value::sym(&interp.symbol(&format!(":{status}"))))
        }),
    );
    interp.define_builtin(
        "sb-ext:process-pid",
        Box::new(|_, args, span| Ok(Value::int(i64::from(process(args, span)?.pid)))),
    );
    interp.define_builtin(
        "sb-ext:process-output",
        Box::new(|interp, args, span| {
            let p = process(args, span)?;
            wait(interp, &p, span)?;
            let output = p.output.borrow().clone();
            Ok(output.unwrap_or(Value::Nil))
        }),
    );
    interp.define_builtin(
        "sb-ext:process-error",
        Box::new(|interp, args, span| {
            let p = process(args, span)?;
            wait(interp, &p, span)?;
            let error = p.error.borrow().clone();
            Ok(error.unwrap_or(Value::Nil))
        }),
    );
    interp.define_builtin(
        "sb-ext:process-kill",
        Box::new(|interp, args, span| {
            // (process-kill process signal): true when the signal was sent.
            let p = process(args, span)?;
            let number = args.get(1).and_then(Value::as_i64).unwrap_or(15);
            let signal = i32::try_from(number)
                .ok()
                .and_then(rustix::process::Signal::from_named_raw)
                .ok_or_else(|| {
                    EvalError::new(
                        "type-error",
                        format!("process-kill: {number} is not a signal number"),
                        span,
                    )
                })?;
            let running = p.child.borrow().is_some();
            let sent = running
                && rustix::process::Pid::from_raw(p.pid as i32)
                    .is_some_and(|pid| rustix::process::kill_process(pid, signal).is_ok());
            Ok(Value::bool(sent, &interp.symbol("t")))
        }),
    );
    interp.define_builtin("sb-ext:process-close", Box::new(|_, _, _| Ok(Value::Nil)));
}

fn process(args: &[Value], span: Span) -> Result<Rc<Process>, EvalError> {
    args.first()
        .and_then(|v| v.downcast::<Process>())
        .ok_or_else(|| EvalError::new("type-error", "not a process made by run-program", span))
}

/// What to do with one of the program's output streams.
enum Destination {
    Discard,
    Inherit,
    /// Capture; then copy into this Lisp stream (or keep as `process-output` for `:stream`).
    Capture(Option<Value>),
    File(String),
}

fn destination(interp: &Interp, value: Option<&Value>) -> Destination {
    match value {
        None | Some(Value::Nil) => Destination::Discard,
        Some(Value::Str(path, _)) => Destination::File(path.to_string()),
        Some(Value::Sym(s, _)) if s.name == "t" => Destination::Inherit,
        Some(Value::Sym(s, _)) if s.is_keyword() => Destination::Capture(None),
        Some(stream) => {
            let _ = interp;
            Destination::Capture(Some(stream.clone()))
        }
    }
}

fn stdio(d: &Destination, span: Span) -> Result<Stdio, EvalError> {
    Ok(match d {
        Destination::Discard => Stdio::null(),
        Destination::Inherit => Stdio::inherit(),
        Destination::Capture(_) => Stdio::piped(),
        Destination::File(path) => Stdio::from(
            std::fs::File::create(path)
                .map_err(|e| EvalError::new("file-error", format!("{path}: {e}"), span))?,
        ),
    })
}

/// `(run-program program args &key search output error input wait environment directory)`.
fn run_program(interp: &mut Interp, args: &[Value], span: Span) -> Result<Value, EvalError> {
    let program = args.first().and_then(Value::as_str).ok_or_else(|| {
        EvalError::new(
            "type-error",
            "run-program: the program must be a string",
            span,
        )
    })?;
    let arguments: Vec<String> = args
        .get(1)
        .map(|list| list.iter().map(|a| whistler_lisp::princ(&a)).collect())
        .unwrap_or_default();
    let options = args.get(2..).unwrap_or_default();
    let mut command = Command::new(program.as_str());
    command.args(&arguments);
    let output = destination(interp, keyword_arg(options, "output"));
    let error_to_output = keyword_arg(options, "error")
        .and_then(Value::as_sym)
        .is_some_and(|s| s.name == "output");
    let error = destination(interp, keyword_arg(options, "error"));
    command.stdout(stdio(&output, span)?);
    command.stderr(if error_to_output {
        stdio(&output, span)?
    } else {
        stdio(&error, span)?
    });
    command.stdin(match keyword_arg(options, "input") {
        Some(Value::Sym(s, _)) if s.name == "t" => Stdio::inherit(),
        Some(Value::Str(path, _)) => Stdio::from(
            std::fs::File::open(path.text().as_str())
                .map_err(|e| EvalError::new("file-error", format!("{path}: {e}"), span))?,
        ),
        _ => Stdio::null(),
    });
    if let Some(dir) = keyword_arg(options, "directory").and_then(Value::as_str) {
        command.current_dir(dir.as_str());
    }
    if let Some(environment) = keyword_arg(options, "environment") {
        command.env_clear();
        for entry in environment.iter() {
            let entry = whistler_lisp::princ(&entry);
            if let Some((k, v)) = entry.split_once('=') {
                command.env(k, v);
            }
        }
    }
    let child = command.spawn().map_err(|e| {
        EvalError::new(
            "simple-error",
            format!("run-program: cannot run {program}: {e}"),
            span,
        )
    })?;
    let mut copy_to = Vec::new();
    for (d, is_error) in [(&output, false), (&error, true)] {
        if let Destination::Capture(Some(stream)) = d {
            copy_to.push((stream.clone(), is_error));
        }
    }
    let p = Rc::new(Process {
        pid: child.id(),
        child: RefCell::new(Some(child)),
        exit_code: RefCell::new(None),
        signaled: Cell::new(false),
        copy_to,
        output: RefCell::new(None),
        error: RefCell::new(None),
    });
    let wait_for_it = keyword_arg(options, "wait").is_none_or(Value::truthy);
    if wait_for_it {
        wait(interp, &p, span)?;
    }
    Ok(Value::Foreign(p))
}

/// Records the exit code if the program has ended (collecting its output).
fn poll(interp: &mut Interp, p: &Rc<Process>, span: Span) -> Result<(), EvalError> {
    let done = match p.child.borrow_mut().as_mut() {
        Some(child) => child.try_wait().ok().flatten().is_some(),
        None => false,
    };
    if done {
        wait(interp, p, span)?;
    }
    Ok(())
}

/// Waits for the program (checking for Ctrl-C), then hands captured output to its streams.
fn wait(interp: &mut Interp, p: &Rc<Process>, span: Span) -> Result<(), EvalError> {
    let Some(mut child) = p.child.borrow_mut().take() else {
        return Ok(());
    };
    let read_all = |pipe: Option<&mut dyn Read>| {
        let mut text = String::new();
        if let Some(pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    };
    // Read both pipes to the end (stderr on its own thread, so neither can fill and block).
    let stderr = child.stderr.take();
    let error_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = stderr {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    });
    let out_text = read_all(child.stdout.as_mut().map(|p| p as &mut dyn Read));
    let err_text = error_reader.join().unwrap_or_default();
    let status = child
        .wait()
        .map_err(|e| EvalError::new("simple-error", format!("run-program: {e}"), span))?;
    p.signaled.set(status.code().is_none());
    *p.exit_code.borrow_mut() = Some(status.code().unwrap_or_else(|| signal_number(&status)));
    *p.output.borrow_mut() = Some(Value::Foreign(InputStream::from_text(&out_text)));
    *p.error.borrow_mut() = Some(Value::Foreign(InputStream::from_text(&err_text)));
    for (stream, is_error) in &p.copy_to {
        let text = if *is_error { &err_text } else { &out_text };
        interp.write_to_stream(stream, text)?;
    }
    Ok(())
}

fn signal_number(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().unwrap_or(0)
}
