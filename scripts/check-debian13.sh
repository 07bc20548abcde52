#!/usr/bin/env bash
# Runs a fresh clone's `npm test` on Debian 13 (trixie, PostgreSQL 17) in a chroot, from a path
# with a space in it. Not part of `npm test`: it takes a while and needs root (debootstrap, chroot).
#
#   sudo scripts/check-debian13.sh [work folder]     # default /var/tmp/ai-cache-trixie
#
# The first run debootstraps trixie into <work folder>/root (kept for later runs). The chroot gets
# the host's CA certificates and npm configuration (to reach the registries through the same
# proxies), Debian's own nodejs and npm, and a clone of this repository's committed HEAD. Prints
# the suite's last line, `summary: N passed, N failed`; exit status is npm test's.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/var/tmp/ai-cache-trixie}"
root="$work/root"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
clone="/opt/ai cache clone"

if [ "$(id -u)" != 0 ]; then echo "check-debian13: run as root (debootstrap and chroot need it)" >&2; exit 1; fi
command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q debootstrap; }

if [ ! -f "$root/etc/debian_version" ]; then
  mkdir -p "$work"
  debootstrap --variant=minbase --include=ca-certificates,git trixie "$root" "$mirror"
fi

mounted=()
mnt() { mount "$@" && mounted+=("${@: -1}"); }
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
mnt -t proc proc "$root/proc"
mnt -t sysfs sys "$root/sys"
mnt --bind /dev "$root/dev"
mnt -t devpts devpts "$root/dev/pts"
mnt -t tmpfs shm "$root/dev/shm"   # PostgreSQL's shared memory

# The host's network settings, CA certificates and npm configuration.
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [ -d /usr/local/share/ca-certificates ]; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi
for f in /etc/npmrc /root/.npmrc; do [ -f "$f" ] && mkdir -p "$root$(dirname "$f")" && cp "$f" "$root$f"; done
for f in $(grep -h '^cafile' /etc/npmrc /root/.npmrc 2>/dev/null | sed 's/^cafile *= *//'); do
  [ -f "$f" ] && mkdir -p "$root$(dirname "$f")" && cp "$f" "$root$f"
done

chroot "$root" /bin/bash -euo pipefail -c '
  export DEBIAN_FRONTEND=noninteractive
  update-ca-certificates >/dev/null
  if ! command -v npm >/dev/null; then apt-get update -q && apt-get install -y -q --no-install-recommends nodejs npm; fi
  echo "Debian $(cat /etc/debian_version), node $(node -v), npm $(npm -v)"
'

rm -rf "$root$clone"
git clone -q "$repo" "$root$clone"
set +e
chroot "$root" /bin/bash -c "cd '$clone' && npm test" 2>&1 | tee "$work/npm-test.log"
status=${PIPESTATUS[0]}
set -e
echo "check-debian13: git status of the clone after npm test:"
git -C "$root$clone" status --short
grep '^summary:' "$work/npm-test.log" | tail -1
exit "$status"
