//! Nothing is left behind: 300 load/run/drop cycles of an object with maps, global data, BTF and
//! a subprogram (and of objects with CO-RE relocations and kconfig externs), then this process's
//! fds and the kernel's program and map lists are counted.

mod common;

use std::time::{Duration, Instant};

use whistler_loader::sys::bpf;
use whistler_loader::{LoadOptions, Object, TestRun};

const CYCLES: usize = 300;
const PROGRAM: &str = "leak_probe_prog";
const MAPS: [&str; 3] = ["leak_probe_map", ".rodata", ".data"];

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Ids of loaded programs and maps the kernel names like ours and that were created by this
/// test (ids above `floor`).
fn our_objects(prog_floor: u32, map_floor: u32) -> (Vec<u32>, Vec<u32>) {
    let mut programs = Vec::new();
    let mut id = prog_floor;
    while let Some(next) = bpf::prog_get_next_id(id).unwrap() {
        id = next;
        let Ok(fd) = bpf::prog_get_fd_by_id(id) else {
            continue;
        };
        let info = bpf::prog_info(std::os::fd::AsFd::as_fd(&fd)).unwrap();
        if name(&info.name) == PROGRAM {
            programs.push(id);
        }
    }
    let mut maps = Vec::new();
    let mut id = map_floor;
    while let Some(next) = bpf::map_get_next_id(id).unwrap() {
        id = next;
        let Ok(fd) = bpf::map_get_fd_by_id(id) else {
            continue;
        };
        let info = bpf::map_info(std::os::fd::AsFd::as_fd(&fd)).unwrap();
        if MAPS.contains(&name(&info.name).as_str()) {
            maps.push(id);
        }
    }
    (programs, maps)
}

fn name(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// The highest program and map ids in use now (new objects get larger ids).
fn id_floors() -> (u32, u32) {
    let last = |next: fn(u32) -> std::io::Result<Option<u32>>| {
        let mut id = 0;
        while let Some(n) = next(id).unwrap() {
            id = n;
        }
        id
    };
    (last(bpf::prog_get_next_id), last(bpf::map_get_next_id))
}

#[test]
fn three_hundred_cycles_leave_nothing_behind() {
    if !common::kernel("three_hundred_cycles_leave_nothing_behind") {
        return;
    }
    let bytes = common::compile_c("leak_probe");
    let others = [common::compile_c("core_task"), common::compile_c("externs")];
    // Warm up once: the kernel BTF cache and lazily opened fds are not leaks.
    drop(Object::load(&bytes, &LoadOptions::default()).unwrap());
    drop(Object::load(&others[0], &LoadOptions::default()).unwrap());
    let fds_before = open_fds();
    let (prog_floor, map_floor) = id_floors();
    let packet = [0u8; 64];
    for _ in 0..CYCLES {
        let object = Object::load(&bytes, &LoadOptions::default()).unwrap();
        let run = TestRun {
            data_in: &packet,
            ..Default::default()
        };
        let out = object.program(PROGRAM).unwrap().test_run(run).unwrap();
        assert_eq!(out.retval, 2);
    }
    // Objects with CO-RE and kconfig are counted by fds only: their names are shared with
    // other tests that may run at the same time.
    for i in 0..CYCLES / 3 {
        let object = Object::load(&others[i % 2], &LoadOptions::default()).unwrap();
        assert!(object.programs().count() == 1);
    }
    assert_eq!(open_fds(), fds_before, "file descriptors leaked");
    // The kernel frees programs and maps asynchronously after their last fd closes.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (programs, maps) = our_objects(prog_floor, map_floor);
        if programs.is_empty() && maps.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still loaded after the objects were dropped: programs {programs:?}, maps {maps:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
