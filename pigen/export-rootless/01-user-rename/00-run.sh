#!/bin/bash -e
# First-boot user rename, as upstream export-image; only where the image's apt
# sources have userconf-pi (Raspberry Pi's archive).
on_chroot <<EOF_CHROOT
if [ "${DISABLE_FIRST_BOOT_USER_RENAME}" = "1" ]; then
	rm -f /etc/xdg/autostart/piwiz.desktop
elif apt-cache show userconf-pi >/dev/null 2>&1; then
	apt-get -o Acquire::Retries=3 install -y userconf-pi
	SUDO_USER="${FIRST_USER_NAME}" rename-user -f -s
else
	echo "pi-image export: userconf-pi is not in this image's apt sources: no first-boot user rename"
fi
EOF_CHROOT
