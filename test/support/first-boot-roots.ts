/**
 * Root file system files that give a small test image each first-boot route
 * Raspberry Pi Imager knows (what src/lib/image/first-boot.ts looks for), for
 * makeSmallImage/makeRelease's rootFiles. The boot-tested route (Debian's real
 * cloud-init in the test image) is in scripts/test-image/build-test-image.sh.
 */

/** cloud-init seeded from the boot partition (mounted where the seed says), with its Raspberry Pi module: cloudinit-rpi. */
export const CLOUD_INIT_ROOT = {
  'etc/fstab': 'proc /proc proc defaults 0 0\nLABEL=bootfs /boot/firmware vfat defaults 0 2\n',
  'usr/bin/cloud-init': '#!/usr/bin/python3\n',
  'etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg': 'datasource_list: [ NoCloud, None ]\ndatasource:\n  NoCloud:\n    seedfrom: file:///boot/firmware\n',
  'usr/lib/python3/dist-packages/cloudinit/config/cc_raspberry_pi.py': '# the rpi: keys\n',
};

/** raspberrypi-sys-mods' imager_custom and userconf-pi, the boot partition at /boot: Imager's firstrun.sh route (systemd). */
export const FIRSTRUN_ROOT = {
  'etc/fstab': 'proc /proc proc defaults 0 0\nLABEL=bootfs /boot vfat defaults 0 2\n',
  'usr/lib/raspberrypi-sys-mods/imager_custom': '#!/bin/sh\n',
  'usr/lib/userconf-pi/userconf': '#!/bin/sh\n',
};
