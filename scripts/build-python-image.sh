#!/usr/bin/env bash
# Builds bulkhead-test/python:latest, the sandbox tests' Python image, from this
# machine's Debian packages (no registry is reachable here): Debian's python3 with its
# standard library, pip, setuptools and wheel, the shared libraries they load, the
# static busybox for a shell and core tools, a non-root user `sandbox` (uid 1000) and a
# /workspace owned by it. Imported with `docker import`; default command `python3`.
#
# Called by scripts/ensure-test-images.sh, which decides whether it is needed; run it
# directly to rebuild. Needs a running engine. Output goes to stderr.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

image=bulkhead-test/python:latest
recipe_version="${1:?usage: build-python-image.sh RECIPE_VERSION}"
label_key=org.bulkhead.test-image.recipe
packages=(python3-minimal python3 python3.11-minimal python3.11 libpython3.11-minimal
    libpython3.11-stdlib libpython3-stdlib python3-pip python3-setuptools python3-wheel
    python3-pkg-resources)
applets=(sh ls cat echo sleep env id ps head tail mkdir rm touch printf grep wc cp mv
    kill uname whoami sed chmod stat ln pkill)

bh_pick_docker || bh_die "no Docker engine answers; run scripts/ensure-docker.sh first"
bh_apt_install_missing busybox-static python3-minimal python3 python3-pip python3-setuptools python3-wheel
busybox="$(dpkg -L busybox-static | grep -E '/bin/busybox$' | head -n 1)"

work="$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-python-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"

# Every file and link the packages install, except documentation.
for package in "${packages[@]}"; do
    dpkg -L "$package" 2>/dev/null || true
done | grep -vE '^/usr/share/(doc|man|lintian)/' | sort -u >"$work/files"
while IFS= read -r path; do
    if [ -f "$path" ] || [ -L "$path" ]; then
        printf '%s\n' "$path"
    fi
done <"$work/files" >"$work/copy"
copy_listed() {
    tar --no-recursion -cf - -T "$1" 2>/dev/null | tar -C "$root" -xf -
}
copy_listed "$work/copy"

# The shared libraries every ELF file in the tree needs, with the links that name them.
# (ldd fails on files that are not dynamic executables: that is expected.)
{ find "$root" -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
    xargs -0 -r ldd 2>/dev/null || true; } |
    awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | sort -u >"$work/libs"
# Debian's merged /usr: /lib and /lib64 are links into usr/; libraries go where the
# links resolve.
for link in lib lib64; do
    [ -e "$root/$link" ] || ln -s "usr/$link" "$root/$link"
done
mkdir -p "$root/usr/lib" "$root/usr/lib64"
echo /lib64/ld-linux-x86-64.so.2 >>"$work/libs"
while IFS= read -r lib; do
    readlink -f "$lib"
    realpath -s "$lib" | sed -E 's#^/(lib|lib64)/#/usr/\1/#'
done <"$work/libs" | sort -u >"$work/libcopy"
# Names the loader looks up (links) and the files they resolve to, under /usr.
while IFS= read -r lib; do
    target="$(readlink -f "$lib")"
    dest="$root$lib"
    mkdir -p "$(dirname "$dest")"
    if [ "$target" != "$lib" ] && [ ! -e "$dest" ]; then
        cp "$target" "$dest"
    elif [ ! -e "$dest" ]; then
        cp "$lib" "$dest"
    fi
done <"$work/libcopy"

mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/home/sandbox" "$root/workspace"
cp "$busybox" "$root/bin/busybox"
for a in "${applets[@]}"; do
    [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
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
chown 1000:1000 "$root/home/sandbox" "$root/workspace"

bh_log "importing $image ($(du -sh "$root" | cut -f1) of files)"
tar -C "$root" --numeric-owner -cf - . |
    "$BH_DOCKER" import \
        --change 'CMD ["python3"]' \
        --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'WORKDIR /workspace' \
        --change "LABEL $label_key=$recipe_version" \
        - "$image" >/dev/null
"$BH_DOCKER" run --rm --network none --user 1000 "$image" \
    python3 -c 'import ssl, json, zlib, hashlib, sqlite3, pip; print("python ok", pip.__version__)' >&2
