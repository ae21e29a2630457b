whistler::session! {
    pub struct S;
    (defprog p (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
      (get-current-pid-tigd)
      0)
}

fn main() {}
