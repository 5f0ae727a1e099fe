#!/usr/bin/env bash
# Makes sure the Rust toolchain pinned in rust-toolchain.toml (with rustfmt and clippy)
# and the wasm32-wasip2 target are installed. Quiet when everything is present.
#
# Needed because rustup here runs with RUSTUP_AUTO_INSTALL=0, and even with it on rustup
# does not add a missing target to an installed toolchain.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

target=wasm32-wasip2
components=(rustfmt clippy)

toolchain="$(sed -n 's/^[[:space:]]*channel[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$BH_ROOT/rust-toolchain.toml" 2>/dev/null | head -n 1)"
[ -n "$toolchain" ] || bh_die "could not read the toolchain channel from $BH_ROOT/rust-toolchain.toml"

command -v rustup >/dev/null 2>&1 \
    || bh_die "rustup not found on PATH; install rustup (https://rustup.rs), then rerun this script"

# rustup reads rust-toolchain.toml from the current directory; naming the toolchain
# explicitly everywhere keeps these commands independent of it.
complete() {
    local installed
    rustup toolchain list 2>/dev/null | grep -q "^${toolchain}-" || return 1
    installed="$(rustup component list --installed --toolchain "$toolchain" 2>/dev/null)" || return 1
    local c
    for c in "${components[@]}"; do
        grep -q "^${c}\(-\|$\)" <<<"$installed" || return 1
    done
    rustup target list --installed --toolchain "$toolchain" 2>/dev/null | grep -qx "$target"
}

if complete; then
    exit 0
fi

bh_log "installing Rust $toolchain (${components[*]}) and target $target with rustup"
comp_list="$(IFS=,; echo "${components[*]}")"
rustup toolchain install "$toolchain" --profile minimal -c "$comp_list" >&2 \
    || bh_die "rustup toolchain install $toolchain failed"
rustup target add --toolchain "$toolchain" "$target" >&2 \
    || bh_die "rustup target add --toolchain $toolchain $target failed"
complete || bh_die "rustup ran but $toolchain with ${components[*]} and $target is still incomplete"
bh_log "Rust $toolchain ready"
