#!/usr/bin/env bash
# Runs a libFuzzer target on the stable toolchain (no cargo-fuzz, no nightly): the target is
# built with LLVM's coverage instrumentation through stable -C flags, seeded with the compiler's
# corpus and golden inputs, and run for SECONDS (default 600). A crash leaves its input in
# fuzz/artifacts/ and makes this script fail.
#
#   scripts/fuzz.sh syntax read [SECONDS]      the reader (print/read round trip)
#   scripts/fuzz.sh compiler compile [SECONDS] reader + macro expansion + compiler
set -euo pipefail
cd "$(dirname "$0")/.."

crate=${1:?usage: scripts/fuzz.sh CRATE TARGET [SECONDS]}
target=${2:?usage: scripts/fuzz.sh CRATE TARGET [SECONDS]}
seconds=${3:-600}
dir="crates/$crate/fuzz"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/whistler/target}/fuzz"
triple=$(rustc -vV | sed -n 's/^host: //p')

# An explicit --target keeps the flags off build scripts and proc macros.
RUSTFLAGS="--cfg fuzzing -Cdebug-assertions -Coverflow-checks -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares" \
    cargo build --release --manifest-path "$dir/Cargo.toml" --target "$triple" --bin "$target"

corpus="$dir/corpus/$target"
mkdir -p "$corpus" "$dir/artifacts/$target"
for seed in crates/compiler/tests/corpus/*.lisp crates/compiler/test_data/*/*.lisp \
    crates/compiler/tests/stdlib/*.lisp examples/lisp/*.lisp; do
    [ -f "$seed" ] && cp -n "$seed" "$corpus/" 2>/dev/null || true
done

"$CARGO_TARGET_DIR/$triple/release/$target" "$corpus" \
    -artifact_prefix="$dir/artifacts/$target/" -max_total_time="$seconds" -max_len=8192 \
    -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
