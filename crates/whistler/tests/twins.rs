//! The C twins behave alike: each pair (our Lisp and its C twin, `benches/common/twins.rs`)
//! is compiled by our compiler and by clang, both objects are loaded into the running kernel
//! with our loader, and each pair's runs (BPF_PROG_TEST_RUN on the same packets and contexts)
//! must give the same return values, output packets, output contexts and map contents. Pairs
//! of program types that cannot be test-run are loaded only (the verifier accepts both); the
//! program types this kernel refuses (fentry, lsm) are compiled only. Prints the verifier's
//! processed-instruction counts of both objects.

#[path = "../benches/common/mod.rs"]
mod common;

use common::twins::{host_cannot_load, load, observe, pairs, verifier_processed};

#[test]
fn twins_behave_alike() {
    if !whistler_testkit::kernel_available("twins_behave_alike") || !common::clang_available() {
        return;
    }
    let out_dir = std::env::temp_dir().join(format!("whistler-twins-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for pair in pairs() {
        let spec = pair.spec();
        let (ours, clangs) = (pair.ours(), pair.clangs(&out_dir));
        if host_cannot_load(&ours) {
            println!(
                "{}: compiled only (this kernel refuses the program type)",
                pair.name
            );
            continue;
        }
        let mut check = || -> Result<(), String> {
            let a = load(&ours).map_err(|e| format!("ours does not load: {e}"))?;
            let b = load(&clangs).map_err(|e| format!("clang's does not load: {e}"))?;
            let names = |o: &whistler_loader::Object| -> Vec<String> {
                o.programs().map(|p| p.name().to_string()).collect()
            };
            let (mut pa, mut pb) = (names(&a), names(&b));
            pa.sort();
            pb.sort();
            if pa != pb {
                return Err(format!("programs differ: ours {pa:?}, clang's {pb:?}"));
            }
            println!(
                "{}: verifier processed ours {:?}, clang's {:?}",
                pair.name,
                verifier_processed(&a),
                verifier_processed(&b)
            );
            if spec.runs.is_empty() {
                return Ok(());
            }
            let (oa, ob) = (observe(&a, &spec)?, observe(&b, &spec)?);
            if oa != ob {
                return Err(format!(
                    "results differ:\nours   {oa:02x?}\nclang's {ob:02x?}"
                ));
            }
            compared += 1;
            Ok(())
        };
        if let Err(e) = check() {
            failures.push(format!("{}: {e}", pair.name));
        }
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(compared >= 20, "only {compared} pairs were run");
}
