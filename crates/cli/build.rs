//! Links the `whistler` binary as a fixed-address executable (not position-independent): a
//! position-independent one makes the dynamic loader apply ~20,000 relocations at every start,
//! writing to (and so copying) about 100 pages of the binary, a sixth of what starting the
//! process costs before any work; a compile of a small program is only a millisecond or so.
//! Libraries, tests and proc-macros are built as before: the flag applies to this binary only.
//!
//! A static build (`-C target-feature=+crt-static`, as the VM tests make) is left alone: rustc
//! links it `-static-pie`, and adding `-no-pie` would turn it into a dynamically linked binary
//! that needs a loader the static build is meant to do without.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux");
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let static_build = features.split(',').any(|f| f == "crt-static");
    if linux && !static_build {
        println!("cargo:rustc-link-arg-bin=whistler=-no-pie");
    }
}
