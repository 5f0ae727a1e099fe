#!/usr/bin/env bash
# The benchmark suite (not part of the test run): builds the release binary and the
# `bulkhead-bench` driver, then measures start, call latency against the raw engine,
# 64 calls in flight and memory over 10,000 calls, and writes BENCHMARKS.md at the
# repository root. Two sections follow the driver's table: what output schemas cost
# the official Python SDK 1.x client (bench/python/schema_cost.py) and where a call's
# time goes (bench/python/profile.py, with perf).
#
#   scripts/bench.sh [RUNS]     (default 3 runs; each figure is a median with its range)
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bh_export_target_dirs

cd "$BH_ROOT"
bh_ensure_toolchain_engine_images
# Two builds, not one: built together, the driver's dependencies would unify features
# with the server's and change the binary measured from the one the README builds.
bh_timed build cargo build --release -p bulkhead
bh_timed build-driver cargo build --release -p bulkhead-bench
binary="$CARGO_TARGET_DIR/release/bulkhead"
bh_timed bench "$CARGO_TARGET_DIR/release/bulkhead-bench" "$binary" "${1:-3}"

# How much of host/link-order.txt the binary still defines: the list names functions
# of one build, and edits or updates rename some (scripts/link-order.sh rewrites it).
link_order_section() {
    local listed found
    listed="$(grep -c . host/link-order.txt)"
    found="$(nm --defined-only "$1" | awk '{print $3}' | sort -u \
        | comm -12 - <(sort -u host/link-order.txt) | wc -l)"
    printf '## Link order\n\n'
    printf 'The release build places the functions a serving session runs side by side '
    printf '(host/link-order.txt; see host/build.rs). This binary defines %s of the %s listed ' "$found" "$listed"
    # shellcheck disable=SC2016 # the backquotes are Markdown, not a command
    printf '(%s%%); below 90%%, run `scripts/link-order.sh` to list them afresh.\n' "$((found * 100 / listed))"
}

# The two sections measured from outside: they need a container to inspect.
sdk1_python="$(bash scripts/ensure-python-sdk.sh 1.30.0)"
command -v perf >/dev/null 2>&1 || bh_apt_install_missing linux-perf
target="bulkhead-bench-profile-$$"
docker run -d --name "$target" bulkhead-test/busybox sleep 3600 >/dev/null
trap 'docker rm -f "$target" >/dev/null 2>&1 || true' EXIT
{
    printf '\n'
    bh_timed schema-cost "$sdk1_python" bench/python/schema_cost.py "$binary" "$target" 200
    printf '\n'
    bh_timed profile python3 bench/python/profile.py "$binary" "$target" 1500
    printf '\n'
    link_order_section "$binary"
} >>BENCHMARKS.md
bh_log "wrote $BH_ROOT/BENCHMARKS.md"
