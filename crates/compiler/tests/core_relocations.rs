//! CO-RE from our compiler: a program built against a made-up `task_struct` layout (offsets
//! no kernel has) reads the right pid, parent pid and command name on the running kernel,
//! because every field offset carries a relocation that the loader rewrites. Loaded both with
//! our loader and with libbpf (`bpftool prog loadall`). And the real thing: an object built
//! against this machine's kernel runs, unchanged, on Debian's 6.1 kernel in a qemu VM
//! (`whistler_testkit::vm`), where `task_struct` is laid out differently.

mod common;

use std::process::Command;
use std::time::Duration;
use whistler_bpf::opcode::{class, BPF_CALL, BPF_JMP, BPF_LDX};
use whistler_bpf::CoreKind;
use whistler_loader::object::Object;
use whistler_loader::{LoadOptions, TestRun};
use whistler_object::btf::{Btf, BtfKind, EnumValue, Kind, Member, INT_SIGNED};
use whistler_syntax::SourceFile;
use whistler_testkit::vm::{self, Artifact, GuestFile};

/// `struct task_struct { char comm[16]; int tgid; struct task_struct *real_parent;
/// int no_such_field; long prio; }`, 64 bytes, and `enum pid_type { PIDTYPE_PID,
/// PIDTYPE_TGID = 7, PIDTYPE_GONE = 9 }`: the "build machine" of these tests.
fn made_up_task_struct_btf() -> Vec<u8> {
    let mut btf = Btf::new();
    let int_ = btf.add("int", Kind::int(4, INT_SIGNED));
    let char_ = btf.add("char", Kind::int(1, 0));
    let pid_t = btf.add("pid_t", Kind::Typedef { ty: int_ });
    let long = btf.add("long", Kind::int(8, INT_SIGNED));
    let comm = btf.add(
        "",
        Kind::Array {
            elem: char_,
            index: int_,
            nelems: 16,
        },
    );
    let task_ptr = btf.add("", Kind::Ptr { ty: pid_t + 3 });
    let mut member = |name: &str, ty, byte_offset: u32| Member {
        name_off: btf.add_string(name),
        ty,
        bit_offset: byte_offset * 8,
        bitfield_size: 0,
    };
    let members = vec![
        member("comm", comm, 0),
        member("tgid", pid_t, 16),
        member("real_parent", task_ptr, 24),
        member("no_such_field", pid_t, 32),
        member("prio", long, 40),
    ];
    let task = btf.add(
        "task_struct",
        Kind::Struct {
            size: 64,
            members,
            bitfield_encoding: false,
        },
    );
    assert_eq!(task, task_ptr + 1, "the pointer's target");
    let values = [("PIDTYPE_PID", 0), ("PIDTYPE_TGID", 7), ("PIDTYPE_GONE", 9)];
    let values = values.map(|(name, value)| EnumValue {
        name_off: btf.add_string(name),
        value,
    });
    let values = values.to_vec();
    let enum_kind = Kind::Enum {
        size: 4,
        signed: false,
        values,
    };
    btf.add("pid_type", enum_kind);
    btf.to_bytes()
}

