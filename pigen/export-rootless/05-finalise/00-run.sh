#!/bin/bash -e
# Upstream export-image's finalise step, the part inside the root file system,
# then the hand-over to pi-image: the prepared tree, the boot files apart, and
# the .info file, in ${WORK_DIR}/rootless-export/<image name>/.
NAME="${IMG_FILENAME}${IMG_SUFFIX}"
OUT="${WORK_DIR}/rootless-export/${NAME}"

on_chroot <<EOF_CHROOT
if command -v update-initramfs >/dev/null; then
	update-initramfs -k all -c
fi
if command -v hardlink >/dev/null; then
	hardlink -t /usr/share/doc
fi
if [ -f /usr/lib/systemd/system/apt-listchanges.service ]; then
	python3 -m apt_listchanges.populate_database --profile apt
	systemctl disable apt-listchanges.timer
fi
if getent passwd systemd-timesync >/dev/null; then
	install -m 755 -o systemd-timesync -g systemd-timesync -d /var/lib/systemd/timesync
	install -m 644 -o systemd-timesync -g systemd-timesync /dev/null /var/lib/systemd/timesync/clock
fi
EOF_CHROOT

if [ -f "${ROOTFS_DIR}/etc/initramfs-tools/update-initramfs.conf" ]; then
	sed -i 's/^update_initramfs=.*/update_initramfs=yes/' "${ROOTFS_DIR}/etc/initramfs-tools/update-initramfs.conf"
	sed -i 's/^MODULES=.*/MODULES=dep/' "${ROOTFS_DIR}/etc/initramfs-tools/initramfs.conf"
fi
if [ -d "${ROOTFS_DIR}/home/${FIRST_USER_NAME}/.config" ]; then
	chmod 700 "${ROOTFS_DIR}/home/${FIRST_USER_NAME}/.config"
fi
rm -f "${ROOTFS_DIR}/usr/bin/qemu-arm-static"
if [ "${USE_QEMU}" != "1" ] && [ -e "${ROOTFS_DIR}/etc/ld.so.preload.disabled" ]; then
	mv "${ROOTFS_DIR}/etc/ld.so.preload.disabled" "${ROOTFS_DIR}/etc/ld.so.preload"
fi
rm -f "${ROOTFS_DIR}/etc/network/interfaces.dpkg-old" "${ROOTFS_DIR}/etc/apt/sources.list~" "${ROOTFS_DIR}/etc/apt/trusted.gpg~"
for f in passwd group shadow gshadow subuid subgid; do
	rm -f "${ROOTFS_DIR}/etc/${f}-"
done
rm -f "${ROOTFS_DIR}"/var/cache/debconf/*-old "${ROOTFS_DIR}"/var/lib/dpkg/*-old "${ROOTFS_DIR}"/usr/share/icons/*/icon-theme.cache
rm -f "${ROOTFS_DIR}/var/lib/dbus/machine-id"
echo "uninitialized" >"${ROOTFS_DIR}/etc/machine-id"
ln -nsf /proc/mounts "${ROOTFS_DIR}/etc/mtab"
find "${ROOTFS_DIR}/var/log/" -type f -exec cp /dev/null {} \;
rm -f "${ROOTFS_DIR}/root/.vnc/private.key" "${ROOTFS_DIR}/etc/vnc/updateid"

update_issue "$(basename "${EXPORT_DIR}")"
mkdir -p "${ROOTFS_DIR}/boot/firmware"
install -m 644 "${ROOTFS_DIR}/etc/rpi-issue" "${ROOTFS_DIR}/boot/firmware/issue.txt"
if ! [ -L "${ROOTFS_DIR}/boot/issue.txt" ]; then
	ln -s firmware/issue.txt "${ROOTFS_DIR}/boot/issue.txt"
fi

unmount "${ROOTFS_DIR}"
rm -rf "${OUT}"
mkdir -p "${OUT}/bootfs"
{
	cat "${ROOTFS_DIR}/etc/rpi-issue"
	printf "\nPackages:\n"
	dpkg -l --root "${ROOTFS_DIR}"
} >"${OUT}/${NAME}.info"
if command -v syft >/dev/null; then
	syft scan dir:"${ROOTFS_DIR}" --base-path="${ROOTFS_DIR}" --source-name="${IMG_NAME}${IMG_SUFFIX}" \
		--source-version="${IMG_DATE}" -o spdx-json="${OUT}/${NAME}.sbom"
fi
find "${ROOTFS_DIR}/boot/firmware" -mindepth 1 -maxdepth 1 -exec mv -t "${OUT}/bootfs" {} +
mv "${ROOTFS_DIR}" "${OUT}/rootfs"
touch "${OUT}/.prepared"
