#!/usr/bin/env bash
# Builds bulkhead-test/python:latest, the sandbox tests' Python image, from this
# machine's Debian packages (no registry is reachable here): Debian's python3 (the
# system /usr/bin/python3, never a pyenv or venv python on PATH) with its standard
# library, pip, setuptools, wheel and venv (ensurepip with Debian's bundled wheels), the
# shared libraries all of it loads, byte-compiled .pyc files (a read-only root cannot
# cache them; pip starts about a second faster with them), the static busybox for a
# shell and core tools, the CA bundle, a non-root user `sandbox` (uid/gid 1000, home
# /home/sandbox) and a /workspace owned by it. Every other file belongs to root, whoever
# builds it. Imported with `docker import`: command `python3`, WORKDIR /workspace,
# PATH=/usr/local/bin:/usr/bin:/bin, pip's version check and cache off; no USER (the
# sandbox picks the user). Not included: tkinter/idlelib/turtle, dbm.gnu (_gdbm) and
# time zone data (zoneinfo finds no zones).
#
# Usage: build-python-image.sh RECIPE_VERSION
# Called by scripts/ensure-test-images.sh, which owns the recipe version and decides
# whether a build is needed; run it directly (with that version) to rebuild. Needs a
# running engine; installs missing Debian packages (root). Output goes to stderr.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

image=bulkhead-test/python:latest
recipe_version="${1:?usage: build-python-image.sh RECIPE_VERSION}"
label_key=org.bulkhead.test-image.recipe
applets=(sh ls cat echo sleep env id ps head tail yes true false mkdir rm rmdir touch
    printf seq date hostname grep wc cp mv kill uname whoami sed chmod chown stat ln
    pkill killall pidof find xargs sort uniq cut tr tee du df base64 sha256sum md5sum tar gzip gunzip
    which dirname basename readlink realpath test expr diff)

bh_pick_docker || bh_die "no Docker engine answers; run scripts/ensure-docker.sh first"
bh_apt_install_missing busybox-static python3-minimal python3 python3-pip python3-venv \
    python3-setuptools python3-wheel ca-certificates
busybox="$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n 1)"
[ -x "$busybox" ] || bh_die "no busybox binary in busybox-static"

# Debian's interpreter, by absolute path: `python3` on PATH may be a pyenv shim.
python=/usr/bin/python3
[ -x "$python" ] || bh_die "$python is missing (install python3)"
pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
# The packages whose files make up the image; names this Debian release does not have
# (python3-distutils is gone after 3.11, for example) are skipped.
packages=(python3-minimal python3 "python$pyver-minimal" "python$pyver"
    "libpython$pyver-minimal" "libpython$pyver-stdlib" libpython3-stdlib
    python3-pip python3-setuptools python3-wheel python3-pkg-resources
    python3-venv "python$pyver-venv" python3-pip-whl python3-setuptools-whl
    python3-distutils python3-lib2to3)
present=()
for package in "${packages[@]}"; do
    bh_deb_installed "$package" && present+=("$package")
done
bh_log "building $image (recipe $recipe_version) from Python $pyver: ${present[*]}"

work="$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-python-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"

# Every file and link the packages install, except documentation. tar keeps links as
# links, modes and modification times (the .pyc files below record the latter).
dpkg -L "${present[@]}" 2>/dev/null | grep -vE '^/usr/share/(doc|man|lintian)/' |
    sort -u >"$work/files"
while IFS= read -r path; do
    if [ -f "$path" ] || [ -L "$path" ]; then
        printf '%s\n' "$path"
    fi
done <"$work/files" >"$work/copy"
tar --no-recursion -cf - -T "$work/copy" 2>/dev/null | tar -C "$root" -xf -
[ -x "$root/usr/bin/python$pyver" ] || bh_die "python$pyver did not make it into the image"

# Debian's merged /usr: /bin, /lib and /lib64 are links into usr/. (/bin stays a real
# directory for busybox; Debian's python lives in /usr/bin.)
for link in lib lib64; do
    [ -e "$root/$link" ] || ln -s "usr/$link" "$root/$link"
done

# The shared libraries every ELF file in the tree needs (python3 itself and each
# extension module under lib-dynload), plus the loader. Each library is copied once,
# as its real file; the name the loader looks for becomes a link to it. (ldd fails on
# files that are not dynamic executables: that is expected.)
{ find "$root" -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
    xargs -0 -r ldd 2>/dev/null || true; } >"$work/ldd"
if grep -q 'not found' "$work/ldd"; then
    bh_log "note: libraries this machine lacks (those modules will not import): $(grep 'not found' "$work/ldd" | awk '{ print $1 }' | sort -u | tr '\n' ' ')"
