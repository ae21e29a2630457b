fn main() {
    let _ = whistler::with_bpf_session!({
        (defmap hits :type :array :key-size 4 :value-size 8 :max-entries 1)
        (defprog p (:type :xdp :section "xdp" :license "GPL")
          (incf (getmap hist 0))
          XDP_PASS)
    } |s| {
        s.hits.get(&0)
    });
}
