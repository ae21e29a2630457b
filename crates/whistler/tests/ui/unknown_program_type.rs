whistler::session! {
    pub struct S;
    (defprog p (:type :xpd :license "GPL")
      0)
}

fn main() {}
