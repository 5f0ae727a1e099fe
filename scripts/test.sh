#!/usr/bin/env bash
# Runs the whole test suite, as CI does (.ci/run calls exactly this):
#
#   scripts/test.sh [CARGO TEST ARGS...]
#
# 1. the Rust toolchain of rust-toolchain.toml and the wasm32-wasip2 target
# 2. a Docker engine (skipped with BULKHEAD_SKIP_ENGINE_SETUP=1), the local test images,
#    Debian's docker-registry (local registries for pull/push tests) and Debian's
#    docker-compose (an independent Compose implementation the compose tests compare with)
# 3. cargo fmt --all --check
# 4. cargo clippy --workspace --all-targets -- -D warnings
# 5. the official MCP Python SDK against the built server, over stdio and HTTP
#    (tests/interop/python_sdk.py)
# 6. the MCP Inspector CLI against it, over stdio and HTTP (tests/interop/inspector.py),
#    with the Node clients of scripts/ensure-node-clients.sh (installed outside the
#    clone; the conformance suite among them, for tests/e2e/conformance.rs)
# 7. the Python (componentize-py) and JavaScript (jco) example plugins, built with their
#    pinned toolchains (installed outside the clone; scripts/build-example-plugins.sh)
# 8. cargo test --workspace --no-fail-fast [ARGS...]
#
# Builds go to CARGO_TARGET_DIR, by default ${XDG_CACHE_HOME:-$HOME/.cache}/bulkhead/target
# (outside the clone, shared with scripts/serve.sh), so a fresh clone on a machine that
# built before builds incrementally. Each phase prints its time to stderr; the first
# failing phase stops the run with its exit status.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bh_export_target_dirs

cd "$BH_ROOT"
bh_log "workspace $BH_ROOT, target dir $CARGO_TARGET_DIR"
total_start=$SECONDS

bh_timed toolchain bash scripts/ensure-toolchain.sh
if [ "${BULKHEAD_SKIP_ENGINE_SETUP:-0}" != 1 ]; then
    bh_timed docker bash scripts/ensure-docker.sh
else
    bh_log "BULKHEAD_SKIP_ENGINE_SETUP=1: not checking or starting the Docker engine"
fi
bh_timed images bash scripts/ensure-test-images.sh
bh_timed registry bash scripts/ensure-registry.sh
bh_timed compose bash scripts/ensure-docker-compose.sh
bh_timed fmt cargo fmt --all --check
bh_timed clippy cargo clippy --workspace --all-targets -- -D warnings
# The interop check drives the debug binary with an independent client (the official
# Python SDK, in both its initialize and its 2026-07-28 discover mode); cargo test then
# builds nothing new for it.
bh_timed build cargo build -p bulkhead
python="$(bash scripts/ensure-python-sdk.sh)"
bh_timed interop "$python" tests/interop/python_sdk.py "$CARGO_TARGET_DIR/debug/bulkhead"
node_clients="$(bash scripts/ensure-node-clients.sh)"
bh_timed inspector python3 tests/interop/inspector.py "$CARGO_TARGET_DIR/debug/bulkhead" "$node_clients"
bh_timed examples bash scripts/build-example-plugins.sh "$CARGO_TARGET_DIR/example-plugins"
bh_timed test cargo test --workspace --no-fail-fast "$@"
bh_log "all phases passed in $((SECONDS - total_start)) s"
