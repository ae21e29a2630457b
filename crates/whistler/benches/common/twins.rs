//! The C twins: programs written twice with identical behaviour, once in our Lisp and once in C
//! for clang. Used by the code-size bench (sizes, verifier work, compile times) and by the
//! twins test (the same inputs through BPF_PROG_TEST_RUN give the same results).
//!
//! A pair is `benches/size/NAME.lisp` with `NAME.c`, or an example's `session!` Lisp with
//! `benches/c/NAME.c`. The C file's leading comment says how to run the pair:
//! ```text
//! // run: prog=PROGRAM [data=INPUT] [ctx=INPUT]   one BPF_PROG_TEST_RUN, in order
//! // fill: MAP key=HEX value=HEX                  an entry stored before the runs
//! // slot: PROG-ARRAY INDEX PROGRAM              a tail-call target stored before the runs
//! ```
//! INPUT names a line of `benches/size/inputs.txt`. Pairs without `run:` lines (program types
//! BPF_PROG_TEST_RUN does not support) are only loaded.

use super::{clang_once, crate_dir, session_lisp, CPU};
use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use whistler_bpf::MapType;
use whistler_loader::{LoadOptions, Object, TestRun, UpdateFlags};
use whistler_syntax::SourceFile;

pub struct Pair {
    pub name: String,
    pub lisp: String,
    pub c_file: PathBuf,
}

#[derive(Debug, Default)]
pub struct Spec {
    pub runs: Vec<Run>,
    pub fills: Vec<(String, Vec<u8>, Vec<u8>)>,
    pub slots: Vec<(String, u32, String)>,
}

#[derive(Debug, Default)]
pub struct Run {
    pub prog: String,
    pub data: Vec<u8>,
    pub ctx: Vec<u8>,
}

/// Every pair, by name.
pub fn pairs() -> Vec<Pair> {
    let mut pairs = Vec::new();
    for c_file in files_with_extension(&crate_dir().join("benches/c"), "c") {
        let name = stem(&c_file);
        pairs.push(Pair {
            lisp: session_lisp(&name),
            name,
            c_file,
        });
    }
    for lisp_file in files_with_extension(&crate_dir().join("benches/size"), "lisp") {
        pairs.push(Pair {
            name: stem(&lisp_file),
            lisp: std::fs::read_to_string(&lisp_file).unwrap(),
            c_file: lisp_file.with_extension("c"),
        });
    }
    pairs.sort_by(|a, b| a.name.cmp(&b.name));
    pairs
}

pub fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The named inputs of `benches/size/inputs.txt`.
fn inputs() -> BTreeMap<String, Vec<u8>> {
    let text = std::fs::read_to_string(crate_dir().join("benches/size/inputs.txt")).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, bytes) = l.split_once(' ').expect("NAME HEX");
            (name.to_string(), hex(bytes.trim()))
        })
        .collect()
}

impl Pair {
    /// The directives at the top of the C file.
    pub fn spec(&self) -> Spec {
        let text = std::fs::read_to_string(&self.c_file).unwrap();
        let inputs = inputs();
        let input = |name: &str| {
            inputs
                .get(name)
                .unwrap_or_else(|| panic!("{}: no input named {name}", self.name))
                .clone()
        };
        let mut spec = Spec::default();
        for line in text.lines().map_while(|l| l.strip_prefix("//")) {
            let line = line.trim();
            let fields = |rest: &str| -> BTreeMap<String, String> {
                rest.split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            };
            if let Some(rest) = line.strip_prefix("run:") {
                let f = fields(rest);
                spec.runs.push(Run {
                    prog: f["prog"].clone(),
                    data: f.get("data").map(|d| input(d)).unwrap_or_default(),
                    ctx: f.get("ctx").map(|c| input(c)).unwrap_or_default(),
                });
            } else if let Some(rest) = line.strip_prefix("fill:") {
                let map = rest.split_whitespace().next().expect("fill: MAP");
                let f = fields(rest);
                spec.fills
                    .push((map.to_string(), hex(&f["key"]), hex(&f["value"])));
            } else if let Some(rest) = line.strip_prefix("slot:") {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let [map, index, prog] = words[..] else {
                    panic!("{}: slot: MAP INDEX PROGRAM", self.name)
                };
                spec.slots
                    .push((map.into(), index.parse().unwrap(), prog.into()));
            }
        }
        spec
    }

    /// Our object, compiled for [`CPU`] with the standard macro library.
    pub fn ours(&self) -> Vec<u8> {
        let file = SourceFile::new(format!("{}.lisp", self.name), self.lisp.clone());
        let options = whistler_compiler::Options {
            cpu: CPU.parse().expect("a BPF cpu"),
            ..Default::default()
        };
        let mut host = whistler_compiler::lisp_host::standard_interp();
        match whistler_compiler::compile_in_with(&file, options, &mut host) {
            Ok(compiled) => compiled.elf,
            Err(errors) => panic!("{}: does not compile: {errors:?}", self.name),
        }
    }

    /// Clang's object (`clang -O2` at [`CPU`]), built in `out_dir`.
    pub fn clangs(&self, out_dir: &Path) -> Vec<u8> {
        let out = out_dir.join(format!("{}.o", self.name));
        clang_once(&self.c_file, &out);
        std::fs::read(out).unwrap()
    }
}

/// Program types the host kernel refuses to load (trampolines: fentry, fexit, lsm); they are
/// compared by size only.
pub fn host_cannot_load(elf: &[u8]) -> bool {
    let object = whistler_object::read::parse(elf).expect("a BPF object");
    object.programs.iter().any(|p| {
        ["fentry/", "fexit/", "fmod_ret/", "lsm/"]
            .iter()
            .any(|prefix| p.section.starts_with(prefix))
    })
}

