#!/bin/sh
# Boot test check (runs inside the booted image): host contract 1.
# /etc/ourbox/release has its seven keys, each with a value, and the version
# being released (PI_IMAGE_EXPECTED_VERSION, when the boot test knows it).
f=/etc/ourbox/release
if [ ! -f "$f" ]; then
	echo "$f is missing"
	exit 1
fi
for key in OURBOX_PRODUCT OURBOX_DEVICE OURBOX_TARGET OURBOX_SKU OURBOX_VARIANT OURBOX_VERSION OURBOX_RECIPE_GIT_HASH; do
	if ! grep -q "^$key=." "$f"; then
		echo "$f has no value for $key"
		exit 1
	fi
done
if [ -n "${PI_IMAGE_EXPECTED_VERSION:-}" ] && ! grep -qx "OURBOX_VERSION=$PI_IMAGE_EXPECTED_VERSION" "$f"; then
	echo "$f says $(grep '^OURBOX_VERSION=' "$f"), not OURBOX_VERSION=$PI_IMAGE_EXPECTED_VERSION"
	exit 1
fi
echo "$f: seven keys, OURBOX_VERSION=${PI_IMAGE_EXPECTED_VERSION:-(not checked)}"
