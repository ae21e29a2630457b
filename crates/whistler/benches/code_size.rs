//! Code size against clang: every program of the C twins (`common/twins.rs`) compiled by our
//! compiler and by `clang -O2 -target bpf` at the same `-mcpu`, with instructions (`ld_imm64`
//! counts one), 8-byte slots (it counts two), the instructions the verifier processed when
//! both objects are loaded into the running kernel (needs root; `-` where the kernel refuses
//! the program type), the ratios and totals, and both compilers' compile times measured in the
//! same run. Also totals our output over the compiler's kernel execution corpus (no C twins: a
//! regression guard for the optimizer). Reported, never asserted; the report is printed and
//! written to its section of `BENCHMARKS.md` at the repository root.
//!
//! `cargo bench -p whistler --bench code_size`

mod common;

use common::twins::{files_with_extension, host_cannot_load, load, pairs, verifier_processed};
use common::{clang_available, crate_dir, CPU};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;
use whistler_syntax::SourceFile;
use whistler_testkit::benchmarks::fastest;

/// Sizes of one program (or of `.text`, the subprograms programs call).
#[derive(Clone, Copy, Default)]
struct Size {
    insns: usize,
    slots: usize,
}

/// The size of every program of an object, by name, and of `.text` when it holds code.
fn sizes(elf: &[u8]) -> BTreeMap<String, Size> {
    let object = whistler_object::read::parse(elf).expect("a BPF object");
    let size = |insns: &[whistler_bpf::Insn]| Size {
        slots: insns.len(),
        insns: insns.len() - insns.iter().filter(|i| i.code == LD_IMM64).count(),
    };
    let mut sizes: BTreeMap<String, Size> = object
        .programs
        .iter()
        .map(|p| {
            let insns = &object.code_sections[p.code_section].insns;
            (
                p.name.clone(),
                size(&insns[p.insn_offset..p.insn_offset + p.insn_count]),
            )
        })
        .collect();
    for section in object.code_sections.iter().filter(|s| s.name == ".text") {
        if !section.insns.is_empty() {
            sizes.insert(".text".into(), size(&section.insns));
        }
    }
    sizes
}

/// The opcode of `ld_imm64`, the one instruction two slots wide.
const LD_IMM64: u8 = 0x18;

/// Verifier-processed instructions by program, or nothing when the object cannot be loaded here.
fn verified(elf: &[u8]) -> BTreeMap<String, u64> {
    if host_cannot_load(elf) {
        return BTreeMap::new();
    }
    load(elf)
        .map(|o| verifier_processed(&o))
        .unwrap_or_default()
}

fn ratio(a: usize, b: usize) -> String {
    if b == 0 {
        return "-".into();
    }
    format!("{:.2}", a as f64 / b as f64)
}

fn count(n: Option<u64>) -> String {
    n.map_or("-".into(), |n| n.to_string())
}

/// Instructions and slots over every program of the compiler's execution corpus.
fn corpus_total() -> (usize, Size) {
    let dir = crate_dir().join("../compiler/tests/corpus");
    let files = files_with_extension(&dir, "lisp");
    let mut total = Size::default();
    for f in &files {
        let file = SourceFile::new(
            f.file_name().unwrap().to_string_lossy(),
            std::fs::read_to_string(f).unwrap(),
        );
        let options = whistler_compiler::Options {
            cpu: CPU.parse().expect("a BPF cpu"),
            ..Default::default()
        };
        let mut host = whistler_compiler::lisp_host::standard_interp();
        let elf = whistler_compiler::compile_in_with(&file, options, &mut host)
            .unwrap_or_else(|e| panic!("{}: {e:?}", f.display()))
            .elf;
        for s in sizes(&elf).values() {
            total.insns += s.insns;
            total.slots += s.slots;
        }
    }
    (files.len(), total)
}

