//! Execution tests: every program of `tests/corpus/*.lisp` is compiled, loaded into the running
//! kernel with bpftool (libbpf strict mode: the libbpf-compatibility check) and run with
//! BPF_PROG_TEST_RUN; return values, output packets and map contents are checked against the
//! directives at the top of each file (format in `common/mod.rs`).

mod common;

use std::path::PathBuf;
use whistler_compiler::lisp_host::standard_interp;
use whistler_compiler::{compile_in_with, Cpu, Options};
use whistler_syntax::{render, SourceFile};

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "lisp"))
        .collect();
    files.sort();
    files
}

fn run_file(path: &PathBuf, index: usize, cpu: Cpu) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let spec = common::parse_spec(&text)?;
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let file = SourceFile::new(name, text);
    let options = Options {
        cpu,
        ..Options::default()
    };
    let compiled = compile_in_with(&file, options, &mut standard_interp()).map_err(|ds| {
        ds.iter()
            .map(|d| render(&file, d))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    if cpu == Cpu::V1 {
        check_v1_only(&compiled)?;
    }
    let pinned = common::load(&compiled.elf, &format!("{index}_{cpu:?}"))?;
    if spec.load_only {
        return Ok(0);
    }
    if spec.cases.is_empty() {
        return Err("no `;; test:` directive".into());
    }
    for c in &spec.cases {
        let (value, packet) = common::run(&pinned, &c.prog, &c.data)?;
        if value != c.expect {
            return Err(format!(
                "{}: returned {value}, expected {}",
                c.prog, c.expect
            ));
        }
        if let Some(out) = &c.out {
            if !packet.starts_with(out) {
                return Err(format!(
                    "{}: output packet {packet:02x?}, expected it to start with {out:02x?}",
                    c.prog
                ));
            }
        }
    }
    for m in &spec.maps {
        let mut values = common::lookup(&pinned, &m.map, &m.key)?;
        if values.len() > 1 {
            values = vec![common::sum_le(&values)];
        }
        if !values.contains(&m.value) {
            return Err(format!(
                "map {} key {:02x?}: found {values:02x?}, expected {:02x?}",
                m.map, m.key, m.value
            ));
        }
    }
    Ok(spec.cases.len())
}

/// No `<`/`<=` jumps, which the v1 instruction set lacks, and no constants in `.rodata`, which
/// kernels before 5.2 cannot load.
fn check_v1_only(compiled: &whistler_compiler::Compiled) -> Result<(), String> {
    use whistler_bpf::opcode::*;
    for p in &compiled.spec.programs {
        if !p.data_relocs.is_empty() {
            return Err(format!("{}: reads constants from `.rodata` at v1", p.name));
        }
        for (k, i) in p.insns.iter().enumerate() {
            let less = matches!(i.code & 0xf0, BPF_JLT | BPF_JLE | BPF_JSLT | BPF_JSLE);
            if matches!(class(i.code), BPF_JMP | BPF_JMP32) && less {
                return Err(format!("{}: instruction {k} is not in v1", p.name));
            }
        }
    }
    Ok(())
}

fn run_corpus(test: &str, cpu: Cpu) {
    if !common::kernel_available(test) {
        return;
    }
    let files = corpus();
    assert!(
        files.len() >= 60,
        "the corpus should hold at least 60 programs, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    let mut cases = 0;
    for (i, f) in files.iter().enumerate() {
        match run_file(f, i, cpu) {
            Ok(n) => cases += n,
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed at {cpu:?}:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
    eprintln!("{} files, {cases} test runs passed at {cpu:?}", files.len());
}

/// At the default instruction set, then for v1 (which must give the same results). One test:
/// the runs share temporary file names.
#[test]
fn corpus_runs_in_the_kernel() {
    run_corpus("corpus_runs_in_the_kernel", Cpu::default());
    run_corpus("corpus_runs_in_the_kernel", Cpu::V1);
}
