//! Count calls of a user-space function with a uprobe and a uretprobe: by default a function of
//! this very program, called a known number of times; or any `BINARY SYMBOL` given.
//!
//! `cargo run --example uprobe_count -- [BINARY SYMBOL [SECONDS]]` (as root).

use std::time::Duration;

whistler::session! {
    pub struct Calls;
    (bpf:map calls :type :array :key-size 4 :value-size 8 :max-entries 2)
    (bpf:prog on-entry (:type :kprobe :section "uprobe" :license "GPL")
      (incf (getmap calls 0))
      0)
    (bpf:prog on-return (:type :kprobe :section "uretprobe" :license "GPL")
      (incf (getmap calls 1))
      0)
}

/// The default probe target.
// An unmangled symbol is how a uprobe finds the function by name; nothing else links against it.
#[allow(unsafe_code)]
#[no_mangle]
#[inline(never)]
pub extern "C" fn whistler_example_work(n: u64) -> u64 {
    std::hint::black_box(n.wrapping_mul(2654435761))
}

fn main() -> whistler::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stop = whistler::stop_on_ctrl_c()?;
    let mut s = Calls::load()?;
    if let [binary, symbol, rest @ ..] = args.as_slice() {
        let seconds: u64 = rest.first().and_then(|s| s.parse().ok()).unwrap_or(10);
        s.on_entry.attach((binary.as_str(), symbol.as_str()))?;
        s.on_return.attach((binary.as_str(), symbol.as_str()))?;
        println!("counting calls of {symbol} in {binary} for {seconds} s");
        for _ in 0..seconds {
            if stop.sleep(Duration::from_secs(1)) {
                break;
            }
            println!(
                "entries: {} returns: {}",
                s.calls.get(&0)?.unwrap_or(0),
                s.calls.get(&1)?.unwrap_or(0)
            );
        }
        return Ok(());
    }
    let me = std::env::current_exe()?;
    let me = me.to_str().expect("the executable's path is UTF-8");
    s.on_entry.attach((me, "whistler_example_work"))?;
    s.on_return.attach((me, "whistler_example_work"))?;
    for i in 0..1000 {
        whistler_example_work(i);
    }
    println!("called whistler_example_work 1000 times");
    println!(
        "entries: {} returns: {}",
        s.calls.get(&0)?.unwrap_or(0),
        s.calls.get(&1)?.unwrap_or(0)
    );
    Ok(())
}
