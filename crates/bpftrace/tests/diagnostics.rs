//! Mistakes in scripts are diagnostics at their place (file:line:col), all of them in one run.

use whistler_bpftrace::Settings;
use whistler_syntax::SourceFile;

fn errors(text: &str) -> Vec<String> {
    let file = SourceFile::new("t.bt", text);
    let diags = whistler_bpftrace::compile(&file, &Settings::default(), Default::default())
        .expect_err("the script is wrong");
    diags
        .iter()
        .map(|d| whistler_syntax::render(&file, d))
        .collect()
}

#[test]
fn type_mistakes_point_at_the_script() {
    let found = errors(
        "BEGIN {\n  printf(\"%d\\n\", comm);\n  @x = count();\n  @x = 5;\n  $y = $z + 1;\n}\n",
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].starts_with("t.bt:2:10: error: argument 1 is string[16]"),
        "{}",
        found[0]
    );
    assert!(
        found[1].starts_with("t.bt:4:3: error: @x holds count()"),
        "{}",
        found[1]
    );
    assert!(
        found[2].starts_with("t.bt:5:8: error: $z is used before it is assigned"),
        "{}",
        found[2]
    );
}

#[test]
fn unknown_probes_and_builtins() {
    let found = errors("bogus:x { }\nBEGIN { @a = nosuch; }\n");
    assert!(
        found[0].starts_with("t.bt:1:1: error: unknown probe type `bogus`"),
        "{}",
        found[0]
    );
    assert!(
        found[1].starts_with("t.bt:2:14: error: unknown builtin or identifier `nosuch`"),
        "{}",
        found[1]
    );
}
