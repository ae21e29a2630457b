whistler::session! {
    pub struct S;
    (defprog p (:type :xdp :sectoin "xdp" :license "GPL")
      XDP_PASS)
}

fn main() {}
