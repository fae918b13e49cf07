#!/bin/sh
# Boot test check (runs inside the booted image): host contract 2 trims the
# SSDs weekly: fstrim.timer is enabled and active.
state=$(systemctl is-active fstrim.timer)
if [ "$state" != active ]; then
	echo "fstrim.timer is $state, not active"
	exit 1
fi
echo "fstrim.timer is active"
