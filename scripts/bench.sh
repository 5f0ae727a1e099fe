#!/usr/bin/env bash
# The benchmark suite (not part of the test run): builds the release binary and the
# `bulkhead-bench` driver, then measures start, call latency against the raw engine,
# 64 calls in flight and memory over 10,000 calls, and writes BENCHMARKS.md at the
# repository root.
#
#   scripts/bench.sh [RUNS]     (default 3 runs; each figure is a median with its range)
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CARGO_TARGET_DIR="$(bh_default_target_dir)"
export CARGO_TARGET_DIR
: "${BULKHEAD_WASM_TARGET_DIR:=$CARGO_TARGET_DIR/wasm-plugins}"
export BULKHEAD_WASM_TARGET_DIR

cd "$BH_ROOT"
bash scripts/ensure-toolchain.sh
if [ "${BULKHEAD_SKIP_ENGINE_SETUP:-0}" != 1 ]; then
    bash scripts/ensure-docker.sh
fi
bash scripts/ensure-test-images.sh
bh_timed build cargo build --release -p bulkhead -p bulkhead-bench
bh_timed bench "$CARGO_TARGET_DIR/release/bulkhead-bench" "$CARGO_TARGET_DIR/release/bulkhead" "${1:-3}"
bh_log "wrote $BH_ROOT/BENCHMARKS.md"