fi
awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' "$work/ldd" | sort -u >"$work/libs"
echo /lib64/ld-linux-x86-64.so.2 >>"$work/libs"
to_usr() { sed -E 's#^/(bin|lib|lib64)/#/usr/\1/#'; }
while IFS= read -r lib; do
    [ -e "$lib" ] || bh_die "ldd names $lib, which does not exist"
    name="$(realpath -s "$lib" | to_usr)"
    real="$(readlink -f "$lib" | to_usr)"
    if [ ! -e "$root$real" ]; then
        mkdir -p "$(dirname "$root$real")"
        cp "$(readlink -f "$lib")" "$root$real"
    fi
    if [ "$name" != "$real" ] && [ ! -e "$root$name" ] && [ ! -L "$root$name" ]; then
        mkdir -p "$(dirname "$root$name")"
        ln -sr "$root$real" "$root$name"
    fi
done <"$work/libs"

# Byte-compile with the image's own interpreter version (the host's Debian python3 is
# the same binary), recording the paths the files have inside the image.
compile_dirs=()
for d in "/usr/lib/python$pyver" /usr/lib/python3/dist-packages; do
    [ -d "$root$d" ] && compile_dirs+=("$root$d")
done
"$python" -m compileall -q -j 0 -s "$root" -p / "${compile_dirs[@]}" >"$work/compile.log" 2>&1 ||
    bh_log "note: compileall skipped files it cannot compile ($(grep -c '^\*\*\*' "$work/compile.log" || true) reported)"

mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/home/sandbox" "$root/workspace"
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
# Only applets this busybox has (Debian 12's busybox-static has no pkill, for example).
"$busybox" --list >"$work/applets"
for a in "${applets[@]}"; do
    grep -qx "$a" "$work/applets" || continue
    [ -e "$root/bin/$a" ] || [ -e "$root/usr/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
chmod 0755 "$root/home" "$root/home/sandbox" "$root/workspace"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
sandbox:x:1000:1000:sandbox:/home/sandbox:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
sandbox:x:1000:
nogroup:x:65534:
EOF
chmod 0644 "$root/etc/passwd" "$root/etc/group"
# The CA bundle (where Debian's OpenSSL and pip look), for sandboxes allowed a network.
bundle=/etc/ssl/certs/ca-certificates.crt
if [ -f "$bundle" ]; then
    mkdir -p "$root/etc/ssl/certs" "$root/usr/lib/ssl"
    cp "$bundle" "$root$bundle"
    ln -s "$bundle" "$root/usr/lib/ssl/cert.pem"
    ln -s /etc/ssl/certs "$root/usr/lib/ssl/certs"
fi

# One archive: everything root's, then the sandbox user's two directories appended
# with their own owner (tar -r), so the result does not depend on who runs this.
tar --numeric-owner --owner=0 --group=0 -C "$root" \
    --exclude=./workspace --exclude=./home/sandbox -cf "$work/root.tar" .
tar --numeric-owner --owner=1000 --group=1000 -C "$root" \
    -rf "$work/root.tar" ./workspace ./home/sandbox

old_id="$("$BH_DOCKER" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
bh_log "importing $image ($(du -sh "$root" | cut -f1) of files)"
"$BH_DOCKER" import \
    --change 'CMD ["python3"]' \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1' \
    --change 'WORKDIR /workspace' \
    --change "LABEL $label_key=$recipe_version" \
    --message "bulkhead test image (scripts/build-python-image.sh)" \
    "$work/root.tar" "$image" >/dev/null

# Quick checks that it runs as the sandbox will run it.
check() {
    local out
    out="$("$BH_DOCKER" run --rm --network none --read-only --tmpfs /tmp --user 1000 "$image" "$@" 2>&1)" ||
        bh_die "the new $image fails '$*': $out"
    bh_log "check: $out"
}
check python3 -c 'import ssl, json, zlib, hashlib, sqlite3, lzma, bz2, ctypes, decimal, pip; print("python", ".".join(map(str, __import__("sys").version_info[:3])), "pip", pip.__version__)'
check sh -c 'python3 -m venv /tmp/venv && /tmp/venv/bin/python -m pip --version'

# Drop the image this one replaced, unless something still uses it.
new_id="$("$BH_DOCKER" image inspect --format '{{.Id}}' "$image")"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    "$BH_DOCKER" image rm "$old_id" >/dev/null 2>&1 || true
fi
bh_log "$image: $("$BH_DOCKER" image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }')"
