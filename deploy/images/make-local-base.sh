#!/usr/bin/env bash
# A local JRE base image as a docker-archive tar, for building the images where no registry is
# reachable (Jib reads it with -Dunclip.image.cpu-base=tar://FILE). Real builds use the default
# registry base (eclipse-temurin:17-jre); this is for checking the build offline.
#
#   deploy/images/make-local-base.sh [OUT_TAR]     (default ~/.cache/unclip/base-image.tar)
#
# Debian bookworm minbase + openjdk-17-jre-headless via debootstrap (needs root, a Debian mirror:
# DEBIAN_MIRROR, default deb.debian.org), packed by hand into one layer: no podman/docker needed.
set -euo pipefail
out=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/unclip/base-image.tar}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tag=${BASE_TAG:-localhost/unclip-base:bookworm-jre17}

command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
work=$(mktemp -d)
trap 'umount "$work/rootfs/proc" 2>/dev/null || true; rm -rf "$work"' EXIT

debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates \
  bookworm "$work/rootfs" "$mirror" >&2
# apt caches and docs are dead weight in an image
rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/* \
  "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/* "$work"/rootfs/usr/share/locale/*
# the JRE runs in its own root (it finds itself through /proc, as it will in a container)
mount -t proc proc "$work/rootfs/proc"
chroot "$work/rootfs" java -version >&2
umount "$work/rootfs/proc"

# docker-archive: manifest.json, the config JSON, one uncompressed layer tar
mkdir "$work/img"
tar --numeric-owner --sort=name --mtime=@0 -C "$work/rootfs" -cf "$work/img/layer.tar" .
diff=$(sha256sum "$work/img/layer.tar" | cut -d' ' -f1)
mkdir "$work/img/$diff" && mv "$work/img/layer.tar" "$work/img/$diff/layer.tar"
jhome=$(cd "$work/rootfs" && ls -d usr/lib/jvm/java-17-openjdk-* | head -1)
cat > "$work/img/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","JAVA_HOME=/$jhome","LANG=C.UTF-8"],"Cmd":["/bin/bash"]},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff"]},
 "history":[{"created":"1970-01-01T00:00:00Z","created_by":"deploy/images/make-local-base.sh (debootstrap bookworm, openjdk-17-jre-headless)"}]}
JSON
cfg=$(sha256sum "$work/img/config.json" | cut -d' ' -f1)
mv "$work/img/config.json" "$work/img/$cfg.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' "$cfg" "$tag" "$diff" \
  > "$work/img/manifest.json"
mkdir -p "$(dirname "$out")"
tar -C "$work/img" -cf "$out.tmp" manifest.json "$cfg.json" "$diff"
mv "$out.tmp" "$out"
echo "$out ($(du -h "$out" | cut -f1)): $tag" >&2
