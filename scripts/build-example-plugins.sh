#!/usr/bin/env bash
# Builds the Python and JavaScript example plugins (plugins/examples) into OUT_DIR, as
# hello-py.wasm and hello-js.wasm, installing their pinned toolchains outside the clone
# the first time (see build-python-plugin.sh and build-js-plugin.sh):
#
#   scripts/build-example-plugins.sh OUT_DIR
#
# scripts/test.sh runs it before the tests, so a toolchain that cannot be installed
# fails in a phase of its own; the end-to-end tests build the same examples again,
# which is then a copy from the build cache.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ "$#" -eq 1 ] || bh_die "usage: $BH_SCRIPT OUT_DIR"
mkdir -p "$1"
bash "$BH_ROOT/scripts/build-python-plugin.sh" "$BH_ROOT/plugins/examples/python" "$1/hello-py.wasm"
bash "$BH_ROOT/scripts/build-js-plugin.sh" "$BH_ROOT/plugins/examples/js" "$1/hello-js.wasm"
