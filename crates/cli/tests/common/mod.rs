//! What the CLI's test files share: the CAP_BPF check.

/// True when the process may load BPF; otherwise prints a skip (or fails under
/// WHISTLER_REQUIRE_KERNEL=1).
pub fn kernel_available(test: &str) -> bool {
    const CAP_BPF: u32 = 39;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let caps = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    if caps & (1 << CAP_BPF) != 0 {
        return true;
    }
    assert!(
        std::env::var("WHISTLER_REQUIRE_KERNEL").as_deref() != Ok("1"),
        "{test}: needs CAP_BPF"
    );
    eprintln!("skipped {test}: needs CAP_BPF");
    false
}
