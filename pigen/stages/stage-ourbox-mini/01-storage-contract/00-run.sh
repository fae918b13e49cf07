#!/bin/bash -e
# Host contract 2, host side: the DATA disk mounts at /var/lib/ourbox by label.
# Exactly one fstab line for LABEL=OURBOX_DATA, whatever was there before and
# however often this runs.

: "${ROOTFS_DIR:?ROOTFS_DIR must be set (run by pi-gen)}"

DATA_LINE='LABEL=OURBOX_DATA /var/lib/ourbox ext4 defaults,noatime,nofail,x-systemd.device-timeout=10 0 2'
FSTAB="${ROOTFS_DIR}/etc/fstab"

install -d -m 755 "${ROOTFS_DIR}/var/lib/ourbox"
touch "$FSTAB"
tmp=$(mktemp "${ROOTFS_DIR}/etc/.fstab.XXXXXX")
# Keep every other line; drop any earlier entry for the label or the mount point.
awk '!($1 == "LABEL=OURBOX_DATA" || $2 == "/var/lib/ourbox")' "$FSTAB" >"$tmp"
printf '%s\n' "$DATA_LINE" >>"$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "$FSTAB"
