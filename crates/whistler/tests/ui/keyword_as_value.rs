whistler::session! {
    pub struct S;
    (defprog p (:type :xdp :section "xdp" :license "GPL")
      (+ :foo 1))
}

fn main() {}
