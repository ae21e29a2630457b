//! Links the `whistler` binary as a fixed-address executable (not position-independent): a
//! position-independent one makes the dynamic loader apply ~20,000 relocations at every start,
//! writing to (and so copying) about 100 pages of the binary, a sixth of what starting the
//! process costs before any work; a compile of a small program is only a millisecond or so.
//! Libraries, tests and proc-macros are built as before: the flag applies to this binary only.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=whistler=-no-pie");
    }
}
