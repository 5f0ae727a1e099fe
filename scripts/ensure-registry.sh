#!/usr/bin/env bash
# Makes sure Debian's `docker-registry` (Distribution 2.x) is installed, so the e2e
# tests can start throw-away local registries (tests/testkit `LocalRegistry`) and test
# pulls and pushes for real: no public registry is reachable here. The tests start and
# stop their own registry processes; this script only installs the package.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if command -v docker-registry >/dev/null 2>&1; then
    exit 0
fi
bh_apt_install_missing docker-registry
command -v docker-registry >/dev/null 2>&1 || bh_die "docker-registry is not on PATH after installing it"
bh_log "docker-registry installed"
