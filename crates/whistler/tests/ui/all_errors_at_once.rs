whistler::session! {
    pub struct S;
    (defmap m :type :array :key-size 4 :value-size 8 :max-entries 1)
    (defprog p (:type :xdp :section "xdp" :license "GPL")
      (incf (getmap mm 0))
      (+ cuont 1)
      XDP_PASS)
}

fn main() {}
