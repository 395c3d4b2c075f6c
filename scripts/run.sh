#!/usr/bin/env bash
# Builds ikescope (release) and analyses the bundled captures in pcaps/.
# Extra arguments are passed to `ikescope analyze` (e.g. --events events.ndjson --log-messages).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked
exec target/release/ikescope analyze "$@" pcaps/
