#!/bin/bash -e
# What upstream stage1 leaves for export: an fstab and a cmdline.txt naming the
# boot and root partitions by pi-gen's placeholders (the export writes the
# partition ids), a config.txt, the host name.
cat >"${ROOTFS_DIR}/etc/fstab" <<'FSTAB'
proc            /proc           proc    defaults          0       0
BOOTDEV  /boot/firmware  vfat    defaults          0       2
ROOTDEV  /               ext4    defaults,noatime  0       1
FSTAB
install -d -m 755 "${ROOTFS_DIR}/boot/firmware"
echo "console=serial0,115200 console=tty1 root=ROOTDEV rootfstype=ext4 fsck.repair=yes rootwait" >"${ROOTFS_DIR}/boot/firmware/cmdline.txt"
printf '[all]\narm_64bit=1\n' >"${ROOTFS_DIR}/boot/firmware/config.txt"
echo "${TARGET_HOSTNAME}" >"${ROOTFS_DIR}/etc/hostname"
