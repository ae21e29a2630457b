whistler::session! {
    pub struct S;
    (bpf:map counts :type :hash :key-size 4 :value-size 8 :max-entries 16)
    (bpf:prog p (:type :xdp :section "xdp" :license "GPL")
      (incf (getmap cuonts 1))
      XDP_PASS)
}

fn main() {}
