#!/bin/bash -e
# Builds a real Raspberry-Pi-OS-shaped disk image from Debian's arm64 packages,
# laid out the way pi-gen's export-image lays one out: msdos label, 8 MiB
# alignment, p1 FAT32 "bootfs" (512 MiB), p2 ext4 "rootfs" sized from the rootfs
# + 20 % + 200 MiB, PARTUUIDs in fstab and cmdline.txt. No mount is needed:
# the FAT is filled with mtools and the ext4 built with mkfs.ext4 -d.
#
# Usage: build-test-image.sh OUT_DIR
# Writes OUT_DIR/<IMG>.img, OUT_DIR/<IMG>.info and OUT_DIR/rootfs.tar-free marker
# files; OUT_DIR appears only when everything succeeded.
# Needs root (mmdebstrap, a chroot), qemu-user-static with binfmt_misc, dosfstools,
# mtools, e2fsprogs, fdisk.
set -e -u -o pipefail

OUT_DIR=${1:?usage: build-test-image.sh OUT_DIR}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=${TEST_IMAGE_SUITE:-bookworm}
MIRROR=${TEST_IMAGE_MIRROR:-http://deb.debian.org/debian}
IMG_NAME=2026-01-19-ourbox-test
ALIGN=$((8 * 1024 * 1024))
BOOT_SIZE=$((512 * 1024 * 1024))
DISK_ID=0x5eed1234
PARTUUID_PREFIX=5eed1234

log() { printf '[build-test-image] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	log "needs root (mmdebstrap and a chroot)"; exit 2
fi
for tool in mmdebstrap mkfs.vfat mcopy mmd mkfs.ext4 sfdisk dpkg; do
	command -v "$tool" >/dev/null || { log "missing tool: $tool"; exit 2; }
done

# binfmt_misc must be mounted and qemu-aarch64 registered for the second stage.
if [ "$(uname -m)" != aarch64 ]; then
	if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	fi
	if ! grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
		update-binfmts --enable qemu-aarch64
	fi
fi

mkdir -p "$(dirname "$OUT_DIR")"
WORK=$(mktemp -d "${OUT_DIR%/}.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/rootfs
BOOT=$WORK/bootfs

# mmdebstrap, not debootstrap: it resolves and downloads with the host's apt, so only dpkg and the
# packages' own scripts run under emulation (debootstrap's second stage also parses the archive's
# indexes with perl under qemu: minutes more). Debian's cloud-init comes in, switched off (below):
# the boot test of a customised image turns it on. git is for the cluster-node product's first-boot
# provisioning, which the boot test installs into a copy of this image.
log "mmdebstrap $SUITE arm64 (packages configured under qemu)"
mmdebstrap --mode=root --arch=arm64 --variant=minbase \
	--include=systemd-sysv,udev,kmod,util-linux,e2fsprogs,ca-certificates,cloud-init,git \
	"$SUITE" "$ROOT" "$MIRROR" >"$WORK/mmdebstrap.log" 2>&1 || { tail -20 "$WORK/mmdebstrap.log"; exit 1; }
rm -rf "$ROOT/var/cache/apt/archives/"*.deb "$ROOT/var/lib/apt/lists/"*

log "fstab as pi-gen's stage1 and export-image leave it"
mkdir -p "$ROOT/boot/firmware"
cat >"$ROOT/etc/fstab" <<FSTAB
proc            /proc           proc    defaults          0       0
PARTUUID=${PARTUUID_PREFIX}-01  /boot/firmware  vfat    defaults          0       2
PARTUUID=${PARTUUID_PREFIX}-02  /               ext4    defaults,noatime  0       1
FSTAB

# cloud-init seeded (NoCloud) from the boot partition, where Raspberry Pi Imager and pi-image
# customise write user-data, meta-data and network-config, as Raspberry Pi OS seeds it; its local
# stage reads the seed, so the boot partition is mounted first. Switched off by Debian's own marker,
# cloud-init.disabled: the image takes no first-boot customisation (init_format none) until a test
# removes the marker.
log "cloud-init: seeded from the boot partition, switched off"
mkdir -p "$ROOT/etc/cloud/cloud.cfg.d" "$ROOT/etc/systemd/system/cloud-init-local.service.d"
cat >"$ROOT/etc/cloud/cloud.cfg.d/99_boot-partition.cfg" <<'CFG'
datasource_list: [ NoCloud, None ]
datasource:
  NoCloud:
    seedfrom: file:///boot/firmware/
# minbase has no locales package for cloud-init's locale module to configure.
locale: false
CFG
printf '[Unit]\nRequiresMountsFor=/boot/firmware\n' >"$ROOT/etc/systemd/system/cloud-init-local.service.d/boot-partition.conf"
touch "$ROOT/etc/cloud/cloud-init.disabled"

# The product's real stage scripts, run the way pi-gen runs them: *-run.sh on the
# host with ROOTFS_DIR, *-run-chroot.sh piped into a chroot (under qemu). Each
# runs twice: the stages must be idempotent, and the tests check the result.
log "stage-ourbox-mini (twice)"
STAGE=$REPO/pigen/stages/stage-ourbox-mini
export ROOTFS_DIR=$ROOT OURBOX_PRODUCT=ourbox OURBOX_DEVICE=mini OURBOX_TARGET=rpi \
	OURBOX_SKU=TOO-OBX-MINI-01 OURBOX_VARIANT=dev PI_IMAGE_VERSION=0.0.0-test \
	PI_IMAGE_RECIPE_GIT_HASH=0123456789abcdef0123456789abcdef01234567
for _ in 1 2; do
	for sub in "$STAGE"/[0-9][0-9]-*/; do
		for i in $(seq -w 0 99); do
			if [ -x "$sub$i-run.sh" ]; then (cd "$sub" && "./$i-run.sh"); fi
			if [ -f "$sub$i-run-chroot.sh" ]; then chroot "$ROOT" /bin/bash -e <"$sub$i-run-chroot.sh"; fi
		done
	done
done

log "boot files"
echo ourbox-mini >"$ROOT/etc/hostname"

mkdir -p "$BOOT/overlays"
cat >"$BOOT/config.txt" <<'CONFIG'
# For more options and information see http://rptl.io/configtxt
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
auto_initramfs=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
arm_64bit=1

[pi5]
dtparam=pciex1
dtparam=pciex1_gen=3
CONFIG
printf 'console=serial0,115200 console=tty1 root=PARTUUID=%s-02 rootfstype=ext4 fsck.repair=yes rootwait\n' \
	"$PARTUUID_PREFIX" >"$BOOT/cmdline.txt"
printf 'Overlays for the test image.\n' >"$BOOT/overlays/README"
cp "$ROOT/usr/share/common-licenses/GPL-2" "$BOOT/LICENCE.broadcom-long-file-name.txt"

log "filesystems"
ROOT_BYTES=$(du -sb --apparent-size "$ROOT" | cut -f1)
ROOT_PART_SIZE=$(( (ROOT_BYTES * 12 / 10 + 200 * 1024 * 1024 + ALIGN - 1) / ALIGN * ALIGN ))
BOOT_START=$ALIGN
ROOT_START=$((BOOT_START + BOOT_SIZE))
IMG_SIZE=$((ROOT_START + ROOT_PART_SIZE))

truncate -s "$BOOT_SIZE" "$WORK/boot.fat"
mkfs.vfat -F 32 -n bootfs -S 512 -s 8 "$WORK/boot.fat" >/dev/null
mmd -i "$WORK/boot.fat" ::/overlays
mcopy -i "$WORK/boot.fat" "$BOOT/config.txt" "$BOOT/cmdline.txt" "$BOOT/LICENCE.broadcom-long-file-name.txt" ::/
mcopy -i "$WORK/boot.fat" "$BOOT/overlays/README" ::/overlays/

truncate -s "$ROOT_PART_SIZE" "$WORK/root.ext4"
E2FSPROGS_FAKE_TIME=1768780800 mkfs.ext4 -q -L rootfs -U 11111111-2222-3333-4444-555555555555 \
	-E root_owner=0:0 -d "$ROOT" "$WORK/root.ext4"

log "disk image ($IMG_SIZE bytes)"
IMG=$WORK/$IMG_NAME.img
truncate -s "$IMG_SIZE" "$IMG"
sfdisk --quiet "$IMG" <<SFDISK
label: dos
label-id: $DISK_ID
unit: sectors

start=$((BOOT_START / 512)), size=$((BOOT_SIZE / 512)), type=c
start=$((ROOT_START / 512)), size=$((ROOT_PART_SIZE / 512)), type=83
SFDISK
dd if="$WORK/boot.fat" of="$IMG" bs=1M seek=$((BOOT_START / 1048576)) conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$IMG" bs=1M seek=$((ROOT_START / 1048576)) conv=notrunc,sparse status=none

log "package manifest (.info)"
{
	printf 'OurBox OS test image (dev) 2026-01-19\n'
	printf 'Generated using pi-gen, https://github.com/RPi-Distro/pi-gen, %s, stage-ourbox-mini\n' \
		ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5
	printf '\nPackages:\n'
	COLUMNS=200 dpkg -l --root "$ROOT"
} >"$WORK/$IMG_NAME.info"

mkdir -p "$WORK/out"
mv "$IMG" "$WORK/$IMG_NAME.info" "$WORK/out/"
rm -rf "$OUT_DIR"
mv "$WORK/out" "$OUT_DIR"
log "done: $OUT_DIR"
