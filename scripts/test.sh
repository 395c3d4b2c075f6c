#!/usr/bin/env bash
# Runs the whole test suite: unit tests, property tests, the tshark cross-check and the CLI
# tests on the bundled captures.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo test --workspace --locked
