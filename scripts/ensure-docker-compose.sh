#!/usr/bin/env bash
# Makes sure Debian's `docker-compose` (1.29, an independent Compose implementation) is
# installed, so the e2e tests can check that stacks the compose plugin deploys are real
# Compose stacks to another tool, and that stacks that tool deploys are visible here.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if command -v docker-compose >/dev/null 2>&1; then
    exit 0
fi
bh_apt_install_missing docker-compose
command -v docker-compose >/dev/null 2>&1 || bh_die "docker-compose is not on PATH after installing it"
bh_log "docker-compose installed"
