//! `whistler compile --gen`: each generated file compiled by its own toolchain (cc, rustc,
//! python3 ctypes, go when installed) reports the sizes and field offsets that the object's
//! BTF (the BPF side) gives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use whistler_object::btf::Btf;

const SOURCE: &str = "\
(defconstant +max-shapes+ 3)
(defconstant kind-circle -2)
(defstruct point (x u32) (y i16))
(defstruct shape-event
  (pid u32) (ts u64) (name (array u8 6)) (origin point) (grid (array u16 3)) (flag u8))
(defmap events :type :ringbuf :max-entries 4096)
(defprog go (:type :xdp) XDP_PASS)
";

/// (struct C name, [(field C name)]) of SOURCE, and their names in camel case.
const STRUCTS: &[(&str, &str, &[&str])] = &[
    ("point", "Point", &["x", "y"]),
    (
        "shape_event",
        "ShapeEvent",
        &["pid", "ts", "name", "origin", "grid", "flag"],
    ),
];

/// Compiles SOURCE with `--gen all` in a fresh directory; returns it.
fn generated(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("generate")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shapes.lisp"), SOURCE).unwrap();
    run(Command::new(env!("CARGO_BIN_EXE_whistler"))
        .args(["compile", "shapes.lisp", "--gen", "all"])
        .current_dir(&dir));
    dir
}

/// `struct size N` and `struct.field offset N` lines, from the object's BTF.
fn bpf_side(dir: &Path) -> BTreeMap<String, u32> {
    let object = whistler_object::parse(&std::fs::read(dir.join("shapes.bpf.o")).unwrap()).unwrap();
    let btf = Btf::from_bytes(object.btf.as_deref().unwrap()).unwrap();
    let mut facts = BTreeMap::new();
    for (name, _, fields) in STRUCTS {
        let id = btf
            .find_by_name_kind(name, whistler_object::btf::BtfKind::Struct)
            .unwrap_or_else(|| panic!("struct {name} in BTF"));
        facts.insert(name.to_string(), btf.resolve_size(id).unwrap());
        for field in *fields {
            let (_, member) = btf.member_by_name(id, field).unwrap();
            facts.insert(format!("{name}.{field}"), member.byte_offset().unwrap());
        }
    }
    facts
}

/// Parses `KEY VALUE` lines a generated-code program printed.
fn reported(stdout: &[u8]) -> BTreeMap<String, u32> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| {
            let (key, value) = line.split_once(' ').unwrap();
            (key.to_string(), value.parse().unwrap())
        })
        .collect()
}

/// The statements of a program that prints `STRUCT SIZE` and `STRUCT.FIELD OFFSET` lines for
/// every struct of STRUCTS; `size` and `offset` write one statement from the struct's C name,
/// its camel-case name and (for `offset`) the field's C name.
fn report(
    size: impl Fn(&str, &str) -> String,
    offset: impl Fn(&str, &str, &str) -> String,
) -> String {
    let mut out = String::new();
    for (name, camel, fields) in STRUCTS {
        out.push_str(&size(name, camel));
        for field in *fields {
            out.push_str(&offset(name, camel, field));
        }
    }
    out
}

/// Runs `command`, which must succeed; returns its standard output.
fn run(command: &mut Command) -> Vec<u8> {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        command,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn c_header_matches_the_bpf_layout() {
    let dir = generated("c");
    let mut main = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include \"shapes.h\"\nint main(void) {\n",
    );
    main.push_str("    printf(\"MAX_SHAPES %lld\\n\", (long long)MAX_SHAPES + 0 * KIND_CIRCLE);\n");
    main.push_str(&report(
        |name, _| format!("    printf(\"{name} %zu\\n\", sizeof(struct {name}));\n"),
        |name, _, field| {
            format!("    printf(\"{name}.{field} %zu\\n\", offsetof(struct {name}, {field}));\n")
        },
    ));
    main.push_str("    return 0;\n}\n");
    std::fs::write(dir.join("main.c"), main).unwrap();
    run(Command::new("cc")
        .args(["-Wall", "-Werror", "-o", "main", "main.c"])
        .current_dir(&dir));
    let mut printed = reported(&run(&mut Command::new(dir.join("main"))));
    assert_eq!(printed.remove("MAX_SHAPES"), Some(3));
    assert_eq!(printed, bpf_side(&dir));
}

