//! Robustness: every builtin called with arbitrary arguments, and arbitrary read forms
//! evaluated, end in a value or an error — never a panic, a hang or a stack overflow.

use proptest::prelude::*;
use std::sync::OnceLock;
use whistler_lisp::{Interp, Limits};
use whistler_syntax::read_str;

/// Argument expressions of every kind of value.
const ARGS: &[&str] = &[
    "nil",
    "t",
    "0",
    "1",
    "-1",
    "7",
    "1000000",
    "(expt 2 100)",
    "-9223372036854775808",
    "\"str\"",
    "\"\"",
    "#\\a",
    "'sym",
    ":key",
    "'(1 2 3)",
    "'(a . b)",
    "'((a 1) (b 2))",
    "(vector 1 2)",
    "(make-hash-table)",
    "#'car",
    "(lambda (&rest r) r)",
    "'(:a 1 :b 2)",
    "(make-condition 'simple-error)",
    "'string",
    "'list",
    "\"~a~%\"",
    "'(1 (2 (3)))",
];

fn names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        Interp::new()
            .function_names()
            .into_iter()
            // These wait on the clock or the host on purpose.
            .filter(|n| n != "sleep" && !n.starts_with("test:"))
            .collect()
    })
}

fn interp() -> Interp {
    let mut interp = Interp::new();
    interp.set_output(Box::new(std::io::sink()));
    interp.set_limits(Limits {
        max_steps: 20_000,
        max_depth: 100,
    });
    interp
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn builtins_never_panic(f in 0usize..10_000, args in prop::collection::vec(0usize..ARGS.len(), 0..4)) {
        let names = names();
        let name = &names[f % names.len()];
        let call = format!("({name} {})", args.iter().map(|&i| ARGS[i]).collect::<Vec<_>>().join(" "));
        let forms = read_str(&call).forms;
        let mut interp = interp();
        for form in &forms {
            let _ = interp.eval_toplevel(form);
        }
    }

    #[test]
    fn random_forms_never_panic(text in "[()'`,@ a-z0-9:#\"+*-]{0,60}") {
        let forms = read_str(&text).forms;
        let mut interp = interp();
        for form in &forms {
            let _ = interp.eval_toplevel(form);
            let _ = interp.macroexpand_1(form);
        }
    }
}

#[test]
fn every_builtin_with_every_single_argument() {
    for name in names() {
        let mut interp = interp();
        for arg in ARGS {
            for call in [
                format!("({name} {arg})"),
                format!("({name} {arg} {arg})"),
                format!("({name})"),
            ] {
                let forms = read_str(&call).forms;
                for form in &forms {
                    let _ = interp.eval_toplevel(form);
                }
            }
        }
    }
}

#[test]
fn circular_lists_end_in_a_value_or_an_error() {
    let mut interp = interp();
    let setup = "(defvar *c* (let ((l (list 1 2))) (setf (cdr (cdr l)) l) l))";
    interp.eval_toplevel(&read_str(setup).forms[0]).unwrap();
    for call in [
        "(length *c*)",
        "(subseq *c* 0 3)",
        "(member 3 *c*)",
        "(getf *c* 5)",
        "(print *c*)",
        "(mapcar #'1+ *c*)",
        "(equal *c* *c*)",
    ] {
        let _ = interp.eval_toplevel(&read_str(call).forms[0]);
    }
}
