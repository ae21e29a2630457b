//! Whole objects built by clang from `tests/c/*.c`, loaded into the running kernel and run with
//! BPF_PROG_TEST_RUN: global data and `.rodata` overrides, subprograms and callbacks, several
//! programs per section and sections of the same name, CO-RE reads of task_struct, legacy maps,
//! program arrays filled by name, pinned maps reused, and a verifier refusal mapped back to its
//! source line.

mod common;

use std::os::fd::AsFd;
use whistler_bpf::{MapType, ProgramType};
use whistler_loader::{LoadError, LoadOptions, Object, TestRun, TypedMap};

/// Runs `program` of `object` once with `run` and returns its return value.
fn run_with(object: &Object, program: &str, run: TestRun<'_>) -> u32 {
    let program = object
        .program(program)
        .unwrap_or_else(|| panic!("no program {program}"));
    program.test_run(run).unwrap().retval
}

fn run(object: &Object, program: &str) -> u32 {
    run_with(object, program, TestRun::default())
}

fn run_xdp(object: &Object, program: &str, packet_len: usize) -> u32 {
    let packet = vec![0u8; packet_len];
    let run = TestRun {
        data_in: &packet,
        ..Default::default()
    };
    run_with(object, program, run)
}

/// Runs a raw_tracepoint program of sys_enter (its two u64 arguments zero), which runs in the
/// calling thread, and returns its return value.
fn run_raw_tracepoint(object: &Object, program: &str) -> u32 {
    let args = [0u8; 16];
    let run = TestRun {
        ctx_in: &args,
        ..Default::default()
    };
    run_with(object, program, run)
}

