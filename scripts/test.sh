#!/usr/bin/env bash
# Runs every test of the workspace against the live kernel, after preparing a fresh machine:
# Debian packages the tests use, bpffs and tracefs mounts. Must run as root (CAP_BPF).
# Then checks the API docs and builds the user guide (installing mdbook the first time).
# Kernel tests skip without CAP_BPF; with WHISTLER_REQUIRE_KERNEL=1 a skip is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(clang llvm bpftool libbpf-dev iproute2 qemu-system-x86 busybox-static cpio prometheus curl bpftrace sbcl python3)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing || true

# Kernel tests run one at a time per binary where they share global state (netns names, pins).
cargo test --workspace --no-fail-fast -- --test-threads=2 "$@"

# Every public item of the facade and the loader is documented, and rustdoc has no warning.
RUSTDOCFLAGS="-D warnings" cargo doc -p whistler -p whistler-loader --no-deps --all-features
# The user guide builds with mdBook (its code blocks and transcripts were tested above).
./scripts/book.sh
