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

bh_export_target_dirs

bash "$BH_ROOT/scripts/ensure-toolchain.sh"
bh_ensure_engine
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