const PROGRAM: &str = "(import-kernel-struct task-struct tgid real-parent comm)
(defmap out :type :array :key-size 4 :value-size 8 :max-entries 3)
(defprog parents (:type :raw-tracepoint :section \"raw_tp/sys_enter\" :license \"GPL\")
  (let* ((task (get-current-task))
         (parent (task-struct-real-parent task)))
    (setf (getmap out 0) (task-struct-tgid task)
          (getmap out 1) (task-struct-tgid parent)
          (getmap out 2) (kernel-load u64 (task-struct-comm task) 0)))
  0)
";

fn compile() -> Vec<u8> {
    let elf = compile_text(PROGRAM, made_up_task_struct_btf());
    let object = whistler_object::parse(&elf).unwrap();
    assert_eq!(
        object.code_sections[0].core_relos.len(),
        10,
        "tgid twice (offset, byte size and the two shifts of a signed read), real_parent, comm"
    );
    elf
}

fn compile_text(text: &str, btf: Vec<u8>) -> Vec<u8> {
    let mut interp = whistler_compiler::lisp_host::standard_interp_for_kernel(
        |_, _| Err::<String, _>("no tracefs here"),
        move || Ok::<_, String>(btf.clone()),
    );
    let file = SourceFile::new("parents.lisp", text);
    let forms = whistler_syntax::read(&file).forms;
    let options = whistler_compiler::Options::default();
    let compiled = whistler_compiler::compile_with(&file, &forms, options, &mut interp)
        .unwrap_or_else(|d| panic!("{d:?}"));
    compiled.elf
}

/// The first 8 bytes of this thread's command name, as the kernel keeps it.
fn comm_prefix() -> u64 {
    let comm = std::fs::read("/proc/thread-self/comm").unwrap();
    let mut bytes = [0u8; 8];
    for (b, c) in bytes
        .iter_mut()
        .zip(comm.iter().take_while(|&&c| c != b'\n'))
    {
        *b = *c;
    }
    u64::from_ne_bytes(bytes)
}

/// This thread's `task_struct.prio`: /proc shows it less `MAX_RT_PRIO` (100).
fn thread_prio() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let priority: i64 = after_name.split(' ').nth(15).unwrap().parse().unwrap();
    (priority + 100) as u64
}

fn parent_pid() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn our_loader_relocates_kernel_struct_offsets_for_the_running_kernel() {
    if !common::kernel_available("our_loader_relocates_kernel_struct_offsets") {
        return;
    }
    run_and_check_parents(&compile());
}

/// Loads `elf` (PROGRAM), runs it once in this thread and checks what it read.
fn run_and_check_parents(elf: &[u8]) {
    let object =
        Object::load(elf, &LoadOptions::default()).unwrap_or_else(|e| panic!("does not load: {e}"));
    let program = object.program("parents").unwrap();
    let args = [0u8; 8];
    let run = TestRun {
        ctx_in: &args,
        ..Default::default()
    };
    program.test_run(run).unwrap();
    let out = object.map("out").unwrap();
    let value = |k: u32| {
        let bytes = out.lookup(&k.to_ne_bytes()).unwrap().unwrap();
        u64::from_ne_bytes(bytes.try_into().unwrap())
    };
    assert_eq!(value(0), u64::from(std::process::id()), "tgid");
    assert_eq!(value(1), parent_pid(), "real_parent->tgid");
    assert_eq!(value(2), comm_prefix(), "comm");
}

