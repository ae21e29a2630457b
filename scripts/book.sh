#!/usr/bin/env bash
# Builds the user guide (docs/) into docs/book/ with mdBook. mdbook is installed from crates.io
# when missing or of another version: into ~/.cargo/bin, where later runs (and CI) find it,
# built in a temporary target dir that is removed afterwards.
# The build fails when mdBook reports an error or a warning (an include that does not resolve,
# say); the book's own tests (links, code blocks, transcripts) run with the workspace's:
# cargo test -p whistler-book-tests, cargo test -p whistler-cli --test book_transcripts.
# `scripts/book.sh serve` serves it with live reload instead.
set -euo pipefail
cd "$(dirname "$0")/.."

mdbook_version=0.5.4
if ! mdbook --version 2>/dev/null | grep -qx "mdbook v$mdbook_version"; then
    echo "installing mdbook $mdbook_version from crates.io"
    build_dir=$(mktemp -d)
    status=0
    CARGO_TARGET_DIR="$build_dir" cargo install mdbook --version "$mdbook_version" --locked ||
        status=$?
    rm -rf "$build_dir"
    ((status == 0)) || exit "$status"
fi

if [[ "${1:-build}" != build ]]; then
    exec mdbook "$@" docs
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mdbook build docs 2>&1 | tee "$log"
if grep -qE "ERROR|WARN" "$log"; then
    echo "scripts/book.sh: mdbook reported problems (above)" >&2
    exit 1
fi
