//! The seed's kprobe example: a ring buffer of `call-event` records, one per execve, decoded and
//! printed as they arrive. Where the kernel has no kprobes (CONFIG_KPROBES off) it says so and
//! uses the `sched/sched_process_exec` tracepoint instead.
//!
//! `cargo run --example exec_trace -- [SECONDS]` (as root).

use std::time::Duration;

// ANCHOR: session
whistler::session! {
    pub struct ExecTrace;
    (whistler:defstruct call-event
      (pid u32)
      (ts u64))

    (bpf:map events :type :ringbuf :max-entries 4096)

    (bpf:prog trace-exec (:type :kprobe :section "kprobe/__x64_sys_execve" :license "GPL")
      (with-ringbuf (ev events (sizeof call-event))
        (setf (call-event-pid ev) (cast u32 (ash (get-current-pid-tgid) -32))
              (call-event-ts ev) (ktime-get-ns)))
      0)

    (bpf:prog trace-exec-tp (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
      (with-ringbuf (ev events (sizeof call-event))
        (setf (call-event-pid ev) (cast u32 (ash (get-current-pid-tgid) -32))
              (call-event-ts ev) (ktime-get-ns)))
      0)
}
// ANCHOR_END: session

fn main() -> whistler::Result<()> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let stop = whistler::stop_on_ctrl_c()?;
    let mut s = ExecTrace::load()?;
    match s.trace_exec.attach("__x64_sys_execve") {
        Ok(_) => println!("tracing execve with kprobe/__x64_sys_execve for {seconds} s"),
        Err(e) if e.is_unsupported() => {
            println!("this kernel has no kprobes ({e}); using tracepoint sched/sched_process_exec instead");
            s.trace_exec_tp.attach_auto()?;
            println!("tracing execs with tracepoint/sched/sched_process_exec for {seconds} s");
        }
        Err(e) => return Err(e.into()),
    }
    // ANCHOR: consumer
    let mut seen = 0u64;
    let mut consumer = s.events.consumer(|ev: &CallEvent| {
        seen += 1;
        println!("exec pid={} ts={}", ev.pid, ev.ts);
    })?;
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    while !stop.is_set() && std::time::Instant::now() < deadline {
        consumer.poll(Duration::from_millis(200))?;
    }
    // ANCHOR_END: consumer
    drop(consumer);
    println!("{seen} execs seen in {seconds} s");
    Ok(())
}
