#!/bin/bash -e
# The image's own apt sources, up to date, with no build-time proxy or
# temporary repository left behind.
rm -f "${ROOTFS_DIR}/etc/apt/apt.conf.d/51cache"
rm -f "${ROOTFS_DIR}/etc/apt/sources.list.d/00-temp.list"
find "${ROOTFS_DIR}/var/lib/apt/lists/" -type f -delete
on_chroot <<EOF_CHROOT
apt-get update
apt-get -y dist-upgrade --auto-remove --purge
apt-get clean
EOF_CHROOT
