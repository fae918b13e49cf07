#!/bin/bash -e
# As upstream export-image: fresh package lists and every package upgraded at
# export, so an image built on cached stages still gets today's updates.
# EXPORT_UPGRADE=0 in the product config skips this (pi-image writes a SKIP
# file here): the image then holds exactly what the stages installed, with no
# package lists (apt update first on the device).
on_chroot <<EOF_CHROOT
apt-get update
apt-get -y dist-upgrade --auto-remove --purge
apt-get clean
EOF_CHROOT
