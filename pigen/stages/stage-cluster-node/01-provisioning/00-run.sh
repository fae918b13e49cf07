#!/bin/bash -e
# The first-boot provisioning service (docs/provisioning.md): its script, the
# node lookup, the unit, and the bootstrap repository the image is pinned to.
# The repository's URL and commit come from the product config
# (CLUSTER_BOOTSTRAP_URL, CLUSTER_BOOTSTRAP_COMMIT); a full commit id, never a
# branch, so every node of one image provisions from the same tree.
# Rewritten whole on every run: running it twice gives the same files.

: "${ROOTFS_DIR:?ROOTFS_DIR must be set (run by pi-gen)}"
: "${CLUSTER_BOOTSTRAP_URL:?stage-cluster-node: CLUSTER_BOOTSTRAP_URL is not set; set it in the product config}"
: "${CLUSTER_BOOTSTRAP_COMMIT:?stage-cluster-node: CLUSTER_BOOTSTRAP_COMMIT is not set; set it in the product config}"

if [[ ! "$CLUSTER_BOOTSTRAP_URL" =~ ^(https|http|git|ssh|file)://[A-Za-z0-9._~:/@%+=-]+$ ]]; then
	echo "stage-cluster-node: CLUSTER_BOOTSTRAP_URL=\"$CLUSTER_BOOTSTRAP_URL\" is not an https, http, git, ssh or file URL of [A-Za-z0-9._~:/@%+=-]" >&2
	exit 1
fi
if [[ ! "$CLUSTER_BOOTSTRAP_COMMIT" =~ ^[0-9a-f]{40}$ ]]; then
	echo "stage-cluster-node: CLUSTER_BOOTSTRAP_COMMIT=\"$CLUSTER_BOOTSTRAP_COMMIT\" is not a full commit id (40 hex digits): pin a commit, not a branch" >&2
	exit 1
fi

install -d -m 755 "${ROOTFS_DIR}/usr/lib/cluster-node" "${ROOTFS_DIR}/etc/cluster-node" "${ROOTFS_DIR}/var/lib/cluster-node"
install -m 755 files/provision "${ROOTFS_DIR}/usr/lib/cluster-node/provision"
install -m 755 files/node-lookup.py "${ROOTFS_DIR}/usr/lib/cluster-node/node-lookup.py"
install -m 644 files/cluster-node-provision.service "${ROOTFS_DIR}/etc/systemd/system/cluster-node-provision.service"

tmp=$(mktemp "${ROOTFS_DIR}/etc/cluster-node/.bootstrap.XXXXXX")
{
	echo "# The bootstrap repository this image provisions from (stage-cluster-node)."
	echo "# /boot/firmware/cluster-node-bootstrap.conf overrides these two keys."
	echo "BOOTSTRAP_URL=${CLUSTER_BOOTSTRAP_URL}"
	echo "BOOTSTRAP_COMMIT=${CLUSTER_BOOTSTRAP_COMMIT}"
} >"$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "${ROOTFS_DIR}/etc/cluster-node/bootstrap.conf"
