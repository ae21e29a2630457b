//! Shared test support: the execution corpus format and a runner that loads objects with
//! bpftool (libbpf) and runs programs with BPF_PROG_TEST_RUN.
//!
//! Corpus format: leading `;;` comment lines of a `.lisp` file, each a directive:
//! ```text
//! ;; test: prog=NAME [data=HEX] expect=N [out=HEX]
//! ;; map: NAME key=HEX value=HEX
//! ;; load-only
//! ```
//! `test` runs program NAME once on the packet DATA (default: 64 zero bytes) and checks the
//! return value and, if given, the output packet's first bytes. `map` checks an entry after all
//! tests ran (per-CPU maps: the sum over CPUs, as little-endian integers of the value's width).
//! `load-only` programs are loaded but not run (program types that cannot be test-run).
//! Program and map names are as libbpf sees them (`-` becomes `_`).

#![allow(dead_code)] // each test binary uses a different part

use std::path::PathBuf;
use std::process::Command;

#[derive(Debug, Default, Clone)]
pub struct Case {
    pub prog: String,
    pub data: Vec<u8>,
    pub expect: u64,
    pub out: Option<Vec<u8>>,
}

#[derive(Debug, Default, Clone)]
pub struct MapCheck {
    pub map: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

#[derive(Debug, Default, Clone)]
pub struct Spec {
    pub cases: Vec<Case>,
    pub maps: Vec<MapCheck>,
    pub load_only: bool,
}

pub fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect();
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd hex length: {s}"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("{s}: {e}")))
        .collect()
}

fn fields(rest: &str) -> Vec<(&str, &str)> {
    rest.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect()
}

pub fn parse_spec(text: &str) -> Result<Spec, String> {
    let mut spec = Spec::default();
    for line in text.lines() {
        let Some(d) = line.trim().strip_prefix(";;") else {
            if line.trim().is_empty() {
                continue;
            }
            break;
        };
        let d = d.trim();
        if let Some(rest) = d.strip_prefix("test:") {
            let mut c = Case {
                data: vec![0; 64],
                ..Case::default()
            };
            for (k, v) in fields(rest) {
                match k {
                    "prog" => c.prog = v.to_string(),
                    "data" => c.data = hex(v)?,
                    "expect" => {
                        c.expect = if let Some(h) = v.strip_prefix("0x") {
                            u64::from_str_radix(h, 16).map_err(|e| e.to_string())?
                        } else if let Some(n) = v.strip_prefix('-') {
                            (n.parse::<i64>().map_err(|e| e.to_string())?).wrapping_neg() as u64
                        } else {
                            v.parse().map_err(|e| format!("{v}: {e}"))?
                        }
                    }
                    "out" => c.out = Some(hex(v)?),
                    other => return Err(format!("unknown test field {other}")),
                }
            }
            spec.cases.push(c);
        } else if let Some(rest) = d.strip_prefix("map:") {
            let mut parts = rest.split_whitespace();
            let map = parts.next().ok_or("map: needs a name")?.to_string();
            let mut m = MapCheck {
                map,
                ..MapCheck::default()
            };
            for (k, v) in fields(rest) {
                match k {
                    "key" => m.key = hex(v)?,
                    "value" => m.value = hex(v)?,
                    other => return Err(format!("unknown map field {other}")),
                }
            }
            spec.maps.push(m);
        } else if d == "load-only" {
            spec.load_only = true;
        }
    }
    Ok(spec)
}

/// Whether kernel tests can run here (the workspace's rule, `whistler_testkit`), with the
/// bpffs mounted for pinning.
pub fn kernel_available(test: &str) -> bool {
    let available = whistler_testkit::kernel_available(test);
    if available {
        whistler_testkit::mount_bpffs();
    }
    available
}

/// A loaded object pinned under bpffs; unpinned on drop.
pub struct Pinned {
    pub progs: PathBuf,
    pub maps: PathBuf,
    obj: PathBuf,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.progs);
        let _ = std::fs::remove_dir_all(&self.maps);
        let _ = std::fs::remove_file(&self.obj);
    }
}

