#!/usr/bin/env bash
# Makes sure a Docker engine answers `docker info` (with the current DOCKER_HOST).
#
# - An engine answers: nothing to do (silent).
# - Otherwise, as root on a Debian-like system: installs Debian's docker.io and
#   busybox-static if missing, starts `dockerd` in the background (detached, so it
#   outlives this script; log in ${TMPDIR:-/tmp}/bulkhead-dockerd.log) and waits up to
#   BULKHEAD_DOCKER_WAIT seconds (60) for it to answer.
# - Otherwise: fails with a message saying how to start Docker.
#
# Everything this script prints goes to stderr: serve.sh calls it before the stdio MCP
# server starts, and the server's stdout is the protocol channel.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

wait_secs="${BULKHEAD_DOCKER_WAIT:-60}"
tmp="${TMPDIR:-/tmp}"
log_file="$tmp/bulkhead-dockerd.log"

how_to_start() {
    cat >&2 <<'EOF'
How to get a Docker engine for Bulkhead:
  - with systemd:          sudo systemctl start docker
  - without systemd:       sudo sh -c 'dockerd >/tmp/dockerd.log 2>&1 &'
  - on Debian/Ubuntu, as root, this script installs and starts one itself
    (apt-get install docker.io busybox-static; dockerd in the background)
  - engine running, but "permission denied" on its socket: run as root, or
    sudo usermod -aG docker "$USER" and log in again
  - an engine elsewhere:   export DOCKER_HOST=unix:///path/to/docker.sock (or tcp://...)
  - to manage the engine yourself and skip this step: BULKHEAD_SKIP_ENGINE_SETUP=1
EOF
}

if bh_pick_docker; then
    exit 0
fi

# Only one instance installs and starts the engine at a time; the others wait here and
# then find it answering. (The lock file descriptor is closed for dockerd below, so the
# daemon does not keep holding it.)
lock_file="$tmp/bulkhead-ensure-docker.lock"
if command -v flock >/dev/null 2>&1 && { exec 9>>"$lock_file"; } 2>/dev/null; then
    flock -w $((wait_secs + 600)) 9 || bh_die "timed out waiting for another ensure-docker.sh ($lock_file)"
    if bh_pick_docker; then
        exit 0
    fi
fi

# Where the engine should listen: only a local unix socket is something we can start.
socket_arg=()
case "${DOCKER_HOST:-}" in
    "" | unix:///var/run/docker.sock | unix:///run/docker.sock) ;;
    unix://*) socket_arg=(-H "$DOCKER_HOST") ;;
    *)
        how_to_start
        bh_die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST, and that is not a local socket this script could start an engine on"
        ;;
esac

if ! bh_is_root; then
    how_to_start
    bh_die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-default}) and this script is not root, so it cannot start one"
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1 \
    || ! bh_deb_installed docker.io busybox-static 2>/dev/null; then
    if command -v apt-get >/dev/null 2>&1; then
        bh_apt_install_missing docker.io busybox-static
        hash -r
    fi
fi
if ! command -v dockerd >/dev/null 2>&1; then
    how_to_start
    bh_die "no Docker engine answers and dockerd is not installed (and no apt-get to install Debian's docker.io)"
fi

if pgrep -x dockerd >/dev/null 2>&1; then
    bh_log "dockerd is already running (pid $(pgrep -x dockerd | tr '\n' ' ')); waiting for it to answer"
    started_pid=""
else
    bh_log "starting dockerd in the background (log: $log_file)"
    mkdir -p "$tmp"
    # setsid: its own session, so it outlives this script and its caller's process group;
    # nohup: ignores the hang-up. The daemon inherits no descriptor of ours (stdin,
    # stdout, stderr, the lock, or any pipe a caller passed down, such as the MCP channel
    # serve.sh keeps on fd 3), so nobody reading this script's output waits on it.
    (
        for fd in /proc/self/fd/*; do
            fd="${fd##*/}"
            if [ "$fd" -gt 2 ] 2>/dev/null; then
                eval "exec $fd>&-" 2>/dev/null || true
            fi
        done
        exec setsid nohup dockerd "${socket_arg[@]}" </dev/null >>"$log_file" 2>&1
    ) &
    started_pid=$!
fi

start=$SECONDS
while :; do
    if bh_pick_docker; then
        version="$(timeout 20 "$BH_DOCKER" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || true)"
        bh_log "Docker engine ${version:-?} answers after $((SECONDS - start)) s (client: $BH_DOCKER)"
        exit 0
    fi
    if [ -n "$started_pid" ] && ! kill -0 "$started_pid" 2>/dev/null && ! pgrep -x dockerd >/dev/null 2>&1; then
        bh_log "dockerd exited; last lines of $log_file:"
        tail -n 20 "$log_file" >&2 || true
        bh_die "dockerd failed to start (see $log_file)"
    fi
    if [ $((SECONDS - start)) -ge "$wait_secs" ]; then
        bh_log "last lines of $log_file:"
        tail -n 20 "$log_file" >&2 || true
        how_to_start
        bh_die "no answer from the Docker engine after ${wait_secs} s (dockerd log: $log_file)"
    fi
    sleep 1
done
