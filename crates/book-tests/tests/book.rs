//! The book's tests: its generated reference pages match the code, its forms page covers the
//! compiler's form table, every ```lisp block compiles (with the standard macro library and the
//! kernel macro host, so `deftracepoint` and `import-kernel-struct` work), and the blocks that
//! state a result (`;; test:` lines, the corpus format of the compiler's execution tests)
//! return it under BPF_PROG_TEST_RUN in the running kernel.

#[path = "../../compiler/tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use whistler_book_tests::{code_blocks, reference_pages, CodeBlock};
use whistler_compiler::{compile_in, forms, Compiled};
use whistler_syntax::{render, SourceFile};

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/src")
}

/// Every Markdown page of the book, by path relative to `docs/src`, sorted.
fn pages() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("docs/src") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                out.push((name, std::fs::read_to_string(&path).expect("page")));
            }
        }
    }
    let mut out = Vec::new();
    walk(&book_src(), &book_src(), &mut out);
    out.sort();
    out
}

/// The Lisp blocks of the book to test, with where they are (`page:line`); a block's
/// `{{#include PATH}}` lines are replaced by the file, as mdBook does.
fn lisp_blocks() -> Vec<(String, CodeBlock)> {
    let mut blocks = Vec::new();
    for (page, text) in pages() {
        let page_dir = book_src().join(&page).parent().unwrap().to_path_buf();
        for mut block in code_blocks(&text) {
            if block.language() == "lisp" && !block.ignored() {
                block.text = resolve_includes(&block.text, &page_dir);
                blocks.push((format!("{page}:{}", block.line), block));
            }
        }
    }
    blocks
}

fn resolve_includes(text: &str, page_dir: &Path) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line
            .trim()
            .strip_prefix("{{#include ")
            .and_then(|l| l.strip_suffix("}}"))
        {
            Some(path) => out.push_str(
                &std::fs::read_to_string(page_dir.join(path.trim()))
                    .unwrap_or_else(|e| panic!("{{{{#include {path}}}}}: {e}")),
            ),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// A session file (`lisp,session`): run by `whistler run`, not compiled alone.
fn is_session(block: &CodeBlock) -> bool {
    block.info.split(',').any(|a| a.trim() == "session")
}

fn compile_block(place: &str, block: &CodeBlock) -> Result<Compiled, String> {
    let file = SourceFile::new(place.to_string(), block.text.clone());
    compile_in(&file, &mut whistler_kernel_host::macro_host()).map_err(|ds| {
        let errors: Vec<String> = ds.iter().map(|d| render(&file, d)).collect();
        errors.join("\n")
    })
}

#[test]
fn reference_pages_match_the_code() {
    let dir = book_src().join("reference");
    let update = std::env::var("UPDATE_EXPECT").as_deref() == Ok("1");
    let mut stale = Vec::new();
    for (name, expected) in reference_pages() {
        let path = dir.join(name);
        if update {
            std::fs::write(&path, &expected).expect("write reference page");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(expected.as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "reference pages differ from the code: {stale:?}; regenerate with \
         UPDATE_EXPECT=1 cargo test -p whistler-book-tests and review the diff"
    );
}

#[test]
fn forms_reference_lists_every_form_once() {
    let page = std::fs::read_to_string(book_src().join("reference/forms.md")).expect("forms.md");
    let listed: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |").map(|(name, _)| name))
        .collect();
    let table: Vec<&str> = forms().iter().map(|f| f.name).collect();
    assert_eq!(
        listed, table,
        "reference/forms.md and whistler_compiler::forms() disagree"
    );
}

/// The symbols a block calls: every `(NAME` in its text.
fn called_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for piece in text.split('(').skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '(' && *c != ')')
            .collect();
        names.insert(name.to_ascii_lowercase());
    }
    names
}

#[test]
fn every_form_has_a_tested_example() {
    let mut used = BTreeSet::new();
    for (_, block) in lisp_blocks() {
        if !is_session(&block) {
            used.extend(called_names(&block.text));
        }
    }
    let missing: Vec<&str> = forms()
        .iter()
        .map(|f| f.name)
        .filter(|name| !used.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "forms without a compiled example in the book: {missing:?}"
    );
}

#[test]
fn every_lisp_block_compiles() {
    let mut failures = Vec::new();
    let mut compiled = 0;
    for (place, block) in lisp_blocks() {
        if is_session(&block) {
            let file = SourceFile::new(place.clone(), block.text.clone());
            let read = whistler_syntax::read(&file);
            if !read.diagnostics.is_empty() {
                failures.push(format!("{place}: does not read"));
            }
            continue;
        }
        match compile_block(&place, &block) {
            Ok(_) => compiled += 1,
            Err(e) => failures.push(format!("{place}:\n{e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        compiled >= 40,
        "only {compiled} Lisp blocks compiled; were pages lost?"
    );
}

#[test]
fn stated_results_hold_in_the_kernel() {
    if !common::kernel_available("stated_results_hold_in_the_kernel") {
        return;
    }
    let mut failures = Vec::new();
    let mut cases = 0;
    for (index, (place, block)) in lisp_blocks().into_iter().enumerate() {
        let spec = common::parse_spec(&block.text).unwrap_or_else(|e| panic!("{place}: {e}"));
        if spec.cases.is_empty() {
            continue;
        }
        let result = compile_block(&place, &block).and_then(|compiled| {
            let pinned = common::load(&compiled.elf, &format!("book_{index}"))?;
            for case in &spec.cases {
                let (value, _) = common::run(&pinned, &case.prog.replace('-', "_"), &case.data)?;
                if value != case.expect {
                    return Err(format!(
                        "{}: returned {value}, expected {}",
                        case.prog, case.expect
                    ));
                }
                cases += 1;
            }
            for check in &spec.maps {
                let values = common::lookup(&pinned, &check.map.replace('-', "_"), &check.key)?;
                let got = common::sum_le(&values);
                if got != check.value {
                    return Err(format!(
                        "map {}: {got:02x?}, expected {:02x?}",
                        check.map, check.value
                    ));
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            failures.push(format!("{place}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases >= 10, "only {cases} stated results were checked");
}

#[test]
fn summary_lists_every_page_and_only_pages_that_exist() {
    let summary = std::fs::read_to_string(book_src().join("SUMMARY.md")).expect("SUMMARY.md");
    let linked: BTreeSet<String> = summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.to_string()))
        .collect();
    let pages: BTreeSet<String> = pages()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name != "SUMMARY.md")
        .collect();
    assert_eq!(
        linked, pages,
        "SUMMARY.md and the pages under docs/src disagree"
    );
    assert!(pages.len() >= 25, "the book has only {} pages", pages.len());
}
