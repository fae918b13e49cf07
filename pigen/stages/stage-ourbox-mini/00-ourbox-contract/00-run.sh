#!/bin/bash -e
# Host contract 1: /etc/ourbox/release, KEY=VALUE lines describing this build.
# Identity comes from the product config; the version and the recipe's commit
# come from the build (pi-image exports PI_IMAGE_VERSION and
# PI_IMAGE_RECIPE_GIT_HASH), never from git inside the build container.
# Rewritten whole on every run: running it twice gives the same file.

: "${ROOTFS_DIR:?ROOTFS_DIR must be set (run by pi-gen)}"

OURBOX_VERSION=${OURBOX_VERSION:-${PI_IMAGE_VERSION:-}}
OURBOX_RECIPE_GIT_HASH=${OURBOX_RECIPE_GIT_HASH:-${PI_IMAGE_RECIPE_GIT_HASH:-}}

for key in OURBOX_PRODUCT OURBOX_DEVICE OURBOX_TARGET OURBOX_SKU OURBOX_VARIANT OURBOX_VERSION OURBOX_RECIPE_GIT_HASH; do
	value=${!key:-}
	if [ -z "$value" ]; then
		echo "stage-ourbox-mini: $key is not set; set it in the product config or pass it to the build" >&2
		exit 1
	fi
	# One KEY=VALUE per line: a value may not break the line or the format.
	if [[ ! "$value" =~ ^[A-Za-z0-9._+:~-]+$ ]]; then
		echo "stage-ourbox-mini: $key=\"$value\" has characters outside [A-Za-z0-9._+:~-]" >&2
		exit 1
	fi
done

install -d -m 755 "${ROOTFS_DIR}/etc/ourbox"
tmp=$(mktemp "${ROOTFS_DIR}/etc/ourbox/.release.XXXXXX")
{
	echo "OURBOX_PRODUCT=${OURBOX_PRODUCT}"
	echo "OURBOX_DEVICE=${OURBOX_DEVICE}"
	echo "OURBOX_TARGET=${OURBOX_TARGET}"
	echo "OURBOX_SKU=${OURBOX_SKU}"
	echo "OURBOX_VARIANT=${OURBOX_VARIANT}"
	echo "OURBOX_VERSION=${OURBOX_VERSION}"
	echo "OURBOX_RECIPE_GIT_HASH=${OURBOX_RECIPE_GIT_HASH}"
} >"$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "${ROOTFS_DIR}/etc/ourbox/release"
