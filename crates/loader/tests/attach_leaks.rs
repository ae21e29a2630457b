//! Leak test: hundreds of attach/drop cycles of every kind this machine allows in one process,
//! then count what is left: open fds, BPF links of our programs, tracefs probes, tc filters and
//! qdiscs, XDP programs, cgroup attachments. One test in its own binary, so nothing runs beside it.

mod attach_util;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixDatagram;

use attach_util::*;
use whistler_bpf::{AttachType, ProgramType};
use whistler_loader::attach::{
    attach, attach_cgroup_legacy, AttachApi, AttachProgramInfo, AttachTarget, InterfaceMode,
    PerfSampling, XdpMode,
};
use whistler_loader::sys::bpf;
use whistler_testkit::kernel_available;

const ROUNDS: usize = 200;
/// Tracepoint and uprobe events cost the kernel ~70-120 ms each to tear down.
const SLOW_ROUNDS: usize = 100;
const NET_ROUNDS: usize = 50;

fn info(prog_type: ProgramType, expected: u32, section: &str) -> AttachProgramInfo {
    AttachProgramInfo {
        prog_type: prog_type as u32,
        expected_attach_type: expected,
        section: section.to_owned(),
        name: "leak_test".to_owned(),
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Links in the kernel whose program is one of `progs`.
fn links_of(progs: &[&OwnedFd]) -> usize {
    let ids: Vec<u32> = progs
        .iter()
        .map(|p| bpf::prog_info(p.as_fd()).unwrap().id)
        .collect();
    let mut count = 0;
    let mut id = 0;
    while let Some(next) = bpf::link_get_next_id(id).unwrap() {
        id = next;
        let Ok(fd) = bpf::link_get_fd_by_id(id) else {
            continue; // went away meanwhile
        };
        if ids.contains(&bpf::link_info(fd.as_fd()).unwrap().prog_id) {
            count += 1;
        }
    }
    count
}

#[allow(unsafe_code)] // `no_mangle` only: the uprobe needs a symbol name to look up
#[no_mangle]
#[inline(never)]
pub extern "C" fn whistler_leak_test_target(x: u64) -> u64 {
    std::hint::black_box(x + 1)
}

fn cycle(
    rounds: usize,
    prog: BorrowedFd<'_>,
    info: &AttachProgramInfo,
    target: impl Fn() -> AttachTarget,
) {
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        let link = attach(prog, info, target()).expect("attach");
        drop(link);
    }
    eprintln!("{rounds} x {}: {:?}", info.section, start.elapsed());
}

#[test]
fn hundreds_of_attach_drop_cycles_leave_nothing_behind() {
    if !kernel_available("hundreds_of_attach_drop_cycles_leave_nothing_behind") {
        return;
    }
    let map = counters(1);
    let tracepoint = load(5, 0, &count_all_hits(map.as_fd(), 0), "leak_tp");
    let raw_tp = load(17, 0, &count_all_hits(map.as_fd(), 0), "leak_raw");
    let uprobe = load(2, 0, &count_all_hits(map.as_fd(), 0), "leak_uprobe");
    let perf = load(7, 0, &count_all_hits(map.as_fd(), 0), "leak_perf");
    let filter = load(1, 0, &count_all_hits(map.as_fd(), 0xffff), "leak_sf");
    let egress = AttachType::CGROUP_INET_EGRESS as u32;
    let cgroup_prog = load(8, egress, &count_all_hits(map.as_fd(), 1), "leak_cg");
    let all = [&tracepoint, &raw_tp, &uprobe, &perf, &filter, &cgroup_prog];
    let (_sender, receiver) = UnixDatagram::pair().unwrap();
    let fds_before = open_fds();

    let tp_info = info(
        ProgramType::TRACEPOINT,
        0,
        "tracepoint/syscalls/sys_enter_getpid",
    );
    cycle(SLOW_ROUNDS, tracepoint.as_fd(), &tp_info, || {
        AttachTarget::Auto
    });
    let raw_info = info(ProgramType::RAW_TRACEPOINT, 0, "raw_tp/sys_enter");
    cycle(ROUNDS, raw_tp.as_fd(), &raw_info, || AttachTarget::Auto);
    let exe = std::env::current_exe().unwrap();
    whistler_leak_test_target(1); // referenced, so the linker keeps the symbol
    let up_info = info(ProgramType::KPROBE, 0, "uretprobe");
    cycle(SLOW_ROUNDS, uprobe.as_fd(), &up_info, || {
        AttachTarget::Uprobe {
            binary: exe.clone(),
            symbol: Some("whistler_leak_test_target".to_owned()),
            offset: 0,
            pid: None,
        }
    });
    let perf_info = info(ProgramType::PERF_EVENT, 0, "perf_event");
    cycle(ROUNDS, perf.as_fd(), &perf_info, || {
        AttachTarget::PerfEvent(PerfSampling::Frequency(100))
    });
    let sf_info = info(ProgramType::SOCKET_FILTER, 0, "socket");
    cycle(ROUNDS, filter.as_fd(), &sf_info, || {
        AttachTarget::Socket(OwnedFd::from(receiver.try_clone().unwrap()))
    });
    let cgroup = cgroup_cycles(cgroup_prog.as_fd(), egress);
    net_cycles();

    assert_eq!(open_fds(), fds_before, "fds leaked");
    assert_eq!(links_of(&all), 0, "links left in the kernel");
    let uprobe_events =
        std::fs::read_to_string("/sys/kernel/tracing/uprobe_events").unwrap_or_default();
    assert!(!uprobe_events.contains("whistler"), "{uprobe_events}");
    let shown = run("bpftool", &["cgroup", "show", cgroup.0.to_str().unwrap()]);
    assert!(shown.trim().is_empty(), "cgroup attachments left: {shown}");
}

/// A cgroup directory of the test's own, removed on drop (also when the test fails).
struct CgroupDir(std::path::PathBuf);

impl Drop for CgroupDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn cgroup_cycles(prog: BorrowedFd<'_>, egress: u32) -> CgroupDir {
    let root = whistler_loader::attach::cgroup2_mount_point().unwrap();
    let dir = CgroupDir(root.join(unique("whistler-leak-")));
    std::fs::create_dir(&dir.0).unwrap();
    let cgroup = &dir.0;
    let cg_info = info(ProgramType::CGROUP_SKB, egress, "cgroup_skb/egress");
    cycle(ROUNDS, prog, &cg_info, || {
        AttachTarget::Cgroup(cgroup.clone())
    });
    for _ in 0..ROUNDS {
        drop(attach_cgroup_legacy(prog, egress, cgroup).expect("prog_attach"));
    }
    dir
}

/// XDP over netlink and tc over netlink on an interface of a namespace of our own.
/// A network namespace of the test's own, deleted on drop (also when the test fails).
struct NetnsName(String);

impl Drop for NetnsName {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

fn net_cycles() {
    let guard = NetnsName(unique("whleak"));
    let ns = guard.0.clone();
    run("ip", &["netns", "add", &ns]);
    let veth = unique("wlv");
    let peer = unique("wlp");
    run(
        "ip",
        &[
            "-n", &ns, "link", "add", &veth, "type", "veth", "peer", "name", &peer,
        ],
    );
    run("ip", &["-n", &ns, "link", "set", &veth, "up"]);
    let path = std::path::PathBuf::from("/run/netns").join(&ns);
    let interface = veth.clone();
    std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).unwrap();
        rustix::thread::move_into_link_name_space(
            fd.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .unwrap();
        netlink_cycles(&interface);
    })
    .join()
    .unwrap();
    let links = run("ip", &["-n", &ns, "link", "show", &veth]);
    let qdiscs = run("tc", &["-n", &ns, "qdisc", "show", "dev", &veth]);
    drop(guard);
    assert!(!links.contains("xdp"), "{links}");
    assert!(!qdiscs.contains("clsact"), "{qdiscs}");
}

