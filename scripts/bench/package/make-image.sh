#!/bin/bash
# Makes the package benchmark's input: a 4 GiB disk image laid out like pi-gen's
# (msdos label, 8 MiB alignment, 512 MiB FAT32 bootfs, ext4 rootfs) whose root
# file system holds at least 1 GiB of real files (this machine's own /usr),
# plus a .info and a build.log, in a deploy/ directory.
# Usage: make-image.sh DEPLOY_DIR [REAL_DATA_MIB]
set -euo pipefail
DEPLOY=${1:?usage: make-image.sh DEPLOY_DIR [REAL_DATA_MIB]}
DATA_MIB=${2:-1200}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT_OF_REPO=$(cd "$HERE/../../.." && pwd)
NAME=2026-01-19-bench
MiB=$((1024 * 1024))

mkdir -p "$DEPLOY"
WORK=$(mktemp -d "$DEPLOY/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Real files: whole directories of /usr until DATA_MIB is reached.
mkdir -p "$WORK/root/usr"
total=0
for dir in /usr/lib/x86_64-linux-gnu /usr/lib/jvm /usr/share /usr/bin /usr/lib/gcc /usr/libexec /usr/lib/python3 /usr/local; do
	[ -d "$dir" ] || continue
	[ "$total" -ge $((DATA_MIB * MiB)) ] && break
	mkdir -p "$WORK/root$(dirname "$dir")"
	cp -a "$dir" "$WORK/root$dir" 2>/dev/null || true
	total=$(du -sb "$WORK/root" | cut -f1)
done
echo "real data: $((total / MiB)) MiB" >&2
if [ "$total" -lt $((1024 * MiB)) ]; then echo "not enough real files for 1 GiB" >&2; exit 1; fi

truncate -s 512M "$WORK/boot.fat"
mkfs.vfat -F 32 -n bootfs "$WORK/boot.fat" >/dev/null
printf 'arm_64bit=1\n' >"$WORK/config.txt"
printf 'root=PARTUUID=b0b0b0b0-02 rootwait\n' >"$WORK/cmdline.txt"
mcopy -i "$WORK/boot.fat" "$WORK/config.txt" "$WORK/cmdline.txt" ::/

IMG=$DEPLOY/$NAME.img
ROOT_MIB=$((4096 - 8 - 512))
truncate -s "${ROOT_MIB}M" "$WORK/root.ext4"
mkfs.ext4 -q -L rootfs -d "$WORK/root" "$WORK/root.ext4"
rm -f "$IMG"
truncate -s 4G "$IMG"
sfdisk --quiet "$IMG" <<SFDISK
label: dos
label-id: 0xb0b0b0b0
start=16384, size=1048576, type=c
start=1064960, size=$((ROOT_MIB * 2048)), type=83
SFDISK
dd if="$WORK/boot.fat" of="$IMG" bs=1M seek=8 conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$IMG" bs=1M seek=520 conv=notrunc,sparse status=none
{
	printf 'Bench OS (dev) 2026-01-19\n'
	printf 'Generated using pi-gen, https://github.com/RPi-Distro/pi-gen, ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5, stage-bench\n\nPackages:\n'
	COLUMNS=200 dpkg -l
} >"$DEPLOY/$NAME.info"
cp "$ROOT_OF_REPO/test/fixtures/pigen-ourbox-mini-2026-01-19/build.log" "$DEPLOY/build.log"
echo "$IMG" >&2