/// Loads an object with `bpftool prog loadall` (libbpf, strict mode).
pub fn load(elf: &[u8], tag: &str) -> Result<Pinned, String> {
    let unique = format!("whistler_exec_{}_{}", std::process::id(), tag);
    let obj = std::env::temp_dir().join(format!("{unique}.o"));
    std::fs::write(&obj, elf).map_err(|e| e.to_string())?;
    let pinned = Pinned {
        progs: PathBuf::from(format!("/sys/fs/bpf/{unique}")),
        maps: PathBuf::from(format!("/sys/fs/bpf/{unique}_maps")),
        obj: obj.clone(),
    };
    let out = Command::new("bpftool")
        .arg("prog")
        .arg("loadall")
        .arg(&obj)
        .arg(&pinned.progs)
        .arg("pinmaps")
        .arg(&pinned.maps)
        .output()
        .map_err(|e| format!("bpftool: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "bpftool prog loadall failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(pinned)
}

/// Runs a pinned program once; returns the return value and the output packet.
pub fn run(pinned: &Pinned, prog: &str, data: &[u8]) -> Result<(u64, Vec<u8>), String> {
    let dir = std::env::temp_dir();
    let tag = format!("{}_{}", std::process::id(), prog);
    let (din, dout) = (
        dir.join(format!("{tag}.in")),
        dir.join(format!("{tag}.out")),
    );
    std::fs::write(&din, data).map_err(|e| e.to_string())?;
    let out = Command::new("bpftool")
        .arg("prog")
        .arg("run")
        .arg("pinned")
        .arg(pinned.progs.join(prog))
        .arg("data_in")
        .arg(&din)
        .arg("data_out")
        .arg(&dout)
        .args(["repeat", "1"])
        .output()
        .map_err(|e| format!("bpftool: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Return value: "))
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.trim().parse::<i64>().ok().map(|v| v as u32 as u64))
        .ok_or_else(|| {
            format!(
                "bpftool prog run: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let packet = std::fs::read(&dout).unwrap_or_default();
    let _ = std::fs::remove_file(&din);
    let _ = std::fs::remove_file(&dout);
    Ok((value, packet))
}

/// Looks a map entry up; per-CPU maps yield every CPU's value.
pub fn lookup(pinned: &Pinned, map: &str, key: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut cmd = Command::new("bpftool");
    cmd.args(["-j", "map", "lookup", "pinned"])
        .arg(pinned.maps.join(map))
        .args(["key", "hex"]);
    for b in key {
        cmd.arg(format!("{b:02x}"));
    }
    let out = cmd.output().map_err(|e| format!("bpftool: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        return Err(format!(
            "map lookup {map}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(json_values(&text))
}

/// Extracts every `"value":[...]` byte list from bpftool's JSON.
fn json_values(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("\"value\":[") {
        rest = &rest[i + 9..];
        let end = rest.find(']').unwrap_or(rest.len());
        let bytes = rest[..end]
            .split(',')
            .filter_map(|b| {
                let b = b.trim().trim_matches('"');
                u8::from_str_radix(b.trim_start_matches("0x"), 16).ok()
            })
            .collect();
        out.push(bytes);
        rest = &rest[end..];
    }
    out
}

/// Sums per-CPU values as little-endian unsigned integers (wrapping at the value's width).
pub fn sum_le(values: &[Vec<u8>]) -> Vec<u8> {
    let width = values.first().map_or(0, Vec::len);
    let mut acc = vec![0u8; width];
    for v in values {
        let mut carry = 0u16;
        for (i, a) in acc.iter_mut().enumerate() {
            let s = *a as u16 + *v.get(i).unwrap_or(&0) as u16 + carry;
            *a = s as u8;
            carry = s >> 8;
        }
    }
    acc
}
