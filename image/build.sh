#!/bin/sh
# `make image`: an OCI image of confpy, built with Debian's buildah from a Debian root file
# system made here with debootstrap; no container registry is involved.
#
#   Debian (minbase) + python3 + a virtual environment in /opt/confpy holding confpy and
#   its dependencies (wheels built on this machine, installed with --no-index), running
#   as the unprivileged user confpy (uid 10001), ENTRYPOINT ["confpy"].
#
# Environment: TAG (confpy:<version>), SUITE (bookworm), MIRROR (the first Debian mirror
# of this machine's apt sources), BUILD (build/image), PYTHON (.venv/bin/python: builds
# the wheels; its minor version must be the suite's, 3.11 for bookworm).
# The root file system is kept in $BUILD/rootfs between builds: delete it to start over.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build/image}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
SUITE=${SUITE:-bookworm}
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/pyproject.toml")
TAG=${TAG:-confpy:$VERSION}
if [ -z "${MIRROR:-}" ]; then
    MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -n 's/^\(deb\|URIs:\) *\(\[[^]]*\] *\)\?\(https\?:[^ ]*\/debian\/\?\)\( .*\)\?$/\3/p' | head -n 1)
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
for tool in buildah debootstrap; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "installing Debian's $tool"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$tool" >/dev/null
    fi
done

mkdir -p "$BUILD"
echo "--- wheels of confpy and its dependencies ($BUILD/wheels)"
rm -rf "$BUILD/wheels"
"$PYTHON" -m pip wheel -q --disable-pip-version-check -w "$BUILD/wheels" "$ROOT[metrics]"

if [ ! -e "$BUILD/rootfs/.complete" ]; then
    echo "--- Debian $SUITE root file system from $MIRROR ($BUILD/rootfs)"
    $SUDO rm -rf "$BUILD/rootfs"
    $SUDO debootstrap --variant=minbase --include=python3,python3-venv "$SUITE" "$BUILD/rootfs" "$MIRROR" >"$BUILD/debootstrap.log" 2>&1 ||
        { tail -n 20 "$BUILD/debootstrap.log"; exit 1; }
    # What a container never needs: package caches and lists, documentation, locales.
    $SUDO rm -rf "$BUILD/rootfs/var/cache/apt/archives/"*.deb "$BUILD/rootfs/var/lib/apt/lists/"* \
        "$BUILD/rootfs/usr/share/doc" "$BUILD/rootfs/usr/share/man" "$BUILD/rootfs/usr/share/locale"
    $SUDO touch "$BUILD/rootfs/.complete"
fi

echo "--- the image ($TAG)"
ctr=$($SUDO buildah from scratch)
trap '$SUDO buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
$SUDO buildah copy --quiet "$ctr" "$BUILD/rootfs" /
$SUDO buildah copy --quiet "$ctr" "$BUILD/wheels" /tmp/wheels
$SUDO buildah run --isolation chroot "$ctr" -- sh -euc '
    rm -f /.complete
    python3 -m venv /opt/confpy
    /opt/confpy/bin/pip install -q --disable-pip-version-check --no-index --find-links /tmp/wheels "confpy[metrics]"
    /opt/confpy/bin/pip uninstall -q -y pip
    /opt/confpy/bin/python -m compileall -q /opt/confpy/lib
    rm -rf /tmp/wheels /root/.cache
    useradd --system --uid 10001 --user-group --home-dir /var/lib/confpy --shell /usr/sbin/nologin confpy
    mkdir -p /etc/confd/conf.d /etc/confd/templates /var/lib/confpy
    chown confpy:confpy /var/lib/confpy
'
$SUDO buildah config \
    --user confpy \
    --workingdir /var/lib/confpy \
    --env PATH=/opt/confpy/bin:/usr/local/bin:/usr/bin:/bin \
    --env PYTHONDONTWRITEBYTECODE=1 \
    --env CONFPY_STATE_FILE=/var/lib/confpy/state.json \
    --entrypoint '["confpy"]' \
    --port 9180 \
    --label org.opencontainers.image.title=confpy \
    --label org.opencontainers.image.version="$VERSION" \
    --label org.opencontainers.image.description="confd-compatible config renderer, as a sidecar" \
    "$ctr"
$SUDO buildah commit --quiet --rm "$ctr" "$TAG" >/dev/null
trap - EXIT
echo "built $TAG: buildah run --isolation chroot \$(buildah from $TAG) -- confpy -version"
