#!/bin/bash -e
# Runs inside the arm64 root file system (under emulation on other hosts): the first user, as upstream stage1 makes it.
if ! id -u "${FIRST_USER_NAME}" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/bash --user-group "${FIRST_USER_NAME}"
fi
if [ -n "${FIRST_USER_PASS}" ]; then
	echo "${FIRST_USER_NAME}:${FIRST_USER_PASS}" | chpasswd
else
	passwd --lock "${FIRST_USER_NAME}"
fi
