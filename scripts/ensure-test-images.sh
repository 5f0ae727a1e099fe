#!/usr/bin/env bash
# Builds the local test images when they are missing. No registry is reachable here, so
# nothing is pulled: images are made from local files with `docker import`.
#
#   bulkhead-test/busybox:latest  static busybox with symlinks for common applets,
#                                 /etc/passwd and /etc/group (root, nobody), /tmp;
#                                 chmod and stat among the applets (the sandbox needs them);
#                                 default command `sh`.
#   bulkhead-test/python:latest   Debian's system python3 with pip, setuptools, wheel and
#                                 venv, precompiled .pyc, the shared libraries it loads,
#                                 busybox applets, a user `sandbox` (1000:1000, home
#                                 /home/sandbox) and /workspace it owns, /tmp 1777;
#                                 WORKDIR /workspace, command `python3`, no USER
#                                 (scripts/build-python-image.sh; about 75 MB, about
#                                 20 s to build).
#
# Idempotent: an image that exists with the current recipe version is left alone.
# BULKHEAD_REBUILD_TEST_IMAGES=1 rebuilds anyway. Needs a running engine
# (scripts/ensure-docker.sh). All output goes to stderr.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Bump when the recipe below changes, so existing machines rebuild the image.
recipe_version=3
label_key=org.bulkhead.test-image.recipe
image=bulkhead-test/busybox:latest
applets=(sh ls cat echo sleep env id ps wget nc head tail yes true false mkdir rm touch
    printf seq date hostname grep wc cp mv kill uname whoami sed chmod chown stat ln)

bh_pick_docker || bh_die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-default}); run scripts/ensure-docker.sh first"

# The Python image: built by its own script when missing or of an older recipe.
# Recipe 2: venv/ensurepip, .pyc files, libraries stored once, root-owned files, CA bundle.
python_recipe=2
python_image=bulkhead-test/python:latest
python_current="$("$BH_DOCKER" image inspect --format "{{index .Config.Labels \"$label_key\"}}" "$python_image" 2>/dev/null || true)"
if [ "$python_current" != "$python_recipe" ] || [ "${BULKHEAD_REBUILD_TEST_IMAGES:-0}" = 1 ]; then
    bash "$(dirname "${BASH_SOURCE[0]}")/build-python-image.sh" "$python_recipe"
    bh_log "$python_image ready"
fi

current="$("$BH_DOCKER" image inspect --format "{{index .Config.Labels \"$label_key\"}}" "$image" 2>/dev/null || true)"
old_id="$("$BH_DOCKER" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
if [ "$current" = "$recipe_version" ] && [ "${BULKHEAD_REBUILD_TEST_IMAGES:-0}" != 1 ]; then
    exit 0
fi

# A static busybox: the image has no libc.
bh_apt_install_missing busybox-static
busybox=""
if command -v dpkg-query >/dev/null 2>&1; then
    busybox="$(dpkg -L busybox-static 2>/dev/null | grep -E '/bin/busybox$' | head -n 1 || true)"
fi
if [ -z "$busybox" ] || [ ! -x "$busybox" ]; then
    busybox="$(command -v busybox || true)"
fi
if [ -z "$busybox" ] || [ ! -x "$busybox" ]; then
    bh_die "no busybox binary found (install busybox-static)"
fi
if command -v ldd >/dev/null 2>&1 && ldd "$busybox" >/dev/null 2>&1; then
    bh_die "$busybox is dynamically linked; the image needs a static one (install busybox-static)"
fi

bh_log "building $image from $busybox (recipe $recipe_version)"
work="$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
for a in "${applets[@]}"; do
    ln -s busybox "$root/bin/$a"
done
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF
chmod 0644 "$root/etc/passwd" "$root/etc/group"

tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$work/root.tar" .
"$BH_DOCKER" import \
    --change 'CMD ["sh"]' \
    --change "LABEL $label_key=$recipe_version" \
    --message "bulkhead test image (scripts/ensure-test-images.sh)" \
    "$work/root.tar" "$image" >&2

# A quick check that it runs.
out="$("$BH_DOCKER" run --rm --network none "$image" echo ok 2>&1)" \
    || bh_die "the new $image does not run: $out"
[ "$out" = ok ] || bh_die "the new $image printed '$out' instead of 'ok'"
# Drop the image this one replaced, unless something still uses it.
if [ -n "$old_id" ]; then
    new_id="$("$BH_DOCKER" image inspect --format '{{.Id}}' "$image")"
    if [ "$old_id" != "$new_id" ]; then
        "$BH_DOCKER" image rm "$old_id" >/dev/null 2>&1 || true
    fi
fi
bh_log "$image ready"
