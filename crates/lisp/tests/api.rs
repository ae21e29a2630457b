//! The Rust API the compiler and the session runner use: macro expansion with spans, host
//! builtins, foreign values, interrupts from another thread, limits, and load speed.

use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use whistler_lisp::{ErrorKind, Interp, Limits, Value};
use whistler_syntax::{read_str, Sexp, Span};

fn forms(text: &str) -> Vec<Sexp> {
    let r = read_str(text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    r.forms
}

fn load(interp: &mut Interp, text: &str) {
    for f in forms(text) {
        interp.eval_toplevel(&f).unwrap_or_else(|e| panic!("{e:?}"));
    }
}

fn slice(text: &str, span: Span) -> &str {
    &text[span.start as usize..span.end as usize]
}

#[test]
fn expansion_keeps_argument_spans_and_gives_new_parts_the_call_span() {
    let mut interp = Interp::new();
    load(
        &mut interp,
        "(defmacro guard (test &body body) `(if ,test (progn ,@body) 0))",
    );
    let text = "(guard (> len 14) (parse pkt) 1)";
    let call = &forms(text)[0];
    assert!(interp.is_macro(call.as_list().unwrap()[0].as_symbol().unwrap()));
    let expanded = interp.macroexpand_1(call).unwrap().expect("a macro form");
    assert_eq!(
        expanded.to_string(),
        "(if (> len 14) (progn (parse pkt) 1) 0)"
    );
    assert_eq!(expanded.span, call.span);
    let items = expanded.as_list().unwrap();
    assert_eq!(items[0].span, call.span, "`if` was built by the macro");
    assert_eq!(slice(text, items[1].span), "(> len 14)");
    let progn = items[2].as_list().unwrap();
    assert_eq!(progn[0].span, call.span);
    assert_eq!(slice(text, progn[1].span), "(parse pkt)");
    assert_eq!(slice(text, progn[1].as_list().unwrap()[1].span), "pkt");
    assert_eq!(slice(text, progn[2].span), "1");
    assert_eq!(items[3].span, call.span);
}

#[test]
fn non_macro_forms_are_not_expanded() {
    let mut interp = Interp::new();
    assert_eq!(
        interp.macroexpand_1(&forms("(getmap m 0)")[0]).unwrap(),
        None
    );
    assert_eq!(interp.macroexpand_1(&forms("xdp_pass")[0]).unwrap(), None);
    assert_eq!(interp.macroexpand_1(&forms("(when a b)")[0]).unwrap(), None);
}

#[test]
fn expansion_errors_carry_the_macro_stack() {
    let mut interp = Interp::new();
    load(
        &mut interp,
        "(defmacro inner (x) (if (integerp x) x (error \"inner: ~s is not an integer\" x)))
         (defmacro outer (x) `(inner ,x))",
    );
    let text = "(outer foo)";
    let call = &forms(text)[0];
    let once = interp.macroexpand_1(call).unwrap().unwrap();
    assert_eq!(once.to_string(), "(inner foo)");
    let err = interp.macroexpand_1(&once).unwrap_err();
    assert_eq!(err.message(), "inner: FOO is not an integer");
    assert_eq!(err.span, call.span);
    let diagnostics = err.to_diagnostics();
    assert_eq!(diagnostics.len(), 2);
    assert!(diagnostics[1].message.contains("inner"));
}

#[test]
fn expansions_that_cannot_be_source_are_errors() {
    let mut interp = Interp::new();
    load(&mut interp, "(defmacro gives-function () #'car) (defmacro circular () (let ((l (list 1))) (setf (cdr l) l) l))");
    for text in ["(gives-function)", "(circular)"] {
        let err = interp.macroexpand_1(&forms(text)[0]).unwrap_err();
        assert!(
            err.message().contains("cannot be compiled"),
            "{}",
            err.message()
        );
    }
}

#[test]
fn host_builtins_and_foreign_values() {
    struct Handle(u32);
    let mut interp = Interp::new();
    interp.define_builtin(
        "bpf:make-handle",
        Box::new(|_, args, _| Ok(Value::foreign(Handle(args[0].as_i64().unwrap_or(0) as u32)))),
    );
    interp.define_builtin(
        "bpf:handle-id",
        Box::new(|_, args, span| match args[0].downcast::<Handle>() {
            Some(h) => Ok(Value::int(h.0 as i64)),
            None => Err(whistler_lisp::EvalError::new(
                "type-error",
                "not a handle",
                span,
            )),
        }),
    );
    let v = interp
        .eval_toplevel(&forms("(bpf:handle-id (bpf:make-handle 7))")[0])
        .unwrap();
    assert_eq!(v.as_i64(), Some(7));
    let err = interp
        .eval_toplevel(&forms("(bpf:handle-id 3)")[0])
        .unwrap_err();
    assert_eq!(err.message(), "not a handle");
    assert_eq!(err.span, forms("(bpf:handle-id 3)")[0].span);
    let caught = interp
        .eval_toplevel(&forms("(handler-case (bpf:handle-id 3) (type-error () 'caught))")[0])
        .unwrap();
    assert_eq!(whistler_lisp::prin1(&caught), "CAUGHT");
}

#[test]
fn host_can_call_lisp_functions() {
    let mut interp = Interp::new();
    load(&mut interp, "(defun on-event (x) (* x 2))");
    let f = interp.eval_toplevel(&forms("#'on-event")[0]).unwrap();
    let r = interp.call(&f, &[Value::int(21)]).unwrap();
    assert_eq!(r.as_i64(), Some(42));
}

#[test]
fn interrupt_from_another_thread_is_catchable() {
    let mut interp = Interp::new();
    let flag = interp.interrupt_flag();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        flag.store(true, Ordering::Relaxed);
    });
    let text = "(handler-case (loop (sleep 1)) (sb-sys:interactive-interrupt () :stopped))";
    let started = Instant::now();
    let v = interp.eval_toplevel(&forms(text)[0]).unwrap();
    setter.join().unwrap();
    assert_eq!(whistler_lisp::prin1(&v), ":STOPPED");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn uncaught_interrupt_is_its_own_error_kind() {
    let mut interp = Interp::new();
    interp.interrupt_flag().store(true, Ordering::Relaxed);
    let err = interp.eval_toplevel(&forms("(loop)")[0]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Interrupted);
}

#[test]
fn default_depth_limit_does_not_overflow_a_small_stack() {
    // Test threads have 2 MiB stacks; the evaluator must grow its own.
    let mut interp = Interp::new();
    load(
        &mut interp,
        "(defun down (n) (if (= n 0) 0 (+ 1 (down (- n 1)))))",
    );
    let v = interp.eval_toplevel(&forms("(down 1900)")[0]).unwrap();
    assert_eq!(v.as_i64(), Some(1900));
    let err = interp
        .eval_toplevel(&forms("(down 100000)")[0])
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::DepthLimit(2000));
}

#[test]
fn deeply_nested_generated_code_is_an_error_not_a_crash() {
    let mut interp = Interp::new();
    load(
        &mut interp,
        "(defun nest (n) (let ((f 0)) (dotimes (i n) (setf f (list '+ 1 f))) f))",
    );
    let err = interp
        .eval_toplevel(&forms("(eval (nest 100000))")[0])
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::DepthLimit(_)), "{err:?}");
    let ok = interp
        .eval_toplevel(&forms("(eval (nest 5000))")[0])
        .unwrap();
    assert_eq!(ok.as_i64(), Some(5000));
}

#[test]
fn step_limit_is_configurable() {
    let mut interp = Interp::new();
    interp.set_limits(Limits {
        max_steps: 1000,
        max_depth: 50,
    });
    let err = interp.eval_toplevel(&forms("(loop)")[0]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::StepLimit(1000));
}

#[test]
fn long_lists_drop_without_recursion() {
    let mut interp = Interp::new();
    let v = interp
        .eval_toplevel(&forms("(let ((l nil)) (dotimes (i 300000) (push i l)) l)")[0])
        .unwrap();
    drop(v);
    let deep = interp
        .eval_toplevel(&forms("(let ((l nil)) (dotimes (i 300000) (setf l (list l))) l)")[0])
        .unwrap();
    drop(deep);
}

#[test]
fn output_is_captured() {
    #[derive(Clone, Default)]
    struct Sink(Rc<std::cell::RefCell<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let mut interp = Interp::new();
    interp.set_output(Box::new(sink.clone()));
    interp
        .eval_toplevel(&forms("(format t \"packets: ~d~%\" 42)")[0])
        .unwrap();
    assert_eq!(
        String::from_utf8(sink.0.borrow().clone()).unwrap(),
        "packets: 42\n"
    );
}

/// A macro library of a few hundred lines loads and expands (its load time is measured by
/// `cargo bench -p whistler --bench expansion`).
#[test]
fn macro_library_of_hundreds_of_forms_loads() {
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!(
            "(defmacro with-field-{i} ((var buf &key (offset {i}) (size 4)) &body body)
               (let ((g (gensym)))
                 `(let* ((,g (+ ,buf ,offset)) (,var (load ,size ,g))) ,@body)))
             (defconstant +field-{i}-offset+ (* {i} 4))
             (defun field-{i}-name () (format nil \"field-~d\" {i}))\n"
        ));
    }
    let all = forms(&text);
    assert!(all.len() >= 300);
    let mut interp = Interp::new();
    for f in &all {
        interp.eval_toplevel(f).unwrap();
    }
    let call = &forms("(with-field-7 (x pkt :size 2) (use x))")[0];
    let expanded = interp.macroexpand_1(call).unwrap().unwrap();
    assert!(
        expanded.to_string().starts_with("(let* ((|#:g"),
        "{expanded}"
    );
}