#[test]
fn rust_types_match_the_bpf_layout() {
    let dir = generated("rust");
    let mut main =
        String::from("#![allow(dead_code)]\ninclude!(\"shapes_types.rs\");\nfn main() {\n");
    main.push_str("    assert_eq!((MAX_SHAPES, KIND_CIRCLE), (3, -2));\n");
    main.push_str(&report(
        |name, camel| format!("    println!(\"{name} {{}}\", std::mem::size_of::<{camel}>());\n"),
        |name, camel, field| {
            format!(
                "    println!(\"{name}.{field} {{}}\", std::mem::offset_of!({camel}, {field}));\n"
            )
        },
    ));
    main.push_str("}\n");
    std::fs::write(dir.join("main.rs"), main).unwrap();
    run(Command::new("rustc")
        .args(["--edition", "2021", "-o", "main", "main.rs"])
        .current_dir(&dir));
    assert_eq!(
        reported(&run(&mut Command::new(dir.join("main")))),
        bpf_side(&dir)
    );
}

#[test]
fn python_ctypes_match_the_bpf_layout() {
    let dir = generated("python");
    let mut script = String::from(
        "import ctypes\nfrom shapes_types import *\nassert (MAX_SHAPES, KIND_CIRCLE) == (3, -2)\n",
    );
    script.push_str(&report(
        |name, camel| format!("print('{name}', ctypes.sizeof({camel}))\n"),
        |name, camel, field| format!("print('{name}.{field}', {camel}.{field}.offset)\n"),
    ));
    let stdout = run(Command::new("python3")
        .args(["-c", &script])
        .current_dir(&dir));
    assert_eq!(reported(&stdout), bpf_side(&dir));
}

#[test]
fn go_types_match_the_bpf_layout_when_go_is_installed() {
    if Command::new("go").arg("version").output().is_err() {
        eprintln!("go is not installed: skipping");
        return;
    }
    let dir = generated("go");
    let mut main = String::from("package shapes\n\nimport (\n\t\"fmt\"\n\t\"testing\"\n\t\"unsafe\"\n)\n\nfunc TestLayout(t *testing.T) {\n\tif MaxShapes != 3 || KindCircle != -2 { t.Fatal(\"constants\") }\n");
    main.push_str(&report(
        |name, camel| {
            format!("\tvar {name} {camel}\n\tfmt.Println(\"{name}\", unsafe.Sizeof({name}))\n")
        },
        |name, _, field| {
            let go_field = camel_field(field);
            format!("\tfmt.Println(\"{name}.{field}\", unsafe.Offsetof({name}.{go_field}))\n")
        },
    ));
    main.push_str("}\n");
    std::fs::write(dir.join("layout_test.go"), main).unwrap();
    std::fs::write(dir.join("go.mod"), "module shapes\n\ngo 1.18\n").unwrap();
    let stdout = run(Command::new("go")
        .args(["test", "-v", "-count=1", "."])
        .current_dir(&dir));
    let lines: Vec<u8> = String::from_utf8_lossy(&stdout)
        .lines()
        .filter(|l| {
            l.split(' ').count() == 2
                && !l.starts_with("ok")
                && !l.starts_with("---")
                && !l.starts_with("===")
        })
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    assert_eq!(reported(&lines), bpf_side(&dir));
}

fn camel_field(field: &str) -> String {
    field
        .split('_')
        .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
        .collect()
}

/// The generated Lisp compiles back to the same definitions: its own Rust file is identical.
#[test]
fn lisp_types_round_trip() {
    let dir = generated("lisp");
    run(Command::new(env!("CARGO_BIN_EXE_whistler"))
        .args(["compile", "shapes_types.lisp", "--gen", "rust"])
        .current_dir(&dir));
    assert_eq!(
        std::fs::read_to_string(dir.join("shapes_types_types.rs")).unwrap(),
        std::fs::read_to_string(dir.join("shapes_types.rs")).unwrap()
    );
}
