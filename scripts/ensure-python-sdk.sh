#!/usr/bin/env bash
# Makes sure a virtual environment with the official MCP Python SDK exists, for the
# interop check in tests/interop/python_sdk.py, and prints its python's path on stdout.
#
#   scripts/ensure-python-sdk.sh [VERSION]
#
# The venv lives outside the clone, beside the build cache:
# ${XDG_CACHE_HOME:-$HOME/.cache}/bulkhead/venv (venv-VERSION when a VERSION is given;
# the benchmarks use the 1.x client, which validates every result). The SDK version is
# pinned; a venv with another version is upgraded in place. Quiet when everything is
# present.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SDK_VERSION="${1:-2.3.0}"
venv="${XDG_CACHE_HOME:-${HOME:?}/.cache}/bulkhead/venv${1:+-$1}"
python="$venv/bin/python"

command -v python3 >/dev/null 2>&1 || bh_die "python3 is needed for the MCP Python SDK interop check"
if [ ! -x "$python" ]; then
    bh_log "creating a virtual environment at $venv"
    if ! python3 -m venv "$venv" >&2; then
        bh_apt_install_missing python3-venv
        python3 -m venv "$venv" >&2
    fi
fi
installed="$("$python" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null || true)"
if [ "$installed" != "$SDK_VERSION" ]; then
    bh_log "installing the MCP Python SDK $SDK_VERSION"
    "$python" -m pip install --quiet --disable-pip-version-check "mcp==$SDK_VERSION" >&2
fi
printf '%s\n' "$python"
