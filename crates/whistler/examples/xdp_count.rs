//! Count packets arriving on an interface with XDP, by IP protocol, and drop nothing.
//!
//! `cargo run --example xdp_count -- IFACE [SECONDS]` (as root). The test suite runs it on a veth
//! pair in network namespaces of its own.

use std::time::Duration;

whistler::session! {
    pub struct XdpCount;
    (bpf:map by-proto :type :percpu-array :key-size 4 :value-size 8 :max-entries 256)
    (bpf:map total :type :array :key-size 4 :value-size 8 :max-entries 1)
    (bpf:prog count-packets (:type :xdp :section "xdp" :license "GPL")
      (let ((data (xdp-data))
            (data-end (xdp-data-end)))
        (incf (getmap total 0))
        (when (<= (+ data 34) data-end)
          (when (= (ntohs (load u16 data 12)) ETH_P_IP)
            (incf (getmap by-proto (load u8 data 23))))))
      XDP_PASS)
}

fn main() -> whistler::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(iface) = args.next() else {
        eprintln!("usage: xdp_count IFACE [SECONDS]");
        std::process::exit(2);
    };
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let stop = whistler::stop_on_ctrl_c()?;
    let mut s = XdpCount::load()?;
    s.count_packets.attach(iface.as_str())?;
    println!("counting packets on {iface} for {seconds} s");
    for _ in 0..seconds {
        if stop.sleep(Duration::from_secs(1)) {
            break;
        }
        let per_proto = |p: u32| -> whistler::Result<u64> {
            Ok(s.by_proto.get(&p)?.map_or(0, |v| v.iter().sum()))
        };
        println!(
            "packets: {} icmp: {} tcp: {} udp: {}",
            s.total.get(&0)?.unwrap_or(0),
            per_proto(1)?,
            per_proto(6)?,
            per_proto(17)?
        );
    }
    Ok(())
}
