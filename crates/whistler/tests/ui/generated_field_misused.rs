whistler::session! {
    pub struct Counter;
    (bpf:map pkt-count :type :array :key-size 4 :value-size 8 :max-entries 1)
    (bpf:prog count-egress (:type :cgroup-skb :section "cgroup_skb/egress" :license "GPL")
      (incf (getmap pkt-count 0))
      1)
}

fn main() -> whistler::Result<()> {
    let s = Counter::load()?;
    // The map's values are u64: a u32 cannot hold them.
    let count: Option<u32> = s.pkt_count.get(&0)?;
    let _ = count;
    Ok(())
}
