//! The macro hook: a host's top-level forms and macros are consulted before built-in handling,
//! except for built-in form names.

use whistler_compiler::{compile_with, Compiled, MacroHost, NoMacros, Options};
use whistler_syntax::{read, Diagnostic, Sexp, SexpKind, SourceFile, Symbol};

/// Knows one macro, `(twice X)` => `(* 2 X)`, and records the top-level forms it was given.
#[derive(Default)]
struct FakeHost {
    toplevel: Vec<String>,
    constants: Vec<(String, i64)>,
}

impl MacroHost for FakeHost {
    fn eval_toplevel(&mut self, form: &Sexp) -> Result<(), Vec<Diagnostic>> {
        let head = form
            .as_list()
            .and_then(|l| l.first())
            .and_then(|h| h.as_symbol());
        self.toplevel
            .push(head.map_or_else(String::new, |h| h.name.clone()));
        if let Some([_, name, value]) = form.as_list() {
            if let (Some(name), Some(value)) = (name.as_symbol(), value.as_int()) {
                self.constants.push((name.name.clone(), value as i64));
            }
        }
        Ok(())
    }
    fn is_macro(&self, name: &Symbol) -> bool {
        name.name == "twice" || name.name == "when"
    }
    fn constant_value(&self, name: &Symbol) -> Option<i64> {
        let defined = self.constants.iter().find(|(n, _)| *n == name.name);
        defined
            .map(|(_, v)| *v)
            .or((name.name == "*threshold*").then_some(7))
    }
    fn macroexpand_1(&mut self, form: &Sexp) -> Result<Option<Sexp>, Vec<Diagnostic>> {
        let items = form.as_list().unwrap_or_default();
        let span = form.span;
        let sym = |n: &str| Sexp {
            kind: SexpKind::Symbol(Symbol::new(n)),
            span,
        };
        Ok(Some(Sexp {
            kind: SexpKind::List(vec![
                sym("*"),
                Sexp {
                    kind: SexpKind::Int(2),
                    span,
                },
                items[1].clone(),
            ]),
            span,
        }))
    }
}

/// Compiles `text` against `host`, keeping each program's expansion and assembly.
fn compile_dumping(name: &str, text: &str, host: &mut FakeHost) -> Compiled {
    let file = SourceFile::new(name, text);
    let forms = read(&file).forms;
    let options = Options {
        dump: true,
        ..Default::default()
    };
    compile_with(&file, &forms, options, host).expect("compiles")
}

#[test]
fn host_macros_expand_and_toplevel_forms_reach_the_host() {
    let mut host = FakeHost::default();
    let compiled = compile_dumping(
        "m.lisp",
        "(defmacro twice (x) `(* 2 ,x))\n(defvar *n* 3)\n(defprog p (:type :xdp) (when 1 (twice (twice 5))))",
        &mut host,
    );
    assert_eq!(host.toplevel, ["defmacro", "defvar"]);
    // `when` stays the built-in form even though the host claims it.
    assert!(
        compiled.dumps[0]
            .expanded
            .contains("(if 1 (mul 2 (mul 2 5)) 0)"),
        "{}",
        compiled.dumps[0].expanded
    );
    assert!(
        compiled.dumps[0].asm.contains("r0 = 20"),
        "{}",
        compiled.dumps[0].asm
    );
}

#[test]
fn host_globals_are_constants_and_defconstants_reach_the_host() {
    let mut host = FakeHost::default();
    let compiled = compile_dumping(
        "c.lisp",
        "(defconstant +base+ 5)\n(defprog p (:type :xdp) (let ((s 0)) (dotimes (i *threshold*) (incf s)) (+ s +base+ *threshold*)))",
        &mut host,
    );
    assert_eq!(host.constants, [("+base+".to_string(), 5)]);
    assert!(
        compiled.dumps[0].asm.contains("r0 = 19"),
        "{}",
        compiled.dumps[0].asm
    );
}

#[test]
fn without_an_evaluator_lisp_definitions_are_errors() {
    let file = SourceFile::new(
        "m.lisp",
        "(defmacro twice (x) `(* 2 ,x))\n(defprog p (:type :xdp) 1)",
    );
    let forms = read(&file).forms;
    let errors = compile_with(&file, &forms, Options::default(), &mut NoMacros)
        .expect_err("a defmacro without an evaluator fails");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].span.start, 0);
    assert!(
        errors[0]
            .message
            .contains("needs the Common Lisp evaluator, which this compiler was built without"),
        "{}",
        errors[0].message
    );
}