fn load(name: &str, options: &LoadOptions) -> Object {
    Object::load(&common::compile_c(name), options).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn global_data_and_rodata_overrides() {
    if !common::kernel("global_data_and_rodata_overrides") {
        return;
    }
    let object = load("global_data", &LoadOptions::default());
    assert_eq!(run(&object, "scaled"), 42);
    assert_eq!(run(&object, "scaled"), 42);
    // `static` variables and bpf_printk's format string live in the data sections too.
    assert_eq!(object.maps().count(), 3);
    let data = object.map(".data").expect(".data map");
    assert_eq!(data.info().kind(), Some(MapType::ARRAY));
    let calls = data.lookup(&0u32.to_ne_bytes()).unwrap().unwrap();
    assert_eq!(&calls[..4], &102i32.to_ne_bytes());
    let bss = object
        .map(".bss")
        .unwrap()
        .lookup(&0u32.to_ne_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(&bss[..8], &(42i64 + i64::from(b'h')).to_ne_bytes());
    // .rodata is frozen: user space cannot change it after load.
    let rodata = object.map(".rodata").unwrap();
    let mut bytes = rodata.lookup(&0u32.to_ne_bytes()).unwrap().unwrap();
    bytes[0] = 9;
    assert!(rodata
        .update(&0u32.to_ne_bytes(), &bytes, Default::default())
        .is_err());

    let options = LoadOptions::new()
        .rodata_symbol("factor", 5i32.to_ne_bytes())
        .rodata_symbol("greeting", *b"Jello\0\0\0");
    let object = load("global_data", &options);
    assert_eq!(run(&object, "scaled"), 105);
    let bss = object
        .map(".bss")
        .unwrap()
        .lookup(&0u32.to_ne_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(&bss[..8], &(105i64 + i64::from(b'J')).to_ne_bytes());

    let wrong_size = LoadOptions::new().rodata_symbol("factor", [1u8]);
    let err = Object::load(&common::compile_c("global_data"), &wrong_size).unwrap_err();
    assert!(matches!(err, LoadError::RodataOverride { .. }), "{err}");
    let unknown = LoadOptions::new().rodata_symbol("no_such_variable", [1u8]);
    let err = Object::load(&common::compile_c("global_data"), &unknown).unwrap_err();
    assert!(matches!(err, LoadError::RodataOverride { .. }), "{err}");
}

#[test]
fn subprograms_callbacks_and_shared_functions() {
    if !common::kernel("subprograms_callbacks_and_shared_functions") {
        return;
    }
    let object = load("subprograms", &LoadOptions::default());
    assert_eq!(run(&object, "first"), 13 + 10 + 1000);
    assert_eq!(run(&object, "second"), 45);
    let names: Vec<&str> = object.programs().map(|p| p.name()).collect();
    assert_eq!(names, ["first", "second"]);
}

#[test]
fn several_programs_per_section() {
    if !common::kernel("several_programs_per_section") {
        return;
    }
    let object = load("multi", &LoadOptions::default());
    assert_eq!(run_xdp(&object, "pass_all", 64), 2);
    assert_eq!(run_xdp(&object, "drop_all", 64), 1);
    assert_eq!(run_xdp(&object, "drop_short", 64), 2);
    assert_eq!(run_xdp(&object, "drop_short", 20), 1);
    let socket = object.program("accept_all").unwrap();
    assert_eq!(
        socket.program_type(),
        whistler_bpf::ProgramType::SOCKET_FILTER
    );
    let xdp = object.program("drop_all").unwrap();
    assert_eq!(xdp.section(), "xdp");
    assert_eq!(
        xdp.expected_attach_type(),
        Some(whistler_bpf::AttachType::XDP)
    );
}

#[test]
fn two_sections_of_the_same_name() {
    if !common::kernel("two_sections_of_the_same_name") {
        return;
    }
    let bytes = common::compile_c("same_name_sections");
    let parsed = whistler_object::parse(&bytes).unwrap();
    let xdp_sections = parsed
        .code_sections
        .iter()
        .filter(|s| s.name == "xdp")
        .count();
    assert_eq!(xdp_sections, 2, "clang wrote one section per program");
    let object = Object::load(&bytes, &LoadOptions::default()).unwrap();
    assert_eq!(run_xdp(&object, "first_pass", 100), 2);
    assert_eq!(run_xdp(&object, "first_pass", 64), 1);
    assert_eq!(run_xdp(&object, "second_drop", 100), 1);
    assert_eq!(run_xdp(&object, "second_drop", 64), 2);
    // Each program got its own func_info: the main function and the subprogram it calls.
    for name in ["first_pass", "second_drop"] {
        let info = whistler_loader::sys::bpf::prog_info(object.program(name).unwrap().as_fd());
        assert_eq!(info.unwrap().nr_func_info, 2, "{name}");
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct CoreResult {
    pid: i32,
    tgid: i32,
    parent_tgid: i32,
    missing_exists: i32,
    pid_exists: i32,
    task_size_positive: i32,
    sid_value: i32,
    not_there_exists: i32,
    in_execve: i32,
}

#[test]
fn core_reads_of_task_struct() {
    if !common::kernel("core_reads_of_task_struct") {
        return;
    }
    let mut object = load("core_task", &LoadOptions::default());
    assert_eq!(run_raw_tracepoint(&object, "read_task"), 0);
    let results = TypedMap::<u32, CoreResult>::new(object.take_map("results").unwrap()).unwrap();
    let r = results.get(&0).unwrap().unwrap();
    // SAFETY-free ids: the kernel's view of this thread.
    let tid = rustix::thread::gettid().as_raw_nonzero().get();
    assert_eq!(r.pid, tid);
    assert_eq!(r.tgid, std::process::id() as i32);
    assert_eq!(
        r.parent_tgid,
        rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get())
    );
    assert_eq!((r.missing_exists, r.pid_exists), (0, 1));
    assert_eq!(r.task_size_positive, 1);
    assert_eq!(
        r.sid_value, 3,
        "PIDTYPE_SID is 3 in the kernel, 7 in the local enum"
    );
    assert_eq!(r.not_there_exists, 0);
    assert_eq!(r.in_execve, 10, "this thread is not in execve");
}

#[test]
fn legacy_maps_section() {
    if !common::kernel("legacy_maps_section") {
        return;
    }
    let object = load("legacy_maps", &LoadOptions::default());
    run(&object, "count_hit");
    run(&object, "count_hit");
    let hits = TypedMap::<u32, u64, _>::new(object.map("hits").unwrap()).unwrap();
    assert_eq!(hits.get(&7).unwrap(), Some(2));
}

#[test]
fn program_array_filled_by_name_and_pinned_map_reused() {
    if !common::kernel("program_array_filled_by_name_and_pinned_map_reused") {
        return;
    }
    let dir = common::bpffs_dir("objects");
    let options = LoadOptions::new().pin_dir(&dir);
    let first = load("tail_calls", &options);
    assert_eq!(
        run_xdp(&first, "entry", 64),
        3,
        "the tail call reached `target`"
    );
    let counts = first.map("shared_counts").unwrap();
    assert_eq!(
        counts.pinned_path(),
        Some(dir.join("shared_counts").as_path())
    );
    let second = load("tail_calls", &options);
    let reused = second.map("shared_counts").unwrap();
    assert_eq!(reused.info().id, counts.info().id);
    assert_eq!(run_xdp(&second, "entry", 64), 3);
    let typed = TypedMap::<u32, u64, _>::new(reused).unwrap();
    assert_eq!(typed.get(&1).unwrap(), Some(2));
    let jump = second.map("jump_table").unwrap();
    assert_eq!(jump.info().kind(), Some(MapType::PROG_ARRAY));
    // Slot 1 re-pointed at `entry` itself: the tail call now loops until the kernel's limit
    // and `entry` returns XDP_ABORTED.
    second
        .set_program_array_slot("jump_table", 1, "entry")
        .unwrap();
    assert_eq!(run_xdp(&second, "entry", 64), 0);
    assert!(second
        .set_program_array_slot("jump_table", 0, "nope")
        .is_err());
    drop((first, second));
    std::fs::remove_file(dir.join("shared_counts")).unwrap();
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn max_entries_and_program_type_overrides() {
    if !common::kernel("max_entries_and_program_type_overrides") {
        return;
    }
    let options = LoadOptions::new().max_entries("hits", 1024);
    let object = load("legacy_maps", &options);
    assert_eq!(object.map("hits").unwrap().info().max_entries, 1024);

    let bytes = common::compile_c("unknown_section");
    let err = Object::load(&bytes, &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, LoadError::UnknownSection { .. }), "{err}");
    let options = LoadOptions::new().program_type("custom", ProgramType::SOCKET_FILTER, None);
    let object = Object::load(&bytes, &options).unwrap();
    let custom = object.program("custom").unwrap();
    assert_eq!(custom.program_type(), ProgramType::SOCKET_FILTER);
    let packet = [0u8; 64];
    let run = TestRun {
        data_in: &packet,
        ..Default::default()
    };
    assert_eq!(custom.test_run(run).unwrap().retval, 7);
}

#[test]
fn maps_of_maps_filled_by_name() {
    if !common::kernel("maps_of_maps_filled_by_name") {
        return;
    }
    let object = load("map_in_map", &LoadOptions::default());
    let set = |name: &str, v: u32| {
        let map = TypedMap::<u32, u32, _>::new(object.map(name).unwrap()).unwrap();
        map.set(&0, &v).unwrap();
    };
    set("inner_a", 4);
    set("inner_b", 2);
    assert_eq!(run(&object, "read_both"), 42);
    let outer = object.map("outer").unwrap();
    assert_eq!(outer.info().kind(), Some(MapType::ARRAY_OF_MAPS));
}

#[test]
fn a_failed_load_removes_the_pins_it_made() {
    if !common::kernel("a_failed_load_removes_the_pins_it_made") {
        return;
    }
    let dir = common::bpffs_dir("failed");
    let options = LoadOptions::new().pin_dir(&dir);
    let err = Object::load(&common::compile_c("pinned_bad"), &options).unwrap_err();
    assert!(matches!(err, LoadError::Verifier { .. }), "{err}");
    assert!(!dir.join("pinned_then_failed").exists());
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn verifier_refusal_names_the_source_line() {
    if !common::kernel("verifier_refusal_names_the_source_line") {
        return;
    }
    let err = Object::load(&common::compile_c("bad_access"), &LoadOptions::default()).unwrap_err();
    let LoadError::Verifier {
        program,
        log,
        summary,
    } = err
    else {
        panic!("expected a verifier error, got {err}");
    };
    assert_eq!(program, "unchecked");
    assert!(log.contains("invalid mem access"), "{log}");
    assert!(summary.starts_with("R0 invalid mem access"), "{summary}");
    assert!(summary.contains("bad_access.c:17:"), "{summary}");
    assert!(summary.contains("return *value + 1;"), "{summary}");
}

#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Snapshot {
    pid: i32,
    tgid: i32,
    parent_tgid: i32,
    sid_type: i32,
    task_flags_bit_exists: u32,
    comm: [u8; 16],
    parent_comm: [u8; 16],
}

fn comm_of(path: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    text.trim_end().as_bytes().to_vec()
}

fn c_string(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().copied().take_while(|&b| b != 0).collect()
}

#[test]
fn core_with_a_generated_vmlinux_h() {
    if !common::kernel("core_with_a_generated_vmlinux_h") {
        return;
    }
    let include = common::vmlinux_h_dir();
    let flag = format!("-I{}", include.display());
    let bytes = common::compile_c_with("vmlinux_task", &["-D__TARGET_ARCH_x86", &flag]);
    std::fs::remove_dir_all(&include).unwrap();
    let object = Object::load(&bytes, &LoadOptions::default()).unwrap();
    assert_eq!(run_raw_tracepoint(&object, "snapshot_task"), 0);
    let snapshots = TypedMap::<u32, Snapshot, _>::new(object.map("snapshots").unwrap()).unwrap();
    let s = snapshots.get(&0).unwrap().unwrap();
    let tid = rustix::thread::gettid().as_raw_nonzero().get();
    assert_eq!((s.pid, s.tgid), (tid, std::process::id() as i32));
    let ppid = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get());
    assert_eq!(s.parent_tgid, ppid);
    assert_eq!((s.sid_type, s.task_flags_bit_exists), (3, 1));
    assert_eq!(c_string(&s.comm), comm_of("/proc/thread-self/comm"));
    let parent_comm = comm_of(&format!("/proc/{ppid}/comm"));
    assert_eq!(c_string(&s.parent_comm), parent_comm);
}

#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct KconfigSeen {
    version: u32,
    bpf: i32,
    hz: i32,
    missing: i32,
}

#[test]
fn kconfig_externs_read_the_running_kernel() {
    if !common::kernel("kconfig_externs_read_the_running_kernel") {
        return;
    }
    let object = load("externs", &LoadOptions::default());
    assert_eq!(run(&object, "read_kconfig"), 0);
    let seen = TypedMap::<u32, KconfigSeen, _>::new(object.map("seen").unwrap()).unwrap();
    let s = seen.get(&0).unwrap().unwrap();
    let release = rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned();
    let mut parts = release
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
    assert_eq!(s.version >> 8, (major << 8) | minor, "{release}");
    assert_eq!(s.missing, 0);
    if std::path::Path::new("/proc/config.gz").exists() {
        assert_eq!(s.bpf, 1);
        assert!(s.hz >= 100, "CONFIG_HZ = {}", s.hz);
    }
    assert!(object.map(".kconfig").is_some());
}

#[test]
fn typed_ksym_variable() {
    if !common::kernel("typed_ksym_variable") {
        return;
    }
    // The ld_imm64 gets BPF_PSEUDO_BTF_ID and the kernel's BTF id of `runqueues`; kernels
    // without CONFIG_KALLSYMS_ALL (this host) then cannot find its address.
    let bytes = common::compile_c("ksym");
    let object = match Object::load(&bytes, &LoadOptions::default()) {
        Ok(object) => object,
        Err(LoadError::Verifier { summary, .. }) => {
            let expected = "failed to find the address for kernel symbol 'runqueues'";
            assert!(summary.contains(expected), "{summary}");
            return;
        }
        Err(other) => panic!("{other}"),
    };
    let retval = run_raw_tracepoint(&object, "this_cpu");
    let cpus = whistler_loader::cpus::possible_cpu_count().unwrap() as u32;
    assert!((1000..1000 + cpus).contains(&retval), "{retval}");
}