/// Loads an object with the verifier's statistics (log level 4, `BPF_LOG_STATS`).
pub fn load(elf: &[u8]) -> Result<Object, String> {
    Object::load(elf, &LoadOptions::new().log_level(4)).map_err(|e| e.to_string())
}

/// The instructions the verifier processed, by program name.
pub fn verifier_processed(object: &Object) -> BTreeMap<String, u64> {
    object
        .programs()
        .filter_map(|p| {
            let log = p.verifier_log()?;
            let n = log
                .lines()
                .find_map(|l| l.strip_prefix("processed "))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            Some((p.name().to_string(), n))
        })
        .collect()
}

/// What one test run gave.
#[derive(Debug, PartialEq, Eq)]
pub struct RunResult {
    pub prog: String,
    pub retval: u32,
    pub data_out: Vec<u8>,
    pub ctx_out: Vec<u8>,
}

/// Everything a pair's runs can be compared on: each run's result, then every map's contents.
#[derive(Debug, PartialEq, Eq)]
pub struct Observation {
    pub runs: Vec<RunResult>,
    pub maps: BTreeMap<String, Vec<Vec<u8>>>,
}

/// Fills the maps and program-array slots, runs every `run:` line in order and reads back
/// every map.
pub fn observe(object: &Object, spec: &Spec) -> Result<Observation, String> {
    for (map, key, value) in &spec.fills {
        let m = object.map(map).ok_or(format!("no map {map}"))?;
        m.update(key, value, UpdateFlags::Any)
            .map_err(|e| format!("fill {map}: {e}"))?;
    }
    for (map, index, prog) in &spec.slots {
        object
            .set_program_array_slot(map, *index, prog)
            .map_err(|e| format!("slot {map}[{index}]: {e}"))?;
    }
    let mut runs = Vec::new();
    for run in &spec.runs {
        let prog = object
            .program(&run.prog)
            .ok_or(format!("no program {}", run.prog))?;
        let out = prog
            .test_run(TestRun {
                data_in: &run.data,
                data_out_capacity: if run.data.is_empty() {
                    0
                } else {
                    run.data.len() + 256
                },
                ctx_in: &run.ctx,
                // Packet programs hand the context back; raw tracepoints refuse a context out.
                ctx_out_capacity: if run.data.is_empty() {
                    0
                } else {
                    run.ctx.len()
                },
                repeat: 0,
            })
            .map_err(|e| format!("run {}: {e}", run.prog))?;
        runs.push(RunResult {
            prog: run.prog.clone(),
            retval: out.retval,
            data_out: out.data_out,
            ctx_out: out.ctx_out,
        });
    }
    let mut maps = BTreeMap::new();
    for map in object.maps() {
        if let Some(contents) = contents(map)? {
            maps.insert(map.name().to_string(), contents);
        }
    }
    Ok(Observation { runs, maps })
}

/// A map's contents as comparable records: key and value of every entry in key order (per-CPU
/// values summed over CPUs in 8-byte lanes), the values of a queue or stack in pop order, the
/// records of a ring buffer; `None` for maps of program or event fds and for constants (maps
/// programs only read, such as `.rodata`).
fn contents(map: &whistler_loader::Map) -> Result<Option<Vec<Vec<u8>>>, String> {
    let err = |e: whistler_loader::MapError| format!("map {}: {e}", map.name());
    let kind = map.info().kind();
    if kind == Some(MapType::PROG_ARRAY)
        || kind == Some(MapType::PERF_EVENT_ARRAY)
        || map.info().read_only_for_programs()
    {
        return Ok(None);
    }
    let mut records = Vec::new();
    if kind == Some(MapType::RINGBUF) {
        let mut ring = whistler_loader::ringbuf::RingBuffer::open(map.as_fd(), |r: &[u8]| {
            records.push(r.to_vec())
        })
        .map_err(|e| format!("ring {}: {e}", map.name()))?;
        ring.consume();
        drop(ring);
        return Ok(Some(records));
    }
    if kind == Some(MapType::QUEUE) || kind == Some(MapType::STACK) {
        while let Some(value) = map.pop().map_err(err)? {
            records.push(value);
        }
        return Ok(Some(records));
    }
    let mut keys: Vec<Vec<u8>> = map.keys().collect::<Result<_, _>>().map_err(err)?;
    keys.sort();
    for key in keys {
        let value = if map.is_per_cpu() {
            let values = map.lookup_per_cpu(&key).map_err(err)?.unwrap_or_default();
            sum_lanes(&values)
        } else {
            map.lookup(&key).map_err(err)?.unwrap_or_default()
        };
        records.push([key, value].concat());
    }
    Ok(Some(records))
}

/// Per-CPU values summed as little-endian u64 lanes (the twins' per-CPU values are counters).
fn sum_lanes(values: &[Vec<u8>]) -> Vec<u8> {
    let width = values.first().map_or(0, Vec::len);
    let mut sum = vec![0u8; width];
    for lane in (0..width).step_by(8) {
        let end = (lane + 8).min(width);
        let total = values.iter().fold(0u64, |acc, v| {
            let mut bytes = [0u8; 8];
            bytes[..end - lane].copy_from_slice(&v[lane..end]);
            acc.wrapping_add(u64::from_le_bytes(bytes))
        });
        sum[lane..end].copy_from_slice(&total.to_le_bytes()[..end - lane]);
    }
    sum
}
