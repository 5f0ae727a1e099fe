# shellcheck shell=bash
# Helpers shared by the scripts in this directory. Source it; do not run it.
#
# Every message goes to stderr: serve.sh runs these helpers before the stdio MCP server
# starts, and the server's stdout is the protocol channel.

# The workspace root (the parent of scripts/).
BH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BH_SCRIPT="$(basename "$0")"

bh_log() {
    printf '[%s] %s\n' "$BH_SCRIPT" "$*" >&2
}

bh_die() {
    printf '[%s] error: %s\n' "$BH_SCRIPT" "$*" >&2
    exit 1
}

bh_is_root() {
    [ "$(id -u)" -eq 0 ]
}

# The target directory shared by the scripts here: CARGO_TARGET_DIR when set (made
# absolute), else a cache outside the clone, so a fresh clone on a machine that built
# before builds incrementally.
bh_default_target_dir() {
    local dir="${CARGO_TARGET_DIR:-}"
    if [ -z "$dir" ]; then
        if [ -n "${XDG_CACHE_HOME:-}" ]; then
            dir="$XDG_CACHE_HOME/bulkhead/target"
        elif [ -n "${HOME:-}" ]; then
            dir="$HOME/.cache/bulkhead/target"
        else
            dir="$BH_ROOT/target"
        fi
    fi
    case "$dir" in
        /*) ;;
        *) dir="$PWD/$dir" ;;
    esac
    printf '%s\n' "$dir"
}

# Exports CARGO_TARGET_DIR (see bh_default_target_dir) and BULKHEAD_WASM_TARGET_DIR.
# Plugins are compiled to wasm by build scripts; one wasm target directory is shared
# between the clippy, test and release builds instead of one per build-script output
# directory.
bh_export_target_dirs() {
    CARGO_TARGET_DIR="$(bh_default_target_dir)"
    export CARGO_TARGET_DIR
    : "${BULKHEAD_WASM_TARGET_DIR:=$CARGO_TARGET_DIR/wasm-plugins}"
    export BULKHEAD_WASM_TARGET_DIR
}

# Makes sure of a Docker engine, unless BULKHEAD_SKIP_ENGINE_SETUP=1.
bh_ensure_engine() {
    if [ "${BULKHEAD_SKIP_ENGINE_SETUP:-0}" != 1 ]; then
        bash "$BH_ROOT/scripts/ensure-docker.sh"
    fi
}

# What a script that builds the server and drives it against the engine needs first: the
# pinned toolchain, an engine (see bh_ensure_engine) and the test images.
bh_ensure_toolchain_engine_images() {
    bash "$BH_ROOT/scripts/ensure-toolchain.sh"
    bh_ensure_engine
    bash "$BH_ROOT/scripts/ensure-test-images.sh"
}

# Prints the WIT directory a plugin project ($1) builds against: its own `wit/` when it
# carries `wit/deps`, else a copy under the scratch folder $2 with this repository's
# package added as the `bulkhead-plugin` dependency.
bh_plugin_wit_dir() {
    local project="$1" scratch="$2"
    if [ -d "$project/wit/deps" ]; then
        printf '%s\n' "$project/wit"
        return
    fi
    mkdir -p "$scratch/wit/deps/bulkhead-plugin" \
        && cp -R "$project/wit/." "$scratch/wit/" \
        && cp "$BH_ROOT"/wit/*.wit "$scratch/wit/deps/bulkhead-plugin/" \
        && printf '%s\n' "$scratch/wit"
}

# True when every named Debian package is installed.
bh_deb_installed() {
    local pkg status
    for pkg in "$@"; do
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        [ "$status" = "install ok installed" ] || return 1
    done
}

# Installs the named Debian packages that are missing (apt-get update first, only when
# something is missing). Needs root and apt-get; fails with a message otherwise.
bh_apt_install_missing() {
    local missing=() pkg
    if command -v dpkg-query >/dev/null 2>&1; then
        for pkg in "$@"; do
            bh_deb_installed "$pkg" || missing+=("$pkg")
        done
    else
        missing=("$@")
    fi
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        bh_die "missing packages: ${missing[*]}; this is not a Debian-like system (no apt-get): install them by hand"
    fi
    if ! bh_is_root; then
        bh_die "missing packages: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}"
    fi
    bh_log "installing Debian packages: ${missing[*]} (apt-get update + install)"
    local apt_opts=(-q -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
    DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update >&2 \
        || bh_die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y "${missing[@]}" >&2 \
        || bh_die "apt-get install ${missing[*]} failed"
}

# True when `$1 info` reaches an engine (with the current DOCKER_HOST).
bh_docker_answers() {
    local client="$1" version
    version="$(timeout 20 "$client" info --format '{{.ServerVersion}}' 2>/dev/null)" || return 1
    [ -n "$version" ] && [ "$version" != "<no value>" ]
}

# Sets BH_DOCKER to a docker client that talks to the engine: the `docker` on PATH, or,
# if that one refuses the engine (a newer client against an older engine), Debian's
# /usr/bin/docker. Returns 1, with BH_DOCKER set to the PATH client (or empty), when no
# client gets an answer.
bh_pick_docker() {
    local candidates=() c
    BH_DOCKER="$(command -v docker 2>/dev/null || true)"
    [ -n "$BH_DOCKER" ] && candidates+=("$BH_DOCKER")
    if [ -x /usr/bin/docker ] && [ "$BH_DOCKER" != /usr/bin/docker ]; then
        candidates+=(/usr/bin/docker)
    fi
    for c in "${candidates[@]}"; do
        if bh_docker_answers "$c"; then
            if [ "$c" != "$BH_DOCKER" ]; then
                # Ask the PATH client again: the engine may have come up in between.
                if bh_docker_answers "$BH_DOCKER"; then
                    return 0
                fi
                bh_log "note: $BH_DOCKER gets no answer from the engine but $c does: using $c"
            fi
            BH_DOCKER="$c"
            return 0
        fi
    done
    return 1
}

# Runs "$@", then prints how long it took (to stderr). Keeps the command's exit status.
bh_timed() {
    local name="$1" start end rc=0
    shift
    start="$(date +%s%N)"
    "$@" || rc=$?
    end="$(date +%s%N)"
    local ms=$(((end - start) / 1000000))
    printf '[%s] %-10s %4d.%01d s  %s\n' "$BH_SCRIPT" "$name" $((ms / 1000)) $((ms % 1000 / 100)) \
        "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" >&2
    return "$rc"
}