/// libbpf (bpftool 7.1) accepts our records and rewrites the offsets to the running kernel's:
/// the translated program holds them as `mov` immediates. (bpftool cannot test-run raw
/// tracepoint programs: it always passes a packet.)
#[test]
fn libbpf_relocates_our_objects_too() {
    if !common::kernel_available("libbpf_relocates_our_objects_too") {
        return;
    }
    let pinned = common::load(&compile(), "core").unwrap_or_else(|e| panic!("{e}"));
    let dump = Command::new("bpftool")
        .args(["prog", "dump", "xlated", "pinned"])
        .arg(pinned.progs.join("parents"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let immediates: Vec<u32> = text
        .lines()
        .filter(|l| l.contains("(b7) r"))
        .filter_map(|l| l.rsplit(" = ").next()?.trim().parse().ok())
        .collect();
    let btf = whistler_kernel_host::vmlinux_btf().unwrap();
    let btf = Btf::from_bytes(&btf).unwrap();
    let layout = whistler_compiler::kernel_structs::kernel_struct(&btf, "task_struct").unwrap();
    for name in ["tgid", "real_parent", "comm"] {
        let field = layout.fields.iter().find(|f| f.name == name).unwrap();
        assert!(
            immediates.contains(&field.offset),
            "{name} at {} in the running kernel, not among {immediates:?}:\n{text}",
            field.offset
        );
    }
}

/// The CO-RE questions of C's bpf_core_read.h, asked by a program built against the made-up
/// `task_struct` and `pid_type`, each answered for the running kernel: (map key, expected).
const QUESTIONS: &str = "(import-kernel-struct task-struct tgid no-such-field prio (state i64))
(defmap out :type :array :key-size 4 :value-size 8 :max-entries 12)
(defprog questions (:type :raw-tracepoint :section \"raw_tp/sys_enter\" :license \"GPL\")
  (let ((task (get-current-task)))
    (setf (getmap out 0) (kernel-field-exists task_struct tgid)
          (getmap out 1) (kernel-field-exists task_struct no_such_field)
          (getmap out 2) (if (kernel-field-exists task_struct no_such_field)
                             (task-struct-no-such-field task)
                             (task-struct-tgid task))
          (getmap out 3) (kernel-field-size task_struct prio)
          (getmap out 4) (kernel-type-exists task_struct)
          (getmap out 5) (kernel-type-size task_struct)
          (getmap out 6) (kernel-type-exists no_such_struct_anywhere)
          (getmap out 7) (kernel-enum-value pid_type pidtype_tgid)
          (getmap out 8) (kernel-enum-value-exists pid_type pidtype_gone)
          (getmap out 9) (if (kernel-enum-value-exists pid_type pidtype_gone)
                             (kernel-enum-value pid_type pidtype_gone)
                             99)
          (getmap out 10) (task-struct-prio task)
          (getmap out 11) (if (kernel-field-exists task_struct state i64)
                              (task-struct-state task)
                              77)))
  0)
";

#[test]
fn core_questions_compile_to_their_relocation_kinds_with_the_build_machines_answers() {
    let elf = compile_text(QUESTIONS, made_up_task_struct_btf());
    let object = whistler_object::parse(&elf).unwrap();
    let section = &object.code_sections[0];
    let btf = Btf::from_bytes(object.btf.as_ref().unwrap()).unwrap();
    let mut found: Vec<(String, u32, i32)> = section
        .core_relos
        .iter()
        .map(|r| {
            let kind = whistler_bpf::CoreKind::from_u32(r.kind).unwrap();
            let subject = btf.name(r.type_id).to_string();
            (
                format!("{}:{subject}", kind.lisp_names()[0]),
                r.kind,
                section.insns[r.insn_offset as usize].imm,
            )
        })
        .collect();
    found.sort();
    found.dedup();
    let names: Vec<(&str, i32)> = found.iter().map(|(n, _, imm)| (n.as_str(), *imm)).collect();
    for expected in [
        ("field-exists:task_struct", 1),
        ("field-byte-size:task_struct", 8),
        ("type-exists:task_struct", 1),
        ("type-size:task_struct", 64),
        ("type-exists:no_such_struct_anywhere", 1),
        ("enumval-value:pid_type", 7),
        ("enumval-value:pid_type", 9),
        ("enumval-exists:pid_type", 1),
    ] {
        assert!(names.contains(&expected), "{expected:?} not in {names:?}");
    }
}

#[test]
fn core_questions_are_answered_for_the_running_kernel() {
    if !common::kernel_available("core_questions_are_answered_for_the_running_kernel") {
        return;
    }
    let elf = compile_text(QUESTIONS, made_up_task_struct_btf());
    let object = Object::load(&elf, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("does not load: {e}"));
    let run = TestRun {
        ctx_in: &[0u8; 8],
        ..Default::default()
    };
    object.program("questions").unwrap().test_run(run).unwrap();
    let out = object.map("out").unwrap();
    let value = |k: u32| {
        let bytes = out.lookup(&k.to_ne_bytes()).unwrap().unwrap();
        u64::from_ne_bytes(bytes.try_into().unwrap())
    };
    let btf = Btf::from_bytes(&whistler_kernel_host::vmlinux_btf().unwrap()).unwrap();
    let task_size = whistler_compiler::kernel_structs::kernel_struct(&btf, "task_struct")
        .unwrap()
        .size;
    let answers: Vec<u64> = (0..12).map(value).collect();
    let pid = u64::from(std::process::id());
    // prio is an int on every kernel (a long here: read at the kernel's width, not 8 bytes);
    // PIDTYPE_TGID is 1; `state`, declared because the build machine lacks it, is gone since
    // Linux 5.14.
    let prio = thread_prio();
    let expected = [1, 0, pid, 4, 1, u64::from(task_size), 0, 1, 0, 99, prio, 77];
    assert_eq!(answers, expected);
    // libbpf answers them the same way: bpftool loads the object.
    common::load(&elf, "core_questions").unwrap_or_else(|e| panic!("libbpf: {e}"));
}

/// A field the running kernel lacks fails the load with its name and source line.
#[test]
fn a_field_the_kernel_lacks_is_named_with_its_source_line() {
    if !common::kernel_available("a_field_the_kernel_lacks_is_named_with_its_source_line") {
        return;
    }
    let text = "(import-kernel-struct task-struct tgid no-such-field)
(defmap out :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog parents (:type :raw-tracepoint :section \"raw_tp/sys_enter\" :license \"GPL\")
  (let ((task (get-current-task)))
    (setf (getmap out 0) (task-struct-no-such-field task)))
  0)
";
    let elf = compile_text(text, made_up_task_struct_btf());
    let error = match Object::load(&elf, &LoadOptions::default()) {
        Ok(_) => panic!("a read of a field no kernel has loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        error.contains("program `parents` reads `task_struct.no_such_field`, which the running kernel does not have at parents.lisp:5:"),
        "{error}"
    );
    assert!(
        error.contains("(task-struct-no-such-field task)"),
        "{error}"
    );
}

/// A tracepoint's record through BTF: `sched_process_fork`'s fields are members of the kernel's
/// `struct trace_event_raw_sched_process_fork`, so `deftracepoint` reads them through CO-RE
/// relocations (on Linux 6.1 the record holds the two command names inline; later kernels keep
/// them out of line, which moves `child_pid` from byte 44 to byte 20).
const FORK_TRACEPOINT: &str = "(deftracepoint sched/sched-process-fork parent-pid child-pid)
(defmap forks :type :lru-hash :key-size 4 :value-size 4 :max-entries 8192)
(defprog on-fork (:type :tracepoint :section \"tracepoint/sched/sched_process_fork\" :license \"GPL\")
  (setf (getmap forks (tp-child-pid)) (tp-parent-pid))
  0)
";

/// `FORK_TRACEPOINT` compiled with this machine's tracefs and kernel BTF.
fn compile_fork_tracepoint() -> Vec<u8> {
    let mut interp = whistler_kernel_host::macro_host();
    let file = SourceFile::new("forks.lisp", FORK_TRACEPOINT);
    let forms = whistler_syntax::read(&file).forms;
    let options = whistler_compiler::Options::default();
    whistler_compiler::compile_with(&file, &forms, options, &mut interp)
        .unwrap_or_else(|d| panic!("{d:?}"))
        .elf
}

#[test]
fn tracepoint_fields_are_read_through_btf_with_core_relocations() {
    if !common::kernel_available("tracepoint_fields_are_read_through_btf_with_core_relocations") {
        return;
    }
    let elf = compile_fork_tracepoint();
    let object = whistler_object::parse(&elf).unwrap();
    let btf = Btf::from_bytes(object.btf.as_ref().unwrap()).unwrap();
    let record = btf
        .find_by_name_kind("trace_event_raw_sched_process_fork", BtfKind::Struct)
        .expect("the record's struct in the object's BTF");
    let members: Vec<&str> = btf
        .members(record)
        .unwrap()
        .iter()
        .map(|m| btf.member_name(m))
        .collect();
    assert_eq!(members, ["parent_pid", "child_pid"]);
    let section = &object.code_sections[0];
    let relos = &section.core_relos;
    // Each signed pid: its offset, on the load, and the two sign-extension shifts.
    assert_eq!(relos.len(), 6, "{relos:?}");
    assert!(relos.iter().all(|r| r.type_id == record), "{relos:?}");
    let offsets = record_offsets(section);
    assert_eq!(offsets.len(), 2, "one load per field: {relos:?}");
    let layout = whistler_compiler::kernel_structs::kernel_struct(
        &Btf::from_bytes(&whistler_kernel_host::vmlinux_btf().unwrap()).unwrap(),
        "trace_event_raw_sched_process_fork",
    )
    .unwrap();
    for field in ["parent_pid", "child_pid"] {
        let here = layout.fields.iter().find(|f| f.name == field).unwrap();
        assert!(
            offsets.contains(&here.offset),
            "{field} at {}: {offsets:?}",
            here.offset
        );
    }
    // Read straight from the context: the only helper call is the map update.
    let calls: Vec<i32> = (section.insns.iter())
        .filter(|i| i.code == BPF_JMP | BPF_CALL)
        .map(|i| i.imm)
        .collect();
    assert_eq!(calls, [2], "bpf_map_update_elem only");
    check_forks(&elf);
    // libbpf relocates it too.
    common::load(&elf, "fork_tracepoint").unwrap_or_else(|e| panic!("libbpf: {e}"));
}

/// The record offsets `section` reads at: the offset of every load that carries a field byte
/// offset relocation.
fn record_offsets(section: &whistler_object::CodeSection) -> Vec<u32> {
    let loads = (section.core_relos.iter())
        .filter(|r| CoreKind::from_u32(r.kind) == Some(CoreKind::FIELD_BYTE_OFFSET))
        .map(|r| section.insns[r.insn_offset as usize])
        .inspect(|insn| assert_eq!(class(insn.code), BPF_LDX, "a load: {insn:?}"));
    loads.map(|insn| insn.off as u32).collect()
}

/// Loads `elf` (FORK_TRACEPOINT), attaches it, forks a child from this thread and checks the
/// record's child and parent pids as the program read them.
fn check_forks(elf: &[u8]) {
    let object =
        Object::load(elf, &LoadOptions::default()).unwrap_or_else(|e| panic!("does not load: {e}"));
    let program = object.program("on-fork").unwrap();
    let _link = program
        .attach(whistler_loader::attach::AttachTarget::Auto)
        .unwrap_or_else(|e| panic!("attach: {e}"));
    let mut child = Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    let tid = std::fs::read_link("/proc/thread-self").unwrap();
    let tid: u32 = tid.file_name().unwrap().to_str().unwrap().parse().unwrap();
    let forks = object.map("forks").unwrap();
    let parent = forks
        .lookup(&child.id().to_ne_bytes())
        .unwrap()
        .unwrap_or_else(|| panic!("no record of the fork of {}", child.id()));
    assert_eq!(
        u32::from_ne_bytes(parent.try_into().unwrap()),
        tid,
        "parent_pid"
    );
}

/// `btf-load-member` in a tp_btf program, whose arguments the verifier knows by their BTF type
/// (`sched_process_fork`'s parent and child `task_struct`s): the child's `pid`, and its
/// `real_parent` pointer, read directly and loaded from in turn for the parent's `tgid`, each
/// one load with a relocated offset and no `probe_read_kernel`. The forks of a child of this
/// process are recorded with this process as the parent.
#[test]
fn btf_typed_pointers_are_loaded_from_directly() {
    if !common::kernel_available("btf_typed_pointers_are_loaded_from_directly") {
        return;
    }
    let btf = Btf::from_bytes(&whistler_kernel_host::vmlinux_btf().unwrap()).unwrap();
    let task = whistler_compiler::kernel_structs::kernel_struct(&btf, "task_struct").unwrap();
    let offset = |name: &str| task.fields.iter().find(|f| f.name == name).unwrap().offset;
    let member = |ptr: &str, name: &str, ty: &str| {
        format!(
            "(btf-load-member {ptr} (:struct \"task_struct\" {}) \"{name}\" {} {ty})",
            task.size,
            offset(name)
        )
    };
    let parent = member(
        &member("(ctx u64 8)", "real_parent", "(:ptr)"),
        "tgid",
        "(:int 4 t)",
    );
    let source = format!(
        "(defmap forks :type :hash :key-size 4 :value-size 8 :max-entries 1024)
(defprog on-fork (:type :tp-btf :section \"tp_btf/sched_process_fork\" :license \"GPL\")
  (setf (getmap forks (cast u32 {})) {parent})
  0)",
        member("(ctx u64 8)", "pid", "(:int 4 t)")
    );
    let file = SourceFile::new("tp_btf.lisp", source.as_str());
    let compiled = whistler_compiler::compile(&file).unwrap_or_else(|d| panic!("{d:?}"));
    let program = &compiled.spec.programs[0];
    let calls: Vec<i32> = (program.insns.iter())
        .filter(|i| i.code == BPF_JMP | BPF_CALL)
        .map(|i| i.imm)
        .collect();
    assert_eq!(calls, [2], "bpf_map_update_elem only");
    let loads = (program.core_relocs.iter())
        .filter(|r| class(program.insns[r.insn_index].code) == BPF_LDX)
        .map(|r| r.value.subject_name());
    let mut loads: Vec<String> = loads.collect();
    loads.sort();
    assert_eq!(
        loads,
        [
            "task_struct.pid",
            "task_struct.real_parent",
            "task_struct.tgid"
        ]
    );
    let object = Object::load(&compiled.elf, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("does not load: {e}"));
    let _link = (object.program("on-fork").unwrap())
        .attach(whistler_loader::attach::AttachTarget::Auto)
        .unwrap_or_else(|e| panic!("attach: {e}"));
    let mut child = Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    let parent = (object.map("forks").unwrap())
        .lookup(&child.id().to_ne_bytes())
        .unwrap()
        .unwrap_or_else(|| panic!("no record of the fork of {}", child.id()));
    let parent = u64::from_ne_bytes(parent.try_into().unwrap());
    assert_eq!(
        parent,
        u64::from(std::process::id()),
        "the child's real_parent->tgid"
    );
}

/// Fields of other widths and signs, read straight from the context: `task_newtask`'s unsigned
/// 8-byte `clone_flags` and signed 2-byte `oom_score_adj`, and `signal_generate`'s signed 4-byte
/// `code`, which a queued SIGCONT (18) has as `SI_QUEUE` (-1): the relocated shifts sign-extend it.
const SIGNED_FIELDS: &str = "(deftracepoint task/task-newtask clone-flags oom-score-adj)
(deftracepoint signal/signal-generate sig code pid)
(defmap adjustments :type :hash :key-size 4 :value-size 8 :max-entries 1024)
(defmap flags :type :hash :key-size 4 :value-size 8 :max-entries 1024)
(defmap codes :type :hash :key-size 4 :value-size 8 :max-entries 1024)
(defprog on-newtask (:type :tracepoint :section \"tracepoint/task/task_newtask\" :license \"GPL\")
  (let ((parent (cast u32 (>> (get-current-pid-tgid) 32))))
    (setf (getmap adjustments parent) (tp-oom-score-adj)
          (getmap flags parent) (tp-clone-flags)))
  0)
(defprog on-signal (:type :tracepoint :section \"tracepoint/signal/signal_generate\" :license \"GPL\")
  (when (= (tp-sig) 18)
    (setf (getmap codes (tp-pid)) (tp-code)))
  0)
";

#[test]
fn tracepoint_fields_of_other_widths_keep_their_sign() {
    if !common::kernel_available("tracepoint_fields_of_other_widths_keep_their_sign") {
        return;
    }
    let mut interp = whistler_kernel_host::macro_host();
    let file = SourceFile::new("signed.lisp", SIGNED_FIELDS);
    let forms = whistler_syntax::read(&file).forms;
    let options = whistler_compiler::Options::default();
    let elf = whistler_compiler::compile_with(&file, &forms, options, &mut interp)
        .unwrap_or_else(|d| panic!("{d:?}"))
        .elf;
    let parsed = whistler_object::parse(&elf).unwrap();
    // Per field one load, and for a signed one (all but clone_flags) its two shifts.
    let relocations = parsed.code_sections.iter().map(|s| s.core_relos.len());
    assert_eq!(relocations.sum::<usize>(), 3 + 1 + 3 * 3);
    let loads = parsed.code_sections.iter().map(|s| record_offsets(s).len());
    assert_eq!(loads.sum::<usize>(), 5, "one load per field");
    common::load(&elf, "signed_fields").unwrap_or_else(|e| panic!("libbpf: {e}"));
    let object = Object::load(&elf, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("does not load: {e}"));
    let _links: Vec<_> = ["on-newtask", "on-signal"]
        .map(|name| {
            (object.program(name).unwrap())
                .attach(whistler_loader::attach::AttachTarget::Auto)
                .unwrap_or_else(|e| panic!("attach {name}: {e}"))
        })
        .into();
    // A shell that raises its OOM score adjustment, forks, then has a signal queued to it
    // (procps' kill -q: sigqueue(3)).
    let script = "set -e; echo 7 > /proc/self/oom_score_adj; /bin/true & wait; \
                  /bin/kill -q 1 -s CONT $$";
    let shell = Command::new("sh").args(["-c", script]).spawn().unwrap();
    let shell_pid = shell.id().to_ne_bytes();
    let out = shell.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let read = |map: &str| {
        let value = (object.map(map).unwrap().lookup(&shell_pid).unwrap())
            .unwrap_or_else(|| panic!("{map}: no record for the shell"));
        i64::from_ne_bytes(value.try_into().unwrap())
    };
    assert_eq!(read("adjustments"), 7, "oom_score_adj");
    // The shell's last child came from fork(3) (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID) or
    // vfork(2) (CLONE_VM | CLONE_VFORK); the exit signal is not among the flags.
    let flags = read("flags");
    assert!(
        [0x0120_0000, 0x4100].contains(&flags),
        "clone_flags {flags:#x}"
    );
    assert_eq!(read("codes"), -1, "SI_QUEUE, sign-extended to 64 bits");
}

const VM_GUEST_SCRIPT: &str = "\
WHISTLER_VM_GUEST=1 /guest --ignored --exact vm_guest_runs_the_host_object --nocapture --test-threads=1
code=$?
if [ $code -eq 0 ]; then
  WHISTLER_VM_GUEST=1 /guest --ignored --exact vm_guest_runs_the_host_tracepoint_object --nocapture --test-threads=1
  code=$?
fi";

/// Compile once here, run there: the object built against this machine's kernel BTF loads and
/// reads the right tgid, parent and comm inside the VM.
#[test]
fn an_object_built_here_runs_on_debians_6_1_kernel() {
    let Some(qemu) = vm::qemu_or_skip("an_object_built_here_runs_on_debians_6_1_kernel") else {
        return;
    };
    let Ok(host_btf) = whistler_kernel_host::vmlinux_btf() else {
        whistler_testkit::skip(
            "an_object_built_here_runs_on_debians_6_1_kernel",
            "no kernel BTF",
        );
        return;
    };
    let object = std::env::temp_dir().join(format!("whistler_core_{}.o", std::process::id()));
    std::fs::write(&object, compile_text(PROGRAM, host_btf)).unwrap();
    let forks = std::env::temp_dir().join(format!("whistler_forks_{}.o", std::process::id()));
    std::fs::write(&forks, compile_fork_tracepoint()).unwrap();
    let guest = vm::build_static(Artifact::Test {
        package: "whistler-compiler",
        name: "core_relocations",
    })
    .unwrap_or_else(|e| panic!("guest build: {e}"));
    let files = [
        GuestFile {
            name: "guest",
            source: &guest,
            executable: true,
        },
        GuestFile {
            name: "parents.o",
            source: &object,
            executable: false,
        },
        GuestFile {
            name: "forks.o",
            source: &forks,
            executable: false,
        },
    ];
    vm::boot_and_check(
        &qemu,
        "vm-core-relocations",
        VM_GUEST_SCRIPT,
        &files,
        Duration::from_secs(600),
    );
    let _ = std::fs::remove_file(&object);
    let _ = std::fs::remove_file(&forks);
}

/// Runs inside the VM only (started by `/init` with WHISTLER_VM_GUEST=1).
#[test]
#[ignore = "runs inside the VM that an_object_built_here_runs_on_debians_6_1_kernel boots"]
fn vm_guest_runs_the_host_object() {
    if std::env::var("WHISTLER_VM_GUEST").as_deref() != Ok("1") {
        eprintln!("vm_guest_runs_the_host_object only runs inside the test VM");
        return;
    }
    assert!(whistler_testkit::kernel_available(
        "vm_guest_runs_the_host_object"
    ));
    let elf = std::fs::read("/parents.o").unwrap();
    // The test means something only if the layouts differ: the object's offsets (the host's)
    // are not this kernel's.
    let btf = Btf::from_bytes(&whistler_kernel_host::vmlinux_btf().unwrap()).unwrap();
    let layout = whistler_compiler::kernel_structs::kernel_struct(&btf, "task_struct").unwrap();
    let here = |name: &str| {
        layout
            .fields
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .offset
    };
    let parsed = whistler_object::parse(&elf).unwrap();
    let section = &parsed.code_sections[0];
    let built: Vec<u32> = section
        .core_relos
        .iter()
        .map(|r| section.insns[r.insn_offset as usize].imm as u32)
        .collect();
    eprintln!(
        "offsets in the object: {built:?}; here tgid={} real_parent={} comm={}",
        here("tgid"),
        here("real_parent"),
        here("comm")
    );
    assert!(
        !built.contains(&here("tgid")),
        "same tgid offset on both kernels"
    );
    run_and_check_parents(&elf);
    eprintln!(
        "the host's object read the right values on {}",
        std::fs::read_to_string("/proc/version").unwrap()
    );
}

/// Runs inside the VM only, after `vm_guest_runs_the_host_object`: the tracepoint object built
/// on the host, whose record offsets are the host's, reads the right pids of a fork here.
#[test]
#[ignore = "runs inside the VM that an_object_built_here_runs_on_debians_6_1_kernel boots"]
fn vm_guest_runs_the_host_tracepoint_object() {
    if std::env::var("WHISTLER_VM_GUEST").as_deref() != Ok("1") {
        eprintln!("vm_guest_runs_the_host_tracepoint_object only runs inside the test VM");
        return;
    }
    let elf = std::fs::read("/forks.o").unwrap();
    // As above: meaningful only when the record is laid out differently here.
    let btf = Btf::from_bytes(&whistler_kernel_host::vmlinux_btf().unwrap()).unwrap();
    let record = "trace_event_raw_sched_process_fork";
    let layout = whistler_compiler::kernel_structs::kernel_struct(&btf, record).unwrap();
    let here = layout
        .fields
        .iter()
        .find(|f| f.name == "child_pid")
        .unwrap();
    let parsed = whistler_object::parse(&elf).unwrap();
    let built = record_offsets(&parsed.code_sections[0]);
    eprintln!(
        "record offsets in the object: {built:?}; child_pid here at {}",
        here.offset
    );
    assert!(
        !built.contains(&here.offset),
        "same child_pid offset on both kernels"
    );
    check_forks(&elf);
    eprintln!("the host's tracepoint object read the right pids");
}
