//! What the compiler tells a session about a file: the programs, maps and struct layouts it
//! defines by Lisp and object name, and the role of each top-level form of a session file.

use whistler_compiler::file_forms::{roles, FormRole};
use whistler_object::BtfTypeRef;
use whistler_syntax::SourceFile;

#[test]
fn compiled_files_name_their_programs_maps_and_struct_fields() {
    let text = "(defstruct pkt-info (src-port u16) (pad u16) (bytes u64))\n\
                (defmap seen-ports :type :hash :key-type u16 :value-type pkt-info :max-entries 8)\n\
                (defprog count-ports (:type :xdp) 2)\n\
                (defprog trace-exec (:type :tracepoint :section \"tracepoint/sched/sched_process_exec\") 0)";
    let file = SourceFile::new("facts.lisp", text);
    let compiled = whistler_compiler::compile(&file).expect("compiles");
    let programs: Vec<_> = compiled
        .programs
        .iter()
        .map(|p| (p.lisp_name.as_str(), p.symbol.as_str(), p.section.as_str()))
        .collect();
    assert_eq!(
        programs,
        [
            ("count-ports", "count_ports", "xdp"),
            (
                "trace-exec",
                "trace_exec",
                "tracepoint/sched/sched_process_exec"
            )
        ]
    );
    let map = &compiled.maps[0];
    assert_eq!(
        (map.lisp_name.as_str(), map.symbol.as_str()),
        ("seen-ports", "seen_ports")
    );
    assert_eq!(
        &text[map.span.start as usize..map.span.end as usize],
        text.lines().nth(1).unwrap()
    );
    let layout = &compiled.structs[0];
    assert_eq!(
        (
            layout.lisp_name.as_str(),
            layout.symbol.as_str(),
            layout.size
        ),
        ("pkt-info", "pkt_info", 16)
    );
    let fields: Vec<_> = layout
        .fields
        .iter()
        .map(|f| (f.lisp_name.as_str(), f.offset, f.ty.clone()))
        .collect();
    let int = |size, signed| BtfTypeRef::Int { size, signed };
    assert_eq!(
        fields,
        [
            ("src-port", 0, int(2, false)),
            ("pad", 2, int(2, false)),
            ("bytes", 8, int(8, false))
        ]
    );
}

#[test]
fn session_file_forms_have_roles() {
    let file = SourceFile::new(
        "roles.lisp",
        "(asdf:load-system \"whistler\")\n(in-package :whistler)\n\
         (defstruct point x y)\n(defstruct ev (pid u32))\n(defstruct outer (e ev) (n (array u8 4)))\n\
         (defunion any ev)\n(defmap m :type :array :key-size 4 :value-size 8 :max-entries 1)\n\
         (defmacro two () 2)\n(defconstant +k+ 3)\n(defvar *quiet* nil)\n(defvar *counter* (make-counter))\n\
         (format t \"hi\")",
    );
    let forms = whistler_syntax::read(&file).forms;
    use FormRole::*;
    assert_eq!(
        roles(&forms),
        [Setup, Setup, Run, Bpf, Bpf, Bpf, Bpf, Shared, Shared, Shared, Run, Run]
    );
}
