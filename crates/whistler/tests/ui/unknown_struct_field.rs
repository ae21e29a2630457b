whistler::session! {
    pub struct S;
    (defstruct event (pid u32) (ts u64))
    (defmap events :type :ringbuf :max-entries 4096)
    (defprog p (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
      (with-ringbuf (ev events (sizeof event))
        (setf (event-pdi ev) 1))
      0)
}

fn main() {}
