//! The book's tests: its generated reference pages match the code, its forms page covers the
//! compiler's form table, every ```lisp block compiles (with the standard macro library and the
//! kernel macro host, so `deftracepoint` and `import-kernel-struct` work), and the blocks that
//! state a result (`;; test:` lines, the corpus format of the compiler's execution tests)
//! return it under BPF_PROG_TEST_RUN in the running kernel. Every Rust block is included from a
//! file cargo compiles, fragments are few, and every relative link and include resolves.
//! (The ```console transcripts are run by `crates/cli/tests/book_transcripts.rs`.)

#[path = "../../compiler/tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use whistler_book_tests::{
    book_src, code_blocks, pages, reference_pages, relative_links, resolve_includes, CodeBlock,
};
use whistler_compiler::{compile_in, forms, Compiled};
use whistler_syntax::{render, SourceFile};

/// The Lisp blocks of the book to test, with where they are (`page:line`); a block's
/// `{{#include PATH}}` lines are replaced by the file, as mdBook does.
fn lisp_blocks() -> Vec<(String, CodeBlock)> {
    let mut blocks = Vec::new();
    for (page, text) in pages() {
        for mut block in code_blocks(&text) {
            if block.language() == "lisp" && !block.ignored() {
                let place = format!("{page}:{}", block.line);
                block.text = resolve_includes(&block.text, &page_dir(&page))
                    .unwrap_or_else(|e| panic!("{place}: {e}"));
                blocks.push((place, block));
            }
        }
    }
    blocks
}

/// The directory of a page (`language/forms.md` → `docs/src/language`): where its includes and
/// links start.
fn page_dir(page: &str) -> PathBuf {
    book_src().join(page).parent().unwrap().to_path_buf()
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
    let update = whistler_testkit::update_expect();
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

#[test]
fn relative_links_and_includes_resolve() {
    let mut broken = Vec::new();
    for (page, text) in pages() {
        for link in relative_links(&text) {
            if !page_dir(&page).join(&link).exists() {
                broken.push(format!("{page}: link to {link}"));
            }
        }
        if let Err(e) = resolve_includes(&text, &page_dir(&page)) {
            broken.push(format!("{page}: {e}"));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// Where the Rust a page shows may come from: files cargo builds (examples, tests, sources).
fn is_compiled_rust(path: &std::path::Path) -> bool {
    let path = path.to_string_lossy();
    path.ends_with(".rs")
        && ["/examples/", "/tests/", "/src/"]
            .iter()
            .any(|dir| path.contains(dir))
}

#[test]
fn every_rust_block_is_included_from_compiled_code() {
    let mut loose = Vec::new();
    let mut included = 0;
    for (page, text) in pages() {
        for block in code_blocks(&text) {
            if block.language() != "rust" {
                continue;
            }
            let place = format!("{page}:{}", block.line);
            let targets: Vec<&str> = block
                .text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("{{#include "))
                .filter_map(|l| l.strip_suffix("}}"))
                .collect();
            let only_includes = block.text.lines().count() == targets.len();
            let all_compiled = targets.iter().all(|t| {
                let path = t.split(':').next().unwrap_or(t);
                is_compiled_rust(&page_dir(&page).join(path))
            });
            if block.ignored() || !only_includes || targets.is_empty() || !all_compiled {
                loose.push(place);
            } else {
                included += 1;
            }
        }
    }
    assert!(
        loose.is_empty(),
        "Rust blocks not included from compiled code (put them in an example and \
         {{{{#include}}}} them): {loose:?}"
    );
    assert!(
        included >= 4,
        "only {included} Rust blocks; were pages lost?"
    );
}

/// Fragments (```lisp,ignore) are not compiled: they stay few, for syntax summaries.
#[test]
fn fragments_are_few() {
    let fragments: Vec<String> = pages()
        .iter()
        .flat_map(|(page, text)| {
            code_blocks(text)
                .into_iter()
                .filter(|b| b.ignored())
                .map(move |b| format!("{page}:{}", b.line))
        })
        .collect();
    assert!(
        fragments.len() <= 3,
        "{} fragment blocks (at most 3): {fragments:?}",
        fragments.len()
    );
}
