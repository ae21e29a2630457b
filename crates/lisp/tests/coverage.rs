//! How much of Common Lisp the evaluator defines: every external COMMON-LISP symbol that names
//! a function, macro, special operator, variable or constant is either defined here or listed
//! in `test_data/conformance/excluded.txt` with the reason it is left out, and at least 700
//! are defined. (Whether they behave as the standard says is `conformance.rs`'s job.)

use std::collections::BTreeSet;
use whistler_lisp::Interp;

fn names(file: &str) -> Vec<String> {
    let path = format!(
        "{}/test_data/conformance/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn the_standard_symbols_are_defined_or_excluded_with_a_reason() {
    let interp = Interp::new();
    let standard = names("cl-symbols.txt");
    assert_eq!(standard.len(), 864);
    let excluded: BTreeSet<String> = names("excluded.txt").into_iter().collect();
    let mut undefined_unexplained = Vec::new();
    let mut defined_but_excluded = Vec::new();
    let mut defined = 0;
    for name in &standard {
        match (
            interp.definition_kind(name).is_some(),
            excluded.contains(name),
        ) {
            (true, false) => defined += 1,
            (true, true) => defined_but_excluded.push(name.clone()),
            (false, false) => undefined_unexplained.push(name.clone()),
            (false, true) => {}
        }
    }
    assert!(
        undefined_unexplained.is_empty(),
        "undefined and not excluded: {undefined_unexplained:?}"
    );
    assert!(
        defined_but_excluded.is_empty(),
        "defined now, drop from excluded.txt: {defined_but_excluded:?}"
    );
    let unknown: Vec<_> = excluded.iter().filter(|n| !standard.contains(n)).collect();
    assert!(
        unknown.is_empty(),
        "excluded.txt names no standard symbol: {unknown:?}"
    );
    assert!(
        defined >= 700,
        "only {defined} of {} defined",
        standard.len()
    );
}

#[test]
fn the_kind_of_each_definition_matches_the_standard() {
    let interp = Interp::new();
    let path = format!(
        "{}/test_data/conformance/cl-symbols.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut wrong = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with(';')) {
        let (name, kind) = line.split_once(' ').unwrap();
        let Some(ours) = interp.definition_kind(name) else {
            continue;
        };
        let agrees = match kind {
            "function" => ours == "function",
            "variable" | "constant" => ours == "variable",
            // Standard macros may be special operators here and the reverse.
            _ => ours == "macro" || ours == "special operator",
        };
        if !agrees {
            wrong.push(format!("{name}: standard {kind}, ours {ours}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
