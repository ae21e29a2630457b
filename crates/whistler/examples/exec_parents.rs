//! Every exec with its parent's pid and the command name, read from the kernel's `task_struct`
//! through CO-RE: the offsets compiled in are the build machine's, and the loader rewrites them
//! for the kernel the binary runs on (tested on Debian's 6.1 kernel in a VM, built on another).
//!
//! `cargo run --example exec_parents -- [SECONDS]` (as root).

use std::time::Duration;

whistler::session! {
    pub struct ExecParents;
    (import-kernel-struct task-struct tgid real-parent comm)

    (whistler:defstruct exec-event
      (pid u32)
      (ppid u32)
      (comm (array u8 16)))

    (bpf:map events :type :ringbuf :max-entries 16384)

    (bpf:prog on-exec (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
      (let* ((task (get-current-task))
             (parent (task-struct-real-parent task)))
        (with-ringbuf (ev events (sizeof exec-event))
          (setf (exec-event-pid ev) (task-struct-tgid task)
                (exec-event-ppid ev) (task-struct-tgid parent))
          (probe-read-kernel (exec-event-comm-ptr ev) 16 (task-struct-comm task))))
      0)
}

fn main() -> whistler::Result<()> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let stop = whistler::stop_on_ctrl_c()?;
    let mut s = ExecParents::load()?;
    s.on_exec.attach_auto()?;
    println!("tracing execs for {seconds} s");
    let mut consumer = s.events.consumer(|ev: &ExecEvent| {
        let comm = ev.comm.split(|&b| b == 0).next().unwrap_or(&[]);
        let comm = String::from_utf8_lossy(comm);
        println!("exec pid={} ppid={} comm={comm}", ev.pid, ev.ppid);
    })?;
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    while !stop.is_set() && std::time::Instant::now() < deadline {
        consumer.poll(Duration::from_millis(100))?;
    }
    Ok(())
}
