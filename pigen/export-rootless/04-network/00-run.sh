#!/bin/bash -e
# The resolv.conf upstream export-image installs (read from the pi-gen checkout).
install -m 644 "${BASE_DIR}/export-image/03-network/files/resolv.conf" "${ROOTFS_DIR}/etc/"
