whistler::session! {
    pub struct S;
    (defstruct event (pid u32) (ts u64))
    (defprog p (:type :xdp :section "xdp" :license "GPL")
      (let ((e (make-event)))
        (event-pdi e)))
}

fn main() {}
