#!/usr/bin/env bash
# Builds ikescope (release) and analyses the bundled captures in pcaps/, one report per capture
# (they come from unrelated lab sessions that reuse the same addresses).
# Extra arguments are passed to `ikescope analyze` (e.g. --fail-on high, --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked
exec target/release/ikescope analyze --separate "$@" pcaps/
