#!/bin/bash -e
# OurBox Mini on Debian alone: a base stage that takes every package from
# Debian's archive (upstream stage0-2 need archive.raspberrypi.com). A minimal
# Debian (minbase) with systemd, udev and what the OurBox stage and the boot
# test use: under emulation every package configured costs time. debootstrap
# runs as pi-gen's own bootstrap helper does (the build's apt proxy, arm64),
# and a bootstrap that left its work behind fails the stage.
if [ ! -d "${ROOTFS_DIR}" ]; then
	http_proxy="${APT_PROXY}" debootstrap --arch arm64 --variant=minbase --components main \
		--include=systemd-sysv,udev,kmod,util-linux,e2fsprogs,ca-certificates,passwd,login,gnupg,apt-utils \
		"${RELEASE}" "${ROOTFS_DIR}" http://deb.debian.org/debian/
	if [ -d "${ROOTFS_DIR}/debootstrap" ]; then
		echo "debootstrap did not finish: see ${ROOTFS_DIR}/debootstrap/debootstrap.log"
		exit 1
	fi
fi