#[test]
fn host_macros_expand_for_the_compiler_and_the_evaluator() {
    let mut interp = Interp::new();
    interp.define_host_macro(
        "bpf:twice",
        Box::new(|interp, args, _| {
            let form = &args[0];
            let arg = form.cdr().car();
            let plus = interp.eval_toplevel(&forms("'+")[0])?;
            Ok(Value::list([plus, arg.clone(), arg]))
        }),
    );
    let text = "(bpf:twice (f x))";
    let call = &forms(text)[0];
    assert!(interp.is_macro(call.as_list().unwrap()[0].as_symbol().unwrap()));
    let expanded = interp.macroexpand_1(call).unwrap().unwrap();
    assert_eq!(expanded.to_string(), "(+ (f x) (f x))");
    assert_eq!(slice(text, expanded.as_list().unwrap()[1].span), "(f x)");
    assert_eq!(
        interp
            .eval_toplevel(&forms("(bpf:twice 21)")[0])
            .unwrap()
            .as_i64(),
        Some(42)
    );
}

#[test]
fn host_functions_can_replace_standard_macros() {
    let mut interp = Interp::new();
    interp.define_builtin(
        "whistler:defstruct",
        Box::new(|_, args, _| Ok(Value::int(args.len() as i64))),
    );
    let v = interp
        .eval_toplevel(&forms("(defstruct 1 2 3)")[0])
        .unwrap();
    assert_eq!(v.as_i64(), Some(3));
}