fn main() {
    if !clang_available() {
        println!("clang is not installed: no comparison");
        return;
    }
    let out_dir = std::env::temp_dir().join(format!("whistler-size-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut report = format!(
        "# Code size: whistler against clang -O2\n\n\
         Written by `cargo bench -p whistler --bench code_size`: each program of the C twins \
         (`crates/whistler/benches/size`, and `benches/c` for the examples), which the twins \
         test (`cargo test -p whistler --test twins`) runs on the same inputs to show identical \
         results. Both compilers at `-mcpu={CPU}`. *insns*: instructions (`ld_imm64` counts \
         one); *slots*: 8-byte slots (it counts two); *verified*: instructions the verifier \
         processed loading the object into this machine's kernel (`-`: a program type this \
         kernel refuses, or not run as root).\n\n\
         | pair | program | insns | clang | ratio | slots | clang | verified | clang |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    let (mut total, mut total_clang) = (Size::default(), Size::default());
    let (mut verified_total, mut verified_clang) = (0, 0);
    let (mut compile, mut compile_clang) = (Duration::ZERO, Duration::ZERO);
    let (mut over_target, mut pair_count) = (Vec::new(), 0);
    for pair in pairs() {
        pair_count += 1;
        let ours = pair.ours();
        let clangs = pair.clangs(&out_dir);
        compile += fastest(5, || drop(pair.ours()));
        compile_clang += fastest(3, || drop(pair.clangs(&out_dir)));
        let (a, b) = (sizes(&ours), sizes(&clangs));
        let (va, vb) = (verified(&ours), verified(&clangs));
        for (program, &s) in &a {
            let c = b.get(program).copied().unwrap_or_default();
            let (v, vc) = (va.get(program).copied(), vb.get(program).copied());
            total.insns += s.insns;
            total.slots += s.slots;
            total_clang.insns += c.insns;
            total_clang.slots += c.slots;
            if let (Some(v), Some(vc)) = (v, vc) {
                verified_total += v;
                verified_clang += vc;
            }
            if s.insns * 100 > c.insns * 90 {
                over_target.push(format!("{}/{program}", pair.name));
            }
            writeln!(
                report,
                "| {} | `{program}` | {} | {} | {} | {} | {} | {} | {} |",
                pair.name,
                s.insns,
                c.insns,
                ratio(s.insns, c.insns),
                s.slots,
                c.slots,
                count(v),
                count(vc),
            )
            .unwrap();
        }
        for program in b.keys().filter(|p| !a.contains_key(*p)) {
            let c = b[program];
            total_clang.insns += c.insns;
            total_clang.slots += c.slots;
            writeln!(
                report,
                "| {} | `{program}` | 0 | {} | 0.00 | 0 | {} | - | {} |",
                pair.name,
                c.insns,
                c.slots,
                count(vb.get(program).copied())
            )
            .unwrap();
        }
    }
    writeln!(
        report,
        "| **total** | | **{}** | **{}** | **{}** | **{}** | **{}** | **{verified_total}** | **{verified_clang}** |",
        total.insns,
        total_clang.insns,
        ratio(total.insns, total_clang.insns),
        total.slots,
        total_clang.slots,
    )
    .unwrap();
    writeln!(
        report,
        "\n{pair_count} pairs; programs above 0.90x of clang's instructions: {}.",
        if over_target.is_empty() {
            "none".to_string()
        } else {
            over_target.join(", ")
        }
    )
    .unwrap();
    writeln!(
        report,
        "\nCompile time of all {pair_count} pairs, the fastest of several runs each: whistler \
         {:.1} ms in process (a fresh macro host per program), clang {:.1} ms (a process per \
         file).",
        compile.as_secs_f64() * 1e3,
        compile_clang.as_secs_f64() * 1e3,
    )
    .unwrap();
    let (files, corpus) = corpus_total();
    writeln!(
        report,
        "\nThe compiler's execution corpus ({files} files, no C twins): {} instructions, {} slots.",
        corpus.insns, corpus.slots
    )
    .unwrap();
    print!("{report}");
    whistler_testkit::benchmarks::write_section(&report).unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);
}
