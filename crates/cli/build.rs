//! Links the `whistler` binary for a fast start: a compile of a small program is only a
//! millisecond or so, and starting the process was most of it.
//!
//! - Fixed-address (`-no-pie`): a position-independent binary makes the dynamic loader apply
//!   ~20,000 relocations at every start, writing to (and so copying) about 100 pages of the
//!   binary.
//! - Static C library (glibc targets, when the static archives are installed): a dynamically
//!   linked binary spends about a fifth of `whistler --version` in the dynamic loader (mapping
//!   libc, libm and libgcc_s, resolving their symbols, its own CPU feature probe), and more in
//!   the kernel mapping them. rustc links the C libraries as `-Bdynamic -lgcc_s ... -lc` and a
//!   build script cannot change that list, so the binary's link gets a directory searched first
//!   (`-L`, which applies to every `-l`) holding static stand-ins of those names: `libc.a` and
//!   `libgcc_s.a` are linker scripts naming glibc's and libgcc's archives, the others link to
//!   glibc's archives; with `-static` the C compiler driver uses the static start files and no
//!   program interpreter. When an archive is missing (no `libc6-dev` static libraries, another
//!   C compiler) or the build is a cross build, the binary is linked dynamically as before.
//!
//! Libraries, tests and proc-macros are built as before: the flags apply to this binary only.
//! A static build (`-C target-feature=+crt-static`, as the VM tests make) is left alone: rustc
//! links it `-static-pie`, and adding `-no-pie` would turn it into a dynamically linked binary
//! that needs a loader the static build is meant to do without.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The C libraries rustc links a glibc binary with, besides `libc` and `libgcc_s`.
const PLAIN_LIBRARIES: [&str; 5] = ["m", "pthread", "dl", "rt", "util"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let static_build = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if var("CARGO_CFG_TARGET_OS") != "linux" || static_build {
        link_is(if static_build {
            "static-pie"
        } else {
            "default"
        });
        return;
    }
    println!("cargo:rustc-link-arg-bin=whistler=-no-pie");
    if var("CARGO_CFG_TARGET_ENV") != "gnu" || var("TARGET") != var("HOST") {
        link_is("dynamic");
        return;
    }
    let compiler = std::env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".to_owned());
    let out_dir = PathBuf::from(var("OUT_DIR"));
    match static_stand_ins(&compiler, &out_dir.join("static-c-libraries")) {
        Some(dir) => {
            println!("cargo:rustc-link-arg-bin=whistler=-static");
            println!("cargo:rustc-link-arg-bin=whistler=-L{}", dir.display());
            link_is("static");
        }
        None => {
            println!(
                "cargo:warning=static C libraries not found by {compiler}: whistler is linked \
                 dynamically (it starts slower)"
            );
            link_is("dynamic");
        }
    }
}

/// Tells the package's tests how the binary is linked: `static` and `dynamic` (both
/// fixed-address), `static-pie`, or `default` (not Linux).
fn link_is(how: &str) {
    println!("cargo:rustc-env=WHISTLER_BINARY_LINK={how}");
}

/// Writes the stand-ins into `dir` and returns it, or `None` when an archive is missing.
fn static_stand_ins(compiler: &str, dir: &Path) -> Option<PathBuf> {
    let libc = archive(compiler, "libc.a")?;
    let libgcc = archive(compiler, "libgcc.a")?;
    let libgcc_eh = archive(compiler, "libgcc_eh.a")?;
    let plain: Vec<(String, PathBuf)> = PLAIN_LIBRARIES
        .iter()
        .map(|name| {
            let file = format!("lib{name}.a");
            archive(compiler, &file).map(|path| (file, path))
        })
        .collect::<Option<_>>()?;
    std::fs::create_dir_all(dir).ok()?;
    // A group, so each archive's references into the others resolve whatever the order.
    let group = |paths: [&Path; 3]| {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        format!("GROUP ( {} )\n", names.join(" "))
    };
    std::fs::write(dir.join("libc.a"), group([&libc, &libgcc, &libgcc_eh])).ok()?;
    std::fs::write(dir.join("libgcc_s.a"), group([&libgcc_eh, &libgcc, &libc])).ok()?;
    for (file, path) in plain {
        std::fs::write(dir.join(file), format!("INPUT ( {} )\n", path.display())).ok()?;
    }
    Some(dir.to_owned())
}

/// Where the C compiler finds archive `file`, if it does.
fn archive(compiler: &str, file: &str) -> Option<PathBuf> {
    let out = Command::new(compiler)
        .arg(format!("-print-file-name={file}"))
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    // Not found, the driver prints the name back unchanged.
    (out.status.success() && path.is_absolute() && path.exists()).then_some(path)
}
