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

#[test]
fn struct_field_mistakes_and_core_relocations() {
    if !std::path::Path::new(whistler_kernel_host::VMLINUX_BTF).exists()
        && !whistler_testkit::skip(
            "struct_field_mistakes_and_core_relocations",
            "needs the kernel's BTF",
        )
    {
        return;
    }
    let found = errors(
        "BEGIN {\n  $t = (struct task_struct *)curtask;\n  @a = $t->no_such_field;\n  @b = (struct no_such_struct *)0;\n  @c = pid->x;\n}\n",
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].starts_with("t.bt:3:8: error: struct task_struct has no field `no_such_field`"),
        "{}",
        found[0]
    );
    assert!(
        found[1].contains("no struct or union named `no_such_struct`"),
        "{}",
        found[1]
    );
    assert!(found[2].contains("not a kernel struct"), "{}", found[2]);

    // Field offsets are CO-RE relocations, so the object loads on other kernels too.
    let file = SourceFile::new(
        "t.bt",
        "#ifndef BPFTRACE_HAVE_BTF\nstruct task_struct { int pid; };\n#endif\nBEGIN { printf(\"%d\\n\", ((struct task_struct *)curtask)->real_parent->tgid); }\n",
    );
    let compiled = whistler_bpftrace::compile(&file, &Settings::default(), Default::default())
        .unwrap_or_else(|d| panic!("{d:?}"));
    let relocated: Vec<String> = compiled.object.spec.programs[0]
        .core_relocs
        .iter()
        .map(|r| r.value.subject_name())
        .collect();
    assert_eq!(relocated, ["task_struct.real_parent", "task_struct.tgid"]);
}

#[test]
fn fentry_arguments_come_from_the_functions_prototype() {
    if !std::path::Path::new(whistler_kernel_host::VMLINUX_BTF).exists()
        && !whistler_testkit::skip(
            "fentry_arguments_come_from_the_functions_prototype",
            "needs the kernel's BTF",
        )
    {
        return;
    }
    let found = errors("fentry:do_sys_openat2 { @x = args.nope; }\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "t.bt:1:30: error: do_sys_openat2 has no argument `nope`; it has dfd, filename, how"
        ),
        "{}",
        found[0]
    );
    let file = SourceFile::new(
        "t.bt",
        "fentry:do_sys_openat2 { printf(\"%s %d %d\\n\", str(args.filename), args.dfd, args.how->flags); }\nfexit:do_sys_openat2 { @fd = hist(retval); }\n",
    );
    whistler_bpftrace::compile(&file, &Settings::default(), Default::default())
        .unwrap_or_else(|d| panic!("{}", whistler_syntax::render(&file, &d[0])));
}

#[test]
fn for_over_maps_mistakes() {
    let found = errors(
        "BEGIN {\n  @h = hist(2); @m[1, 2] = 3;\n  for ($kv : @h) { }\n  for ($kv : @m) { print($kv); $x = $kv.2; $y = $kv.0; }\n}\n",
    );
    let starts = [
        "t.bt:3:14: error: `for` cannot walk @h, a hist map",
        "t.bt:4:26: error: $kv is a map entry (key, value): use $kv.0 and $kv.1",
        "t.bt:4:37: error: a map entry is (key, value): use $kv.0 ($kv.0.N: key N) and $kv.1",
        "t.bt:4:49: error: a map entry is (key, value)",
    ];
    for (found, start) in found.iter().zip(starts) {
        assert!(found.starts_with(start), "{found}");
    }
    assert_eq!(found.len(), starts.len(), "{found:#?}");
    let found = errors("BEGIN { @m[1] = 1; for ($kv : @m[1]) { } }");
    assert!(
        found[0].starts_with("t.bt:1:31: error: `for` walks a whole map: write @name, no keys"),
        "{found:#?}"
    );
}

#[test]
fn user_function_mistakes() {
    let found = errors(
        "fn add($a : int64, $b : int64) : int64 { return $a + $b; }\n\
         fn down($n : int64) : int64 { return down($n - 1); }\n\
         fn none($n : int64) : void { return $n; }\n\
         BEGIN {\n  @x = add(1);\n  @y = nosuch(2);\n  @z = down(3);\n  none(1);\n}\n",
    );
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        found[0].starts_with("t.bt:5:8: error: function `add` takes 2 argument(s), not 1"),
        "{}",
        found[0]
    );
    assert!(
        found[1].starts_with("t.bt:6:8: error: unknown function `nosuch`"),
        "{}",
        found[1]
    );
    assert!(
        found[2].starts_with("t.bt:2:38: error: function `down` calls itself"),
        "{}",
        found[2]
    );
    assert!(
        found[3].starts_with("t.bt:3:37: error: function `none` returns void"),
        "{}",
        found[3]
    );
}

#[test]
fn user_function_signatures_take_integer_types() {
    let found = errors("fn f($s : string) : int64 { return 1; }\nBEGIN { }\n");
    assert!(
        found[0].starts_with("t.bt:1:11: error: `string`: function parameters"),
        "{}",
        found[0]
    );
}

#[test]
fn offsetof_mistakes() {
    let found = errors(
        "BEGIN {\n  @a = offsetof(struct task_struct, no_such_field);\n  \
         @b = offsetof(struct no_such_struct_here, x);\n  \
         @c = offsetof(struct task_struct, pid.x);\n}\n",
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].starts_with("t.bt:2:8: error: struct task_struct has no field `no_such_field`"),
        "{}",
        found[0]
    );
    assert!(
        found[1].starts_with("t.bt:3:8: error: the kernel's BTF has no struct or union named"),
        "{}",
        found[1]
    );
    assert!(
        found[2].starts_with("t.bt:4:8: error: `pid` is not a struct or union"),
        "{}",
        found[2]
    );
}
