//! Real-kernel tests of the network attach kinds: XDP (link, netlink native, netlink generic),
//! tc (netlink clsact + cls_bpf, tcx), cgroup_skb, socket filter and sk_lookup. Traffic stays
//! inside network namespaces the tests create (a veth pair in 10.199.0.0/24, or loopback) and
//! delete; every test checks that the attachment is gone after the link drops.

mod attach_util;

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

use attach_util::*;
use whistler_bpf::{AttachType, Insn, ProgramType, Reg};
use whistler_loader::attach::{
    attach, AttachApi, AttachProgramInfo, AttachTarget, InterfaceMode, TcDirection, XdpMode,
};
use whistler_loader::link::LinkKind;
use whistler_testkit::kernel_available;

fn info(prog_type: ProgramType, expected: u32, section: &str) -> AttachProgramInfo {
    AttachProgramInfo {
        prog_type: prog_type as u32,
        expected_attach_type: expected,
        section: section.to_owned(),
        name: "net_test".to_owned(),
    }
}

/// A network namespace of the test's own, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        let name = unique("whns");
        run("ip", &["netns", "add", &name]);
        run("ip", &["-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }

    fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// Runs `f` on a new thread inside this namespace.
    fn run_inside<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = self.path();
        std::thread::spawn(move || {
            Netns::enter_path(&path);
            f()
        })
        .join()
        .expect("thread in netns panicked")
    }

    fn enter_path(path: &PathBuf) {
        let fd = std::fs::File::open(path).expect("open netns");
        rustix::thread::move_into_link_name_space(
            fd.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .expect("setns");
    }

    fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    fn tc(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("tc", &all)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Two namespaces joined by a veth pair: `inner` (10.199.0.1) in `a`, `outer` (10.199.0.2) in `b`.
struct VethPair {
    a: Netns,
    b: Netns,
    inner: String,
}

const ADDR_A: Ipv4Addr = Ipv4Addr::new(10, 199, 0, 1);
const ADDR_B: Ipv4Addr = Ipv4Addr::new(10, 199, 0, 2);

impl VethPair {
    fn new() -> VethPair {
        let (a, b) = (Netns::new(), Netns::new());
        let inner = unique("wva");
        let outer = unique("wvb");
        run(
            "ip",
            &[
                "link", "add", &inner, "netns", &a.name, "type", "veth", "peer", "name", &outer,
                "netns", &b.name,
            ],
        );
        a.ip(&["addr", "add", "10.199.0.1/24", "dev", &inner]);
        b.ip(&["addr", "add", "10.199.0.2/24", "dev", &outer]);
        a.ip(&["link", "set", &inner, "up"]);
        b.ip(&["link", "set", &outer, "up"]);
        VethPair { a, b, inner }
    }

    /// Sends `n` UDP datagrams from `from`'s side to the other side.
    fn send_udp(&self, from_a: bool, n: usize) {
        let (ns, src, dst) = if from_a {
            (&self.a, ADDR_A, ADDR_B)
        } else {
            (&self.b, ADDR_B, ADDR_A)
        };
        ns.run_inside(move || {
            let socket = UdpSocket::bind(SocketAddrV4::new(src, 0)).expect("bind");
            for _ in 0..n {
                socket
                    .send_to(b"whistler", SocketAddrV4::new(dst, 9))
                    .expect("send");
                std::thread::sleep(Duration::from_millis(5));
            }
        });
    }
}

/// After a detach: more traffic leaves the counter alone. The baseline is read after a pause,
/// because the kernel sends packets of its own (IPv6 neighbour discovery) at any time and a
/// program run in flight during the detach may still finish.
fn assert_stopped_counting(map: &OwnedFd, traffic: impl FnOnce()) {
    std::thread::sleep(Duration::from_millis(50));
    let before = read_u64(map.as_fd(), 0);
    traffic();
    assert_eq!(
        read_u64(map.as_fd(), 0),
        before,
        "still counting after detach"
    );
}

fn counting_prog(prog_type: u32, expected: u32, ret: i32, name: &str) -> (OwnedFd, OwnedFd) {
    let map = counters(1);
    let prog = load(prog_type, expected, &count_all_hits(map.as_fd(), ret), name);
    (map, prog)
}

const XDP_PASS: i32 = 2;
const TC_ACT_OK: i32 = 0;

fn xdp_test(mode: InterfaceMode, expected_kind: LinkKind) {
    let pair = VethPair::new();
    let (map, prog) = counting_prog(6, AttachType::XDP as u32, XDP_PASS, "xdp_count");
    let interface = pair.inner.clone();
    let prog_fd = prog.try_clone().unwrap();
    let link = pair.a.run_inside(move || {
        let target = AttachTarget::Interface {
            name: interface,
            mode,
        };
        attach(prog_fd.as_fd(), &info(ProgramType::XDP, 37, "xdp"), target).expect("attach xdp")
    });
    assert_eq!(link.kind(), expected_kind);
    assert!(pair.a.ip(&["link", "show", &pair.inner]).contains("xdp"));
    pair.send_udp(false, 5);
    let seen = read_u64(map.as_fd(), 0);
    assert!(seen >= 5, "XDP saw {seen} packets, expected at least 5");
    let a = pair.a.path();
    std::thread::spawn(move || {
        Netns::enter_path(&a);
        link.detach().expect("detach xdp");
    })
    .join()
    .unwrap();
    let shown = pair.a.ip(&["link", "show", &pair.inner]);
    assert!(!shown.contains("xdp"), "XDP still attached: {shown}");
    assert_stopped_counting(&map, || pair.send_udp(false, 3));
}

#[test]
fn xdp_link_counts_packets_and_detaches() {
    if !kernel_available("xdp_link_counts_packets_and_detaches") {
        return;
    }
    xdp_test(InterfaceMode::default(), LinkKind::BpfLink);
}

#[test]
fn xdp_netlink_generic_counts_packets_and_detaches() {
    if !kernel_available("xdp_netlink_generic_counts_packets_and_detaches") {
        return;
    }
    let mode = InterfaceMode {
        api: AttachApi::Netlink,
        xdp: XdpMode::Generic,
        direction: None,
    };
    xdp_test(mode, LinkKind::NetlinkXdp);
}

#[test]
fn xdp_netlink_native_counts_packets_and_detaches() {
    if !kernel_available("xdp_netlink_native_counts_packets_and_detaches") {
        return;
    }
    let mode = InterfaceMode {
        api: AttachApi::Netlink,
        xdp: XdpMode::Native,
        direction: None,
    };
    xdp_test(mode, LinkKind::NetlinkXdp);
}

/// Attaches a counting tc program to the inner interface from inside namespace `a`.
fn attach_tc(
    pair: &VethPair,
    prog: &OwnedFd,
    section: &'static str,
    mode: InterfaceMode,
) -> whistler_loader::link::Link {
    let interface = pair.inner.clone();
    let prog_fd = prog.try_clone().unwrap();
    pair.a.run_inside(move || {
        let target = AttachTarget::Interface {
            name: interface,
            mode,
        };
        let info = info(ProgramType::SCHED_CLS, 0, section);
        attach(prog_fd.as_fd(), &info, target).expect("attach tc")
    })
}

fn detach_in(ns: &Netns, link: whistler_loader::link::Link) {
    let path = ns.path();
    std::thread::spawn(move || {
        Netns::enter_path(&path);
        link.detach().expect("detach");
    })
    .join()
    .unwrap();
}

#[test]
fn tc_netlink_filters_count_and_clean_up_filters_and_qdisc() {
    if !kernel_available("tc_netlink_filters_count_and_clean_up_filters_and_qdisc") {
        return;
    }
    let pair = VethPair::new();
    let (ingress_map, ingress) = counting_prog(3, 0, TC_ACT_OK, "tc_ingress");
    let (egress_map, egress) = counting_prog(3, 0, TC_ACT_OK, "tc_egress");
    let netlink = InterfaceMode {
        api: AttachApi::Netlink,
        ..Default::default()
    };
    let in_link = attach_tc(&pair, &ingress, "tc", netlink);
    let out_link = attach_tc(&pair, &egress, "classifier/egress", netlink);
    assert_eq!(in_link.kind(), LinkKind::NetlinkTc);
    assert!(pair
        .a
        .tc(&["filter", "show", "dev", &pair.inner, "ingress"])
        .contains("direct-action"));
    pair.send_udp(false, 4);
    pair.send_udp(true, 4);
    assert!(read_u64(ingress_map.as_fd(), 0) >= 4);
    assert!(read_u64(egress_map.as_fd(), 0) >= 4);
    detach_in(&pair.a, in_link);
    let ingress_filters = pair
        .a
        .tc(&["filter", "show", "dev", &pair.inner, "ingress"]);
    assert!(ingress_filters.trim().is_empty(), "left: {ingress_filters}");
    let qdiscs = pair.a.tc(&["qdisc", "show", "dev", &pair.inner]);
    assert!(
        qdiscs.contains("clsact"),
        "clsact removed while the egress filter uses it"
    );
    detach_in(&pair.a, out_link);
    let qdiscs = pair.a.tc(&["qdisc", "show", "dev", &pair.inner]);
    assert!(!qdiscs.contains("clsact"), "clsact left behind: {qdiscs}");
}

#[test]
fn tc_keeps_a_clsact_qdisc_it_did_not_create() {
    if !kernel_available("tc_keeps_a_clsact_qdisc_it_did_not_create") {
        return;
    }
    let pair = VethPair::new();
    pair.a.tc(&["qdisc", "add", "dev", &pair.inner, "clsact"]);
    let (_map, prog) = counting_prog(3, 0, TC_ACT_OK, "tc_theirs");
    let netlink = InterfaceMode {
        api: AttachApi::Netlink,
        ..Default::default()
    };
    let link = attach_tc(&pair, &prog, "tc", netlink);
    detach_in(&pair.a, link);
    assert!(pair
        .a
        .tc(&["qdisc", "show", "dev", &pair.inner])
        .contains("clsact"));
    assert!(pair
        .a
        .tc(&["filter", "show", "dev", &pair.inner, "ingress"])
        .trim()
        .is_empty());
}

#[test]
fn tcx_link_counts_egress_and_detaches() {
    if !kernel_available("tcx_link_counts_egress_and_detaches") {
        return;
    }
    let pair = VethPair::new();
    let (map, prog) = counting_prog(3, AttachType::TCX_EGRESS as u32, TC_ACT_OK, "tcx_egress");
    let mode = InterfaceMode {
        api: AttachApi::Link,
        ..Default::default()
    };
    let link = attach_tc(&pair, &prog, "tcx/egress", mode);
    assert_eq!(link.kind(), LinkKind::BpfLink);
    pair.send_udp(true, 4);
    let seen = read_u64(map.as_fd(), 0);
    assert!(seen >= 4, "tcx saw {seen}");
    drop(link);
    assert_stopped_counting(&map, || pair.send_udp(true, 3));
    assert!(!pair
        .a
        .tc(&["qdisc", "show", "dev", &pair.inner])
        .contains("clsact"));
}

#[test]
fn tc_direction_can_be_overridden() {
    if !kernel_available("tc_direction_can_be_overridden") {
        return;
    }
    let pair = VethPair::new();
    let (map, prog) = counting_prog(3, 0, TC_ACT_OK, "tc_override");
    let mode = InterfaceMode {
        api: AttachApi::Auto,
        direction: Some(TcDirection::Egress),
        ..Default::default()
    };
    let link = attach_tc(&pair, &prog, "tc", mode);
    pair.send_udp(false, 3);
    let after_ingress_traffic = read_u64(map.as_fd(), 0);
    pair.send_udp(true, 3);
    assert!(read_u64(map.as_fd(), 0) >= after_ingress_traffic + 3);
    detach_in(&pair.a, link);
}

/// A cgroup v2 directory of the test's own, removed on drop.
struct TestCgroup {
    path: PathBuf,
}

impl TestCgroup {
    fn new() -> TestCgroup {
        let root = whistler_loader::attach::cgroup2_mount_point().expect("cgroup v2 mounted");
        let path = root.join(unique("whistler-test-"));
        std::fs::create_dir(&path).expect("mkdir cgroup");
        TestCgroup { path }
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.path);
    }
}

#[test]
fn cgroup_skb_counts_egress_of_a_child_in_its_cgroup() {
    if !kernel_available("cgroup_skb_counts_egress_of_a_child_in_its_cgroup") {
        return;
    }
    let pair = VethPair::new();
    let cgroup = TestCgroup::new();
    let egress = AttachType::CGROUP_INET_EGRESS as u32;
    let (map, prog) = counting_prog(8, egress, 1, "cg_egress");
    let target =
        AttachTarget::parse_for_section("cgroup_skb/egress", cgroup.path.to_str().unwrap())
            .unwrap();
    let link = attach(
        prog.as_fd(),
        &info(ProgramType::CGROUP_SKB, egress, "cgroup_skb/egress"),
        target,
    )
    .expect("attach cgroup_skb");
    let shown = run(
        "bpftool",
        &["cgroup", "show", cgroup.path.to_str().unwrap()],
    );
    assert!(shown.contains("cg_egress"), "{shown}");
    // A child joins the cgroup, enters namespace b and sends 6 datagrams to a.
    let script = format!(
        "echo $$ > {}/cgroup.procs && for i in 1 2 3 4 5 6; do echo x > /dev/udp/{ADDR_A}/9; done",
        cgroup.path.display()
    );
    let ns = format!("--net={}", pair.b.path().display());
    run("nsenter", &[&ns, "bash", "-c", &script]);
    let seen = read_u64(map.as_fd(), 0);
    assert!(seen >= 6, "cgroup egress saw {seen}");
    drop(link);
    let shown = run(
        "bpftool",
        &["cgroup", "show", cgroup.path.to_str().unwrap()],
    );
    assert!(shown.trim().is_empty(), "still attached: {shown}");
}

#[test]
fn dropping_a_link_detaches_even_while_a_copy_of_its_fd_is_open() {
    if !kernel_available("dropping_a_link_detaches_even_while_a_copy_of_its_fd_is_open") {
        return;
    }
    let cgroup = TestCgroup::new();
    let ingress = AttachType::CGROUP_INET_INGRESS as u32;
    let (_map, prog) = counting_prog(8, ingress, 1, "cg_copied");
    let target = AttachTarget::Cgroup(cgroup.path.clone());
    let link = attach(
        prog.as_fd(),
        &info(ProgramType::CGROUP_SKB, ingress, "cgroup_skb/ingress"),
        target,
    )
    .expect("attach");
    // What a child forked by another thread holds until it execs.
    let copy = link.bpf_link_fd().unwrap().try_clone_to_owned().unwrap();
    let cgroup_path = cgroup.path.to_str().unwrap();
    assert!(run("bpftool", &["cgroup", "show", cgroup_path]).contains("cg_copied"));
    drop(link);
    let shown = run("bpftool", &["cgroup", "show", cgroup_path]);
    assert!(
        shown.trim().is_empty(),
        "the copied fd kept it attached: {shown}"
    );
    drop(copy);
}

#[test]
fn cgroup_legacy_prog_attach_is_detached_on_drop() {
    if !kernel_available("cgroup_legacy_prog_attach_is_detached_on_drop") {
        return;
    }
    let cgroup = TestCgroup::new();
    let ingress = AttachType::CGROUP_INET_INGRESS as u32;
    let (_map, prog) = counting_prog(8, ingress, 1, "cg_legacy");
    let link = whistler_loader::attach::attach_cgroup_legacy(prog.as_fd(), ingress, &cgroup.path)
        .expect("prog_attach");
    assert_eq!(link.kind(), LinkKind::ProgAttach);
    let cgroup_path = cgroup.path.to_str().unwrap();
    let shown = run("bpftool", &["cgroup", "show", cgroup_path]);
    assert!(
        shown.contains("cg_legacy") && shown.contains("multi"),
        "{shown}"
    );
    link.detach().expect("BPF_PROG_DETACH");
    let shown = run("bpftool", &["cgroup", "show", cgroup_path]);
    assert!(shown.trim().is_empty(), "still attached: {shown}");
}

#[test]
fn cgroup_target_that_is_not_cgroup2_names_the_mount() {
    if !kernel_available("cgroup_target_that_is_not_cgroup2_names_the_mount") {
        return;
    }
    let (_map, prog) = counting_prog(8, 1, 1, "cg_wrong");
    let target = AttachTarget::Cgroup(PathBuf::from("/tmp"));
    let err = attach(
        prog.as_fd(),
        &info(ProgramType::CGROUP_SKB, 1, "cgroup_skb/egress"),
        target,
    )
    .unwrap_err()
    .to_string();
    let mount = whistler_loader::attach::cgroup2_mount_point().unwrap();
    assert!(
        err.contains(&format!("cgroup v2 is mounted at {}", mount.display())),
        "{err}"
    );
}

#[test]
fn socket_filter_drops_then_passes_after_detach() {
    if !kernel_available("socket_filter_drops_then_passes_after_detach") {
        return;
    }
    let (sender, receiver) = UnixDatagram::pair().unwrap();
    receiver.set_nonblocking(true).unwrap();
    let (pass_map, pass) = counting_prog(1, 0, 0xffff, "sf_pass");
    let (drop_map, dropper) = counting_prog(1, 0, 0, "sf_drop");
    let filter_info = info(ProgramType::SOCKET_FILTER, 0, "socket");
    let socket_target = || AttachTarget::Socket(OwnedFd::from(receiver.try_clone().unwrap()));
    let mut buf = [0u8; 16];

    let link = attach(pass.as_fd(), &filter_info, socket_target()).expect("attach pass");
    assert_eq!(link.kind(), LinkKind::SocketFilter);
    sender.send(b"one").unwrap();
    assert_eq!(receiver.recv(&mut buf).unwrap(), 3);
    drop(link);

    let link = attach(dropper.as_fd(), &filter_info, socket_target()).expect("attach drop");
    sender.send(b"two").unwrap();
    assert!(
        receiver.recv(&mut buf).is_err(),
        "the drop filter let a datagram through"
    );
    drop(link);

    sender.send(b"three").unwrap();
    assert_eq!(
        receiver.recv(&mut buf).unwrap(),
        5,
        "filter still attached after drop"
    );
    assert_eq!(read_u64(pass_map.as_fd(), 0), 1);
    assert_eq!(read_u64(drop_map.as_fd(), 0), 1);
}

const SK_PASS: i32 = 1;
const SK_ASSIGN: i32 = 124;
const SK_RELEASE: i32 = 86;

/// Assigns every lookup to the socket in `sockmap[0]`.
fn steer_to_sockmap(sockmap: BorrowedFd<'_>) -> Vec<Insn> {
    let mut code = vec![Insn::mov64_reg(Reg::R6, Reg::R1)];
    code.extend(lookup_or_skip(sockmap, 0, 7));
    code.extend([
        Insn::mov64_reg(Reg::R7, Reg::R0),
        Insn::mov64_reg(Reg::R1, Reg::R6),
        Insn::mov64_reg(Reg::R2, Reg::R7),
        Insn::mov64_imm(Reg::R3, 0),
        Insn::call_helper(SK_ASSIGN),
        Insn::mov64_reg(Reg::R1, Reg::R7),
        Insn::call_helper(SK_RELEASE),
        Insn::mov64_imm(Reg::R0, SK_PASS),
        Insn::exit(),
    ]);
    code
}

#[test]
fn sk_lookup_steers_a_connection_to_another_port() {
    if !kernel_available("sk_lookup_steers_a_connection_to_another_port") {
        return;
    }
    let ns = Netns::new();
    ns.run_inside(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let other_port = if port == 65535 { port - 1 } else { port + 1 };
        let sockmap = create_map(15, 4, 8, 1);
        let fd = std::os::fd::AsRawFd::as_raw_fd(&listener) as u64;
        whistler_loader::sys::bpf::map_update_elem(
            sockmap.as_fd(),
            &0u32.to_ne_bytes(),
            &fd.to_ne_bytes(),
            0,
        )
        .expect("sockmap update");
        let expected = AttachType::SK_LOOKUP as u32;
        let prog = load(30, expected, &steer_to_sockmap(sockmap.as_fd()), "sk_steer");
        let target = AttachTarget::parse_for_section("sk_lookup", "").unwrap();
        let link = attach(
            prog.as_fd(),
            &info(ProgramType::SK_LOOKUP, expected, "sk_lookup"),
            target,
        )
        .expect("attach sk_lookup");
        let stream = TcpStream::connect(("127.0.0.1", other_port)).expect("steered connect");
        let (_accepted, _) = listener.accept().unwrap();
        drop(stream);
        drop(link);
        let refused = TcpStream::connect(("127.0.0.1", other_port));
        assert!(refused.is_err(), "still steered after the link dropped");
    });
}

#[test]
fn flow_dissector_link_owns_the_namespace_hook_until_dropped() {
    if !kernel_available("flow_dissector_link_owns_the_namespace_hook_until_dropped") {
        return;
    }
    let ns = Netns::new();
    let path = ns.path();
    ns.run_inside(move || {
        let expected = AttachType::FLOW_DISSECTOR as u32;
        let ok = [Insn::mov64_imm(Reg::R0, 0), Insn::exit()];
        let first = load(22, expected, &ok, "flow_first");
        let second = load(22, expected, &ok, "flow_second");
        let info = info(ProgramType::FLOW_DISSECTOR, expected, "flow_dissector");
        let target = || AttachTarget::NetNs(path.clone());
        let link = attach(first.as_fd(), &info, target()).expect("attach flow_dissector");
        assert!(
            attach(second.as_fd(), &info, target()).is_err(),
            "a namespace holds one flow dissector"
        );
        drop(link);
        let link = attach(second.as_fd(), &info, target()).expect("the hook is free again");
        drop(link);
    });
}

const SK_DROP: i32 = 0;

#[test]
fn sk_msg_on_a_sockmap_drops_sends_and_detaches() {
    if !kernel_available("sk_msg_on_a_sockmap_drops_sends_and_detaches") {
        return;
    }
    let ns = Netns::new();
    ns.run_inside(|| {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let sockmap = create_map(15, 4, 8, 1);
        let expected = AttachType::SK_MSG_VERDICT as u32;
        let verdict = [Insn::mov64_imm(Reg::R0, SK_DROP), Insn::exit()];
        let prog = load(16, expected, &verdict, "msg_drop");
        let client_fd = client.as_raw_fd() as u64;
        let add = || {
            let fd = client_fd;
            whistler_loader::sys::bpf::map_update_elem(
                sockmap.as_fd(),
                &0u32.to_ne_bytes(),
                &fd.to_ne_bytes(),
                0,
            )
            .expect("sockmap update")
        };
        let remove = || {
            whistler_loader::sys::bpf::map_delete_elem(sockmap.as_fd(), &0u32.to_ne_bytes())
                .expect("sockmap delete")
        };
        let info = info(ProgramType::SK_MSG, expected, "sk_msg");
        let target = AttachTarget::SockMap(sockmap.try_clone().unwrap());
        let link = attach(prog.as_fd(), &info, target).expect("attach sk_msg");
        assert_eq!(link.kind(), LinkKind::ProgAttach);
        add();
        let err = client.write(b"dropped").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EACCES), "{err}");
        remove();
        link.detach().expect("BPF_PROG_DETACH");
        add(); // a socket added now gets no verdict program
        assert_eq!(client.write(b"passes").unwrap(), 6);
        remove();
    });
}
