#!/usr/bin/env bash
# Runs the Bulkhead MCP server over stdio, ready for an MCP client to spawn:
#
#   scripts/serve.sh [ARGS...]     ->  bulkhead serve [ARGS...]
#
# First makes sure of the Rust toolchain, a Docker engine (skipped with
# BULKHEAD_SKIP_ENGINE_SETUP=1) and the small bulkhead-test/busybox image, then builds the
# release binary (into CARGO_TARGET_DIR, by default ${XDG_CACHE_HOME:-$HOME/.cache}/bulkhead/target,
# shared with scripts/test.sh) and execs it in the caller's working directory.
#
# stdout is the MCP protocol channel: nothing but the server writes to it. Every message
# of this script, of the setup steps and of cargo goes to stderr.
set -euo pipefail

# Keep the real stdout on fd 3 for the server; everything before the exec goes to stderr.
exec 3>&1 1>&2

# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CARGO_TARGET_DIR="$(bh_default_target_dir)"
export CARGO_TARGET_DIR
# Plugins are compiled to wasm by build scripts; share their target directory between
# the test, clippy and release builds instead of one per build-script output directory.
: "${BULKHEAD_WASM_TARGET_DIR:=$CARGO_TARGET_DIR/wasm-plugins}"
export BULKHEAD_WASM_TARGET_DIR

bash "$BH_ROOT/scripts/ensure-toolchain.sh"
if [ "${BULKHEAD_SKIP_ENGINE_SETUP:-0}" != 1 ]; then
    bash "$BH_ROOT/scripts/ensure-docker.sh"
fi
# A tiny image to try the server with; not needed to serve, so only a warning on failure.
bash "$BH_ROOT/scripts/ensure-test-images.sh" \
    || bh_log "warning: could not build the bulkhead-test/busybox image; serving anyway"

# cargo runs in the workspace root, where rust-toolchain.toml selects the toolchain.
if ! (cd "$BH_ROOT" && cargo build --release -q -p bulkhead); then
    bh_die "cargo build --release -p bulkhead failed"
fi
bin="$CARGO_TARGET_DIR/release/bulkhead"
[ -x "$bin" ] || bh_die "built, but $bin is missing"

exec "$bin" serve "$@" 1>&3 3>&-
