#!/bin/bash -e
# The image's own apt sources, with no build-time proxy or temporary
# repository left behind, and no package lists from the build.
rm -f "${ROOTFS_DIR}/etc/apt/apt.conf.d/51cache"
rm -f "${ROOTFS_DIR}/etc/apt/sources.list.d/00-temp.list"
find "${ROOTFS_DIR}/var/lib/apt/lists/" -type f -delete
# apt's package caches describe those lists (apt-get clean removes them too, after an upgrade).
rm -f "${ROOTFS_DIR}"/var/cache/apt/*.bin