#[test]
fn library_macros_place_everything_at_the_call_site() {
    let library =
        "(defmacro lib-check (x) (if (symbolp x) `(quote ,x) (error \"lib-check wants a symbol\")))
                   (defmacro lib-wrap (x) `(progn (lib-marker) ,x))";
    let mut interp = Interp::new();
    for f in forms(library) {
        interp.eval_library_form(&f).unwrap();
    }
    // The user's text is short, so the library's offsets would fall inside it if kept.
    let text = "(lib-wrap (g y))";
    let call = &forms(text)[0];
    let expanded = interp.macroexpand_1(call).unwrap().unwrap();
    let items = expanded.as_list().unwrap();
    assert_eq!(items[0].span, call.span);
    assert_eq!(items[1].span, call.span);
    assert_eq!(slice(text, items[2].span), "(g y)");
    let err = interp
        .macroexpand_1(&forms("(lib-check 5)")[0])
        .unwrap_err();
    assert_eq!(err.span, forms("(lib-check 5)")[0].span);
}

#[test]
fn closures_over_deep_environments_drop_without_recursion() {
    // Everything runs on a small stack: evaluation grows its own, and dropping the closure must
    // release 20,000 nested environments without recursing.
    let worker = std::thread::Builder::new().stack_size(256 * 1024).spawn(|| {
        let mut interp = Interp::new();
        load(
            &mut interp,
            "(defun nest-lets (n) (let ((f '(lambda () 1))) (dotimes (i n) (setf f (list 'let (list (list 'x i)) f))) f))",
        );
        let closure = interp.eval_toplevel(&forms("(eval (nest-lets 20000))")[0]).unwrap();
        let one = interp.call(&closure, &[]).unwrap().as_i64();
        drop(interp);
        drop(closure);
        one
    });
    assert_eq!(worker.unwrap().join().unwrap(), Some(1));
}

/// The prelude's `defun`s and `defmacro`s are evaluated on first use; each of them evaluates.
#[test]
fn every_deferred_prelude_definition_evaluates() {
    let mut interp = Interp::new();
    assert!(interp.is_macro(&whistler_syntax::Symbol::new("handler-bind")));
    let errors: Vec<String> = interp
        .define_all_deferred()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    assert!(interp.is_macro(&whistler_syntax::Symbol::new("handler-bind")));
}

/// A definition replaces a deferred library definition of the same name before its first use,
/// and after `fmakunbound` the library's version does not come back.
#[test]
fn definitions_replace_deferred_library_definitions() {
    let mut interp = Interp::new();
    let library = "(defun lib-twice (x) (* 2 x)) (defmacro lib-m (x) `(list ,x))";
    let errors = interp.load_library("lib.lisp", library, Default::default());
    assert!(errors.is_empty(), "{errors:?}");
    let value = |interp: &mut Interp, text: &str| {
        let form = &forms(text)[0];
        whistler_lisp::prin1(&interp.eval_toplevel(form).unwrap())
    };
    assert_eq!(value(&mut interp, "(fboundp 'lib-twice)"), "T");
    assert_eq!(value(&mut interp, "(lib-m 1)"), "(1)");
    load(&mut interp, "(defun lib-twice (x) (+ x x x))");
    assert_eq!(value(&mut interp, "(funcall 'lib-twice 4)"), "12");
    load(&mut interp, "(fmakunbound 'lib-twice)");
    assert_eq!(value(&mut interp, "(fboundp 'lib-twice)"), "NIL");
    assert_eq!(value(&mut interp, "(fboundp 'lib-m)"), "T");
}

