#!/usr/bin/env bash
# Builds the user guide (docs/) into docs/book/ with mdBook, installing mdbook from crates.io
# when it is missing. `scripts/book.sh serve` serves it with live reload instead.
# The book's tests run with the workspace's: cargo test -p whistler-book-tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v mdbook >/dev/null; then
    echo "installing mdbook from crates.io"
    cargo install mdbook --locked
fi
mdbook "${1:-build}" docs
