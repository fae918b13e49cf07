#!/bin/bash -e
# OurBox Mini on Debian alone: a base stage that takes every package from
# Debian's archive (upstream stage0-2 need archive.raspberrypi.com), with
# pi-gen's own bootstrap helper and the config's RELEASE.
if [ ! -d "${ROOTFS_DIR}" ]; then
	bootstrap "${RELEASE}" "${ROOTFS_DIR}" http://deb.debian.org/debian/
fi
