//! Real-kernel tests of pinning: a raw tracepoint program counting this thread's getpid calls
//! is attached, and its link, program and map are pinned in a bpffs; every process-side handle
//! is dropped, the hook keeps counting, everything is reopened by path, and removing the link's
//! pin then ends the attachment.

mod attach_util;
mod common;

use attach_util::*;
use whistler_bpf::ProgramType;
use whistler_loader::attach::{AttachError, AttachTarget};
use whistler_loader::link::{Link, LinkKind};
use whistler_loader::{LoadOptions, Map, Program};

fn count_getpids(map: &Map) -> Program {
    let code = count_thread_getpids(std::os::fd::AsFd::as_fd(map));
    Program::load_raw_in_section(
        "pin_getpid",
        "raw_tracepoint/sys_enter",
        &code,
        "GPL",
        &LoadOptions::default(),
    )
    .expect("the counting program loads")
}

fn counter(map: &Map) -> u64 {
    let value = map.lookup(&0u32.to_ne_bytes()).unwrap().expect("key 0");
    u64::from_ne_bytes(value[..8].try_into().unwrap())
}

#[test]
fn pinned_link_program_and_map_outlive_their_handles_and_reopen_by_path() {
    if !common::kernel("pinned_link_program_and_map_outlive_their_handles_and_reopen_by_path") {
        return;
    }
    let dir = common::bpffs_dir("pins");
    let (link_path, prog_path, map_path) = (dir.join("link"), dir.join("prog"), dir.join("map"));

    let mut map = Map::from_fd(counters(1), "pin_counts").unwrap();
    let mut program = count_getpids(&map);
    let program_id = program.id();
    let mut link = program.attach(AttachTarget::Auto).expect("attach raw_tp");
    assert_eq!(link.kind(), LinkKind::BpfLink);
    link.pin(&link_path).expect("pin the link");
    program.pin(&prog_path).expect("pin the program");
    map.pin(&map_path).expect("pin the map");
    getpid_times(5);
    drop((link, program, map));

    getpid_times(7);
    let mut map = Map::from_pin(&map_path).expect("reopen the map");
    assert_eq!(counter(&map), 12, "the pinned link kept counting");
    let mut program = Program::from_pin(&prog_path).expect("reopen the program");
    assert_eq!(program.id(), program_id);
    assert_eq!(program.program_type(), ProgramType::RAW_TRACEPOINT);
    assert_eq!(program.name(), "pin_getpid");
    let mut link = Link::from_pin(&link_path).expect("reopen the link");
    let info = whistler_loader::sys::bpf::link_info(link.bpf_link_fd().unwrap()).unwrap();
    assert_eq!(info.prog_id, program_id);

    assert!(matches!(
        Link::from_pin(&map_path),
        Err(AttachError::Pin { .. })
    ));
    assert!(Program::from_pin(&link_path).is_err());
    assert!(Map::from_pin(&prog_path).is_err());

    drop(Link::from_pin(&link_path).unwrap());
    getpid_times(3);
    assert_eq!(
        counter(&map),
        15,
        "dropping a reopened link leaves it attached"
    );
    link.unpin().expect("unpin the link");
    drop(link);
    getpid_times(4);
    assert_eq!(counter(&map), 15, "unpinned and dropped: detached");
    assert!(!link_path.exists());

    program.unpin().unwrap();
    map.unpin().unwrap();
    assert!(!prog_path.exists() && !map_path.exists());
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn only_bpf_links_pin() {
    if !common::kernel("only_bpf_links_pin") {
        return;
    }
    let dir = common::bpffs_dir("pins_group");
    let map = Map::from_fd(counters(1), "pin_counts").unwrap();
    let program = Program::load_raw_in_section(
        "pin_sampling",
        "perf_event",
        &count_all_hits(std::os::fd::AsFd::as_fd(&map), 0),
        "GPL",
        &LoadOptions::default(),
    )
    .unwrap();
    let mut link = program
        .attach(AttachTarget::Auto)
        .expect("perf_event attach");
    assert_eq!(link.kind(), LinkKind::Group);
    let error = link.pin(dir.join("group")).unwrap_err();
    assert!(
        matches!(error, AttachError::NotPinnable(LinkKind::Group)),
        "{error}"
    );
    drop(link);
    std::fs::remove_dir(&dir).unwrap();
}
