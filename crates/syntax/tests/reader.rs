//! Unit and property tests for the reader: spans, depth limits, case folding, literal ranges,
//! and "never panics, always round-trips" properties over random input.

use proptest::prelude::*;
use whistler_syntax::{
    read_str, read_with, ReadOptions, Sexp, SexpKind, SourceFile, Symbol, FLOAT_PACKAGE, MAX_DEPTH,
    VECTOR_LITERAL,
};

fn one(text: &str) -> Sexp {
    let result = read_str(text);
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    assert_eq!(result.forms.len(), 1, "{text}");
    result.forms.into_iter().next().unwrap()
}

fn slice(text: &str, s: &Sexp) -> String {
    text[s.span.start as usize..s.span.end as usize].to_string()
}

#[test]
fn every_node_has_its_span() {
    let text = "  (defun f (x) 'y \"s\" #\\a)";
    let form = one(text);
    assert_eq!(slice(text, &form), "(defun f (x) 'y \"s\" #\\a)");
    let items = form.as_list().unwrap();
    let pieces: Vec<String> = items.iter().map(|i| slice(text, i)).collect();
    assert_eq!(pieces, ["defun", "f", "(x)", "'y", "\"s\"", "#\\a"]);
    let quoted = items[3].as_list().unwrap();
    assert_eq!(slice(text, &quoted[0]), "'");
    assert_eq!(slice(text, &quoted[1]), "y");
}

#[test]
fn symbols_fold_case_and_keep_packages() {
    assert_eq!(
        one("XDP_PASS"),
        Sexp {
            span: one("xdp_pass").span,
            ..one("xdp_pass")
        }
    );
    assert_eq!(one("XDP_PASS").as_symbol(), Some(&Symbol::new("xdp_pass")));
    assert_eq!(one(":Key").as_symbol(), Some(&Symbol::keyword("key")));
    let sym = one("BPF::Map-Ref");
    assert_eq!(sym.as_symbol().unwrap().package.as_deref(), Some("bpf"));
    assert_eq!(sym.as_symbol().unwrap().name, "map-ref");
    assert_eq!(one("#:Foo").as_symbol(), Some(&Symbol::new("foo")));
    for name in [
        "1+", "s>=", "<<", ">>>", "+foo+", "&rest", "*x*", "%x", "-", "+", "1-",
    ] {
        assert_eq!(one(name).as_symbol(), Some(&Symbol::new(name)), "{name}");
    }
}

#[test]
fn integers_cover_the_i128_range() {
    assert_eq!(one(&i128::MAX.to_string()).as_int(), Some(i128::MAX));
    assert_eq!(one(&i128::MIN.to_string()).as_int(), Some(i128::MIN));
    assert_eq!(one("-0x10").as_int(), Some(-16));
    assert_eq!(one("#x-10").as_int(), Some(-16));
    assert_eq!(one("-#x10").as_int(), Some(-16));
    assert_eq!(one("+5").as_int(), Some(5));
    let over = read_str("170141183460469231731687303715884105728");
    assert_eq!(over.diagnostics.len(), 1);
    assert!(over.diagnostics[0].message.contains("out of range"));
}

#[test]
fn floats_and_ratios_are_symbols_only_when_asked_for() {
    assert_eq!(read_str("(sleep 0.5)").diagnostics.len(), 1);
    assert_eq!(
        read_str("(sleep 1/2)").diagnostics.len(),
        1,
        "no ratios in programs"
    );
    let file = SourceFile::new("host.lisp", "(sleep 0.5 1E3 1/2)");
    let result = read_with(&file, ReadOptions { host_code: true });
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    let items = result.forms[0].as_list().unwrap();
    let float = items[1].as_symbol().unwrap();
    assert_eq!(float.package.as_deref(), Some(FLOAT_PACKAGE));
    assert_eq!(float.name, "0.5");
    assert_eq!(items[2].as_symbol().unwrap().name, "1e3");
    let ratio = items[3].as_symbol().unwrap();
    assert_eq!(ratio.package.as_deref(), Some(FLOAT_PACKAGE));
    assert_eq!(ratio.name, "1/2");
    assert_eq!(result.forms[0].to_string(), "(sleep 0.5 1e3 1/2)");
}

#[test]
fn vector_literals_only_in_host_code() {
    let compiled = read_str("(f #(1 2))");
    assert_eq!(compiled.diagnostics.len(), 1);
    assert!(compiled.diagnostics[0].message.contains("vector literals"));
    let file = SourceFile::new("host.lisp", "(f #(1 \"a\" #(b)) #() '#(x))");
    let result = read_with(&file, ReadOptions { host_code: true });
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    let items = result.forms[0].as_list().unwrap();
    let vector = items[1].as_list().unwrap();
    assert_eq!(vector[0].as_symbol().unwrap().name, VECTOR_LITERAL);
    assert_eq!(vector[1].as_list().unwrap().len(), 3);
    let text = result.forms[0].to_string();
    assert_eq!(text, "(f #(1 \"a\" #(b)) #() '#(x))");
    let again = read_with(
        &SourceFile::new("again.lisp", text.as_str()),
        ReadOptions { host_code: true },
    );
    assert_eq!(again.forms[0].to_string(), text);
}

