whistler::session! {
    pub struct S;
    (bpf:prog p (:type :xdp :section "xdp" :license "GPL")
      (if 1))
}

fn main() {}