/// A library's variables whose values need no evaluation are made on the symbol's first use,
/// with what evaluating them at load would have left: `defvar` keeps a value bound before,
/// `defparameter` replaces it, `defconstant` makes a constant, a quoted datum may name the
/// variable itself, and a variable initialized from a symbol that is not a constant is
/// evaluated at load.
#[test]
fn library_variables_defined_on_first_use_behave_as_if_evaluated_at_load() {
    let mut interp = Interp::new();
    let library = "(defvar *lib-n* #x10) (defvar *lib-n* 99) (defparameter *lib-p* 1) \
                   (defparameter *lib-p* 2) (defconstant +lib-c+ '(+lib-c+ :k \"s\" #\\x)) \
                   (defvar *lib-pi* pi \"doc\") (defvar *lib-nil* nil) (defvar *lib-later* 3) \
                   (defvar *lib-from-var* *lib-later*)";
    let errors = interp.load_library("lib.lisp", library, Default::default());
    assert!(errors.is_empty(), "{errors:?}");
    let value = |interp: &mut Interp, text: &str| {
        let form = &forms(text)[0];
        whistler_lisp::prin1(&interp.eval_toplevel(form).unwrap())
    };
    assert_eq!(value(&mut interp, "*lib-n*"), "16");
    assert_eq!(value(&mut interp, "*lib-p*"), "2");
    assert_eq!(value(&mut interp, "+lib-c+"), "(+LIB-C+ :K \"s\" #\\x)");
    assert_eq!(value(&mut interp, "(eq (car +lib-c+) '+lib-c+)"), "T");
    assert_eq!(value(&mut interp, "(constantp '+lib-c+)"), "T");
    assert_eq!(value(&mut interp, "(= *lib-pi* pi)"), "T");
    assert_eq!(value(&mut interp, "(boundp '*lib-nil*)"), "T");
    assert_eq!(value(&mut interp, "*lib-from-var*"), "3");
    // Special: a `let` binding is seen by a function reading the variable.
    load(&mut interp, "(defun read-lib-p () *lib-p*)");
    assert_eq!(value(&mut interp, "(let ((*lib-p* 5)) (read-lib-p))"), "5");
    // A later `defvar` keeps the value; a later `defparameter` replaces it.
    load(
        &mut interp,
        "(defvar *lib-n* 0) (defparameter *lib-later* 7)",
    );
    assert_eq!(value(&mut interp, "(list *lib-n* *lib-later*)"), "(16 7)");
}

