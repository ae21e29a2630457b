//! Serve system calls by name and their latency to Prometheus, next to the application's own
//! metrics: the Lisp declares the metrics (`defmetric`), `whistler::metrics` registers them in
//! the application's registry.
//!
//! `cargo run -p whistler --example syscall_metrics -- [ADDRESS]` (as root; default
//! 127.0.0.1:9435), then `curl ADDRESS/metrics`; Ctrl-C or SIGTERM stops it.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use whistler::metrics::{prometheus_client, Exporter};

whistler::session! {
    pub struct SyscallMetrics;
    include "../../../examples/lisp/syscall-metrics.lisp"
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:9435".into());
    let stop = whistler::stop_on_ctrl_c()?;
    let mut s = SyscallMetrics::load()?;
    s.on_enter.attach_auto()?;
    s.on_exit.attach_auto()?;

    // The application's own metrics and the session's, in one registry.
    let mut registry = Registry::default();
    let started = Counter::<u64>::default();
    registry.register(
        "example_starts",
        "Times this example started.",
        started.clone(),
    );
    started.inc();
    whistler::metrics::register(&s, &mut registry)?;

    let exporter = Exporter::bind(address.parse()?, registry)?;
    let address = exporter.local_addr().map_or(address, |a| a.to_string());
    println!("serving http://{address}/metrics");
    exporter.serve_until(&stop)?;
    Ok(())
}
