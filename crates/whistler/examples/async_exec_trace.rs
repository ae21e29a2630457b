//! exec_trace with tokio: the `sched/sched_process_exec` tracepoint writes one record per exec
//! into a ring buffer, read as an async stream of typed records (feature `tokio`).
//!
//! `cargo run -p whistler --features tokio --example async_exec_trace -- [SECONDS]` (as root).

use std::time::Duration;

whistler::session! {
    pub struct AsyncExecTrace;
    (defstruct exec-event
      (pid u32)
      (pad u32)
      (ts u64))

    (defmap events :type :ringbuf :max-entries 65536)

    (defprog on-exec (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
      (with-ringbuf (ev events (sizeof exec-event))
        (setf (exec-event-pid ev) (cast u32 (ash (get-current-pid-tgid) -32))
              (exec-event-ts ev) (ktime-get-ns)))
      0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> whistler::Result<()> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut s = AsyncExecTrace::load()?;
    s.on_exec.attach_auto()?;
    let mut execs = s.events.stream::<ExecEvent>()?;
    println!("tracing execs for {seconds} s");
    let deadline = tokio::time::sleep(Duration::from_secs(seconds));
    tokio::pin!(deadline);
    let mut seen = 0u64;
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            record = execs.next() => match record {
                Some(ev) => {
                    let ev = ev?;
                    seen += 1;
                    println!("exec pid={} ts={}", ev.pid, ev.ts);
                }
                None => break,
            },
        }
    }
    println!("{seen} execs seen in {seconds} s");
    Ok(())
}