/// Builtins and table constants (`boole-and`, `most-positive-double-float`) are found when first
/// named, and builtins are listed by `apropos-list` before being named.
#[test]
fn builtins_and_table_constants_are_listed_before_their_first_use() {
    let mut interp = Interp::new();
    let value = |interp: &mut Interp, text: &str| {
        let form = &forms(text)[0];
        whistler_lisp::prin1(&interp.eval_toplevel(form).unwrap())
    };
    let listed = value(&mut interp, "(apropos-list \"CADDDR\")");
    assert_eq!(listed, "(CADDDR)");
    assert_eq!(value(&mut interp, "(constantp 'boole-and)"), "T");
    assert_eq!(value(&mut interp, "(boole boole-and 12 10)"), "8");
    assert_eq!(value(&mut interp, "(fboundp 'string-upcase)"), "T");
    assert_eq!(
        value(
            &mut interp,
            "(= most-positive-double-float most-positive-short-float)"
        ),
        "T"
    );
    assert_eq!(value(&mut interp, "(boundp 'most-positive-fixnum)"), "T");
    assert_eq!(value(&mut interp, "(boundp 'most-positive-float)"), "NIL");
}

/// A library's `(defun (setf NAME) ...)` waits until a place or `#'(setf NAME)` needs it; a
/// definition made before then replaces it.
#[test]
fn deferred_library_setf_functions() {
    let mut interp = Interp::new();
    let library = "(defun lib-get (cell) (car cell)) \
                   (defun (setf lib-get) (v cell) (setf (car cell) (* 10 v))) \
                   (defun (setf lib-other) (v cell) (setf (car cell) v))";
    let errors = interp.load_library("lib.lisp", library, Default::default());
    assert!(errors.is_empty(), "{errors:?}");
    let value = |interp: &mut Interp, text: &str| {
        let form = &forms(text)[0];
        whistler_lisp::prin1(&interp.eval_toplevel(form).unwrap())
    };
    let set = "(let ((c (list 1))) (setf (lib-get c) 2) c)";
    assert_eq!(value(&mut interp, set), "(20)");
    let call = "(let ((c (list 1))) (funcall #'(setf lib-other) 3 c) c)";
    assert_eq!(value(&mut interp, call), "(3)");
    let mut interp = Interp::new();
    let errors = interp.load_library("lib.lisp", library, Default::default());
    assert!(errors.is_empty(), "{errors:?}");
    load(
        &mut interp,
        "(defun (setf lib-get) (v cell) (setf (car cell) (- v)))",
    );
    assert_eq!(value(&mut interp, set), "(-2)");
    // The prelude's own: (setf subseq).
    let subseq = "(let ((s (list 1 2 3))) (setf (subseq s 1) '(8 9)) s)";
    assert_eq!(value(&mut interp, subseq), "(1 8 9)");
}
