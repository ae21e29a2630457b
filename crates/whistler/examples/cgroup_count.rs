//! The seed's cgroup example: count egress packets of a cgroup, print the count every second.
//!
//! `cargo run --example cgroup_count -- [CGROUP_DIR] [SECONDS]` (as root). The cgroup defaults to
//! the root of the cgroup v2 hierarchy, wherever it is mounted.

// ANCHOR: all
whistler::session! {
    pub struct Counter;
    (bpf:map pkt-count :type :array :key-size 4 :value-size 8 :max-entries 1)
    (bpf:prog count-egress (:type :cgroup-skb :section "cgroup_skb/egress" :license "GPL")
      (incf (getmap pkt-count 0))
      1)
}

fn main() -> whistler::Result<()> {
    let mut args = std::env::args().skip(1);
    let cgroup = match args.next().filter(|dir| !dir.is_empty()) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => whistler::cgroup2_root()?,
    };
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let stop = whistler::stop_on_ctrl_c()?;

    let mut s = Counter::load()?;
    s.count_egress.attach(cgroup.as_path())?;
    println!(
        "counting egress packets of {} for {seconds} s",
        cgroup.display()
    );
    for _ in 0..seconds {
        if stop.sleep(std::time::Duration::from_secs(1)) {
            break;
        }
        println!("packets: {}", s.pkt_count.get(&0)?.unwrap_or(0));
    }
    Ok(())
}
// ANCHOR_END: all
