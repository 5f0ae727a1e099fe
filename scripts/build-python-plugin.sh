#!/usr/bin/env bash
# Builds a Bulkhead plugin written in Python into a WebAssembly component with
# componentize-py, and copies it to OUT_WASM:
#
#   scripts/build-python-plugin.sh SRC_DIR OUT_WASM
#
# SRC_DIR holds the app, module `app` (app.py), and wit/world.wit, the plugin's world
# (its imports are its permission request). The bulkhead:plugin package comes from this
# repository's wit/, placed as wit/deps/bulkhead-plugin in a temporary copy, unless
# SRC_DIR/wit/deps exists: a project that carries its own copy is built as it is.
#
# componentize-py (pinned) lives in a virtual environment outside the clone:
# ${XDG_CACHE_HOME:-$HOME/.cache}/bulkhead/componentize-py-VERSION, installed from PyPI
# when missing (python3-venv from Debian's packages if needed). Builds are cached beside
# it in example-plugins/, keyed by the sha256 of SRC_DIR's files, the WIT files, the
# toolchain version and this script: componentize-py's output differs from build to
# build (so each fresh build has a new digest and a host compiles it anew), and a build
# takes seconds, so an unchanged plugin is a copy. The app sees only SRC_DIR and
# Python's standard library: no site-packages of this machine end up in the component.
# Quiet when the toolchain and the build are cached; logs go to stderr.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

COMPONENTIZE_PY=0.25.1
APP_MODULE=app

[ "$#" -eq 2 ] || bh_die "usage: $BH_SCRIPT SRC_DIR OUT_WASM"
src="$(cd "$1" 2>/dev/null && pwd)" || bh_die "no such directory: $1"
out="$2"
[ ! -d "$out" ] || bh_die "OUT_WASM is a directory: $out (name the file, e.g. $out/plugin.wasm)"
[ -f "$src/$APP_MODULE.py" ] || [ -f "$src/$APP_MODULE/__init__.py" ] \
    || bh_die "$src has no $APP_MODULE.py (the module componentize-py wraps)"
[ -f "$src/wit/world.wit" ] || bh_die "$src has no wit/world.wit"

# The world to target: the one `world NAME {` in world.wit.
world_re='s/^[[:space:]]*world[[:space:]]\{1,\}%\{0,1\}\([a-z][a-z0-9-]*\)[[:space:]]*{.*/\1/p'
mapfile -t worlds < <(sed -n "$world_re" "$src/wit/world.wit")
[ "${#worlds[@]}" -eq 1 ] \
    || bh_die "$src/wit/world.wit must declare exactly one world (found ${#worlds[@]})"
world="${worlds[0]}"

cache="${XDG_CACHE_HOME:-${HOME:?}/.cache}/bulkhead"
venv="$cache/componentize-py-$COMPONENTIZE_PY"
builds="$cache/example-plugins"

# --- the toolchain ---------------------------------------------------------------------

cpy_version() {
    "$1" --version 2>/dev/null | sed -n 's/^componentize-py \([^ ]*\)$/\1/p'
}

cpy="$venv/bin/componentize-py"
if [ "$(cpy_version "$cpy")" != "$COMPONENTIZE_PY" ]; then
    command -v python3 >/dev/null 2>&1 || bh_apt_install_missing python3
    mkdir -p "$cache"
    # One installer at a time: builds may run in parallel.
    exec 9>"$venv.lock"
    command -v flock >/dev/null 2>&1 && flock 9
    if [ "$(cpy_version "$cpy")" != "$COMPONENTIZE_PY" ]; then
        # A venv whose python no longer runs (python3 upgraded or removed) is rebuilt.
        if [ -e "$venv" ] && ! "$venv/bin/python" -c '' 2>/dev/null; then
            rm -rf "$venv"
        fi
        if [ ! -x "$venv/bin/python" ]; then
            bh_log "creating a virtual environment at $venv"
            if ! python3 -m venv "$venv" >&2; then
                rm -rf "$venv"
                bh_apt_install_missing python3-venv
                python3 -m venv "$venv" >&2
            fi
        fi
        bh_log "installing componentize-py $COMPONENTIZE_PY into $venv"
        # --force-reinstall also repairs an install whose files went missing.
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall \
            "componentize-py==$COMPONENTIZE_PY" >&2
        [ "$(cpy_version "$cpy")" = "$COMPONENTIZE_PY" ] \
            || bh_die "componentize-py $COMPONENTIZE_PY did not install into $venv"
    fi
    exec 9>&-
fi

# --- a snapshot of the sources -------------------------------------------------------

# The build reads a copy: what is hashed is what is built, and the interpreter's bytecode
# caches land in the copy, not in SRC_DIR. Hidden files, bytecode caches, built
# components and Markdown (which no import reaches) are left out.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
app="$tmp/app"
mkdir -p "$app"
(cd "$src" && find -L . \( -name '.*' ! -name . -o -name __pycache__ \) -prune \
    -o -type f ! -name '*.pyc' ! -name '*.wasm' ! -name '*.md' -exec cp --parents -t "$app" {} +)

wit="$(bh_plugin_wit_dir "$app" "$tmp")"

# --- the cache key ---------------------------------------------------------------------

# Relative path and sha256 of every file under $1.
tree_digest() {
    (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

key="$({
    printf 'componentize-py %s\nworld %s\napp %s\n' "$COMPONENTIZE_PY" "$world" "$APP_MODULE"
    sha256sum <"${BASH_SOURCE[0]}"
    printf 'src\n'
    tree_digest "$app"
    printf 'wit\n'
    tree_digest "$wit"
} | sha256sum | cut -c1-64)"
built="$builds/$world-$key.wasm"

# --- the build -------------------------------------------------------------------------

if [ ! -f "$built" ]; then
    bh_log "building $src (world $world) with componentize-py $COMPONENTIZE_PY"
    # componentize-py adds the site-packages of $VIRTUAL_ENV, or else of pipenv or of
    # `python3` on PATH, to the app's path: an empty one keeps the build to SRC_DIR and the
    # standard library. It snapshots the app after importing it, so what the app imports
    # at module level is all the component carries.
    mkdir -p "$tmp/env/lib/site-packages" "$builds"
    (cd "$tmp" && VIRTUAL_ENV="$tmp/env" "$cpy" --quiet -d "$wit" -w "$world" \
        componentize -p "$app" -o "$tmp/plugin.wasm" "$APP_MODULE" >&2) \
        || bh_die "componentize-py failed for $src"
    mv "$tmp/plugin.wasm" "$builds/.$world-$key.wasm.$$"
    mv "$builds/.$world-$key.wasm.$$" "$built"
    # Keep the three newest builds of this world.
    find "$builds" -maxdepth 1 -regextype posix-extended -regex ".*/$world-[0-9a-f]{64}\.wasm" \
        -printf '%T@ %p\n' \
        | sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
fi

mkdir -p "$(dirname "$out")"
cp "$built" "$out.tmp.$$"
mv "$out.tmp.$$" "$out"