fn netlink_cycles(interface: &str) {
    let map = counters(1);
    let xdp = load(
        6,
        AttachType::XDP as u32,
        &count_all_hits(map.as_fd(), 2),
        "leak_xdp",
    );
    let tc = load(3, 0, &count_all_hits(map.as_fd(), 0), "leak_tc");
    let fds_before = open_fds();
    let netlink = |xdp| InterfaceMode {
        api: AttachApi::Netlink,
        xdp,
        direction: None,
    };
    let target = |mode| AttachTarget::Interface {
        name: interface.to_owned(),
        mode,
    };
    for _ in 0..NET_ROUNDS {
        let mode = netlink(XdpMode::Generic);
        drop(
            attach(
                xdp.as_fd(),
                &info(ProgramType::XDP, 37, "xdp"),
                target(mode),
            )
            .unwrap(),
        );
        let mode = netlink(XdpMode::Default);
        drop(
            attach(
                tc.as_fd(),
                &info(ProgramType::SCHED_CLS, 0, "tc"),
                target(mode),
            )
            .unwrap(),
        );
        drop(
            attach(
                xdp.as_fd(),
                &info(ProgramType::XDP, 37, "xdp"),
                target(InterfaceMode::default()),
            )
            .unwrap(),
        );
    }
    assert_eq!(open_fds(), fds_before, "fds leaked by network links");
}