#[test]
fn hundred_thousand_open_parens_do_not_overflow() {
    let text = "(".repeat(100_000);
    let result = read_str(&text);
    assert!(result.forms.is_empty());
    assert_eq!(result.diagnostics.len(), 2, "{:?}", result.diagnostics);
    assert!(result.diagnostics[0].message.contains("deeper than"));
    assert!(result.diagnostics[1].message.contains("100000 lists"));
}

#[test]
fn deep_balanced_nesting_is_cut_at_the_limit_and_reading_goes_on() {
    let text = format!("{}x{} (after)", "(".repeat(100_000), ")".repeat(100_000));
    let result = read_str(&text);
    assert_eq!(result.diagnostics.len(), 1);
    assert_eq!(result.diagnostics[0].span.start as usize, MAX_DEPTH);
    assert_eq!(result.forms.len(), 2);
    assert_eq!(result.forms[1].to_string(), "(after)");
    assert!(depth(&result.forms[0]) <= MAX_DEPTH);
}

#[test]
fn nesting_at_the_limit_is_accepted() {
    let text = format!("{}x{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(depth(&one(&text)), MAX_DEPTH);
    let deeper = format!(
        "{}x{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(read_str(&deeper).diagnostics.len(), 1);
}

#[test]
fn trees_at_the_depth_limit_print_clone_compare_and_drop_on_a_test_thread_stack() {
    let text = format!(
        "{}x{}",
        "'(".repeat(MAX_DEPTH / 2),
        ")".repeat(MAX_DEPTH / 2)
    );
    let form = one(&text);
    let worker = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let copy = form.clone();
            assert_eq!(copy, form);
            assert_eq!(copy.to_string(), text);
            drop(copy);
            format!("{form:?}").len()
        })
        .unwrap();
    assert!(worker.join().unwrap() > 0);
}

#[test]
fn deep_quotes_are_limited_too() {
    let text = format!("{}x", "'".repeat(100_000));
    let result = read_str(&text);
    assert_eq!(result.diagnostics.len(), 1);
    assert!(result.diagnostics[0].message.contains("deeper than"));
}

fn depth(s: &Sexp) -> usize {
    match &s.kind {
        SexpKind::List(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        SexpKind::DottedList(items, tail) => {
            1 + items.iter().map(depth).max().unwrap_or(0).max(depth(tail))
        }
        _ => 0,
    }
}

#[test]
fn errors_do_not_stop_reading() {
    let result = read_str(") (a #xZZ) \"open");
    assert_eq!(result.diagnostics.len(), 3);
    assert_eq!(result.forms.len(), 1);
    assert_eq!(result.forms[0].to_string(), "(a)");
}

fn check_spans(text: &str, s: &Sexp) {
    assert!(s.span.start <= s.span.end && s.span.end as usize <= text.len());
    assert!(text.is_char_boundary(s.span.start as usize));
    assert!(text.is_char_boundary(s.span.end as usize));
    match &s.kind {
        SexpKind::List(items) => items.iter().for_each(|i| check_spans(text, i)),
        SexpKind::DottedList(items, tail) => {
            items.iter().for_each(|i| check_spans(text, i));
            check_spans(text, tail);
        }
        _ => {}
    }
}

/// Ignores spans: compares the printed forms.
fn printed(forms: &[Sexp]) -> Vec<String> {
    forms.iter().map(|f| f.to_string()).collect()
}

fn lispy_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "(",
        ")",
        "(",
        ")",
        " ",
        "\n",
        "'",
        "`",
        ",",
        ",@",
        "#'",
        ".",
        "a",
        "Foo",
        "pkg:x",
        ":kw",
        "12",
        "-3",
        "#x1f",
        "0x10",
        "\"s\\\"t\"",
        "\"",
        "#\\a",
        "#\\Space",
        ";c\n",
        "#|",
        "|#",
        "|",
        "\\",
        "#",
        "#+",
        "#-",
        "#:g",
        "1.5",
        "1/2",
        "é",
        "\u{7}",
        "\u{a0}",
        "#(",
        "#37r1",
        "99999999999999999999999999999999999999999",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_text_never_panics(text in any::<String>()) {
        let result = read_str(&text);
        for form in &result.forms {
            check_spans(&text, form);
        }
        for d in &result.diagnostics {
            prop_assert!(d.span.end as usize <= text.len());
        }
    }

    #[test]
    fn lisp_like_text_never_panics_and_round_trips(text in lispy_text()) {
        let result = read_str(&text);
        for form in &result.forms {
            check_spans(&text, form);
        }
        let printed_once = printed(&result.forms);
        let reread = read_str(&printed_once.join("\n"));
        prop_assert!(reread.diagnostics.is_empty(), "{:?} from {:?}", reread.diagnostics, printed_once);
        prop_assert_eq!(printed(&reread.forms), printed_once);
    }

    #[test]
    fn random_bytes_as_lossy_text_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = read_str(&text);
    }
}

/// Found by the `read` fuzz target: `,` then a skipped control character then `@b` is the
/// unquote of the symbol `@b`, which must not print as the splice `,@b`.
#[test]
fn unquote_of_an_at_symbol_prints_apart() {
    let result = read_str("`(a ,\u{1}@b ,|.c|)");
    let printed_once = printed(&result.forms);
    assert_eq!(printed_once, ["`(a , @b , .c)"]);
    let reread = read_str(&printed_once.join("\n"));
    assert!(reread.diagnostics.is_empty(), "{:?}", reread.diagnostics);
    assert_eq!(printed(&reread.forms), printed_once);
}
