#!/usr/bin/env bash
# Rewrites host/link-order.txt, the list of functions a serving session runs, which the
# release build hands the linker so that they sit side by side (see host/build.rs):
# the kernel maps a binary in 64 KiB windows, so scattered hot code keeps most of the
# binary resident. Run it after changing dependencies, or when BENCHMARKS.md reports
# that few of the listed functions are still found in the binary. It needs valgrind
# (installed if missing) and a Docker engine, and takes about a minute after the release
# build, most of it compiling the plugins once under valgrind (kept in a cache outside
# the clone).
#
#   scripts/link-order.sh
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bh_export_target_dirs

cd "$BH_ROOT"
bh_ensure_toolchain_engine_images
command -v valgrind >/dev/null 2>&1 || bh_apt_install_missing valgrind
# The binary the README's command builds: the names in the list must be its names.
bh_timed build cargo build --release -p bulkhead
cache="${XDG_CACHE_HOME:-$HOME/.cache}/bulkhead/link-order-cache"
mkdir -p "$cache"
bh_timed record python3 bench/python/link_order.py \
    "$CARGO_TARGET_DIR/release/bulkhead" "$cache" host/link-order.txt
bh_log "rebuild (cargo build --release -p bulkhead) to link with the new order"
