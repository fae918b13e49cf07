/**
 * What the boot test puts into the machine it boots, never into the image:
 * the initramfs's /init (busybox), which loads the virtio and file-system
 * modules, mounts the image's root read-only, puts the probe into a tmpfs on
 * /run (a systemd unit in /run/systemd/system, so the image's files are not
 * touched) and hands over to the image's own init; and the probe, which runs
 * once multi-user.target is reached and reports over the serial console.
 *
 * Every line the probe and /init print starts with a marker and the run's
 * nonce, so nothing else on the console can be mistaken for a report.
 */

/** Bumped when anything here changes: part of the cache key of the boot kit. */
export const PROBE_VERSION = 6;

export const INIT_MARKER = 'PI-IMAGE-INIT';
export const PROBE_MARKER = 'PI-IMAGE-PROBE';
/** Where the probe lives in the booted system (a tmpfs the initramfs mounts). */
export const PROBE_DIR = '/run/pi-image';

export const INIT_SCRIPT = `#!/bin/busybox sh
# pi-image boot test: the initramfs's init. Loads modules, mounts the image's
# root read-only, installs the probe into a tmpfs on /run, switches to the
# image's own init. On any failure it says why and powers off.
/bin/busybox mkdir -p /proc /sys /dev /root /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
NONCE=none
ROOT=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	pi_image.nonce=*) NONCE=\${arg#*=} ;;
	pi_image.root=*) ROOT=\${arg#*=} ;;
	esac
done
say() { echo "${INIT_MARKER}:$NONCE:$*" >/dev/console; }
fail() { say "failed=$*"; sync; poweroff -f; sleep 5; exit 1; }
say "start"
while read -r module; do
	insmod "/modules/$module.ko" || fail "module $module could not be loaded"
done </modules/order
[ -n "$ROOT" ] || fail "no pi_image.root= on the kernel command line"
i=0
while [ ! -b "$ROOT" ]; do
	i=$((i + 1))
	[ "$i" -lt 300 ] || fail "the root device $ROOT never appeared"
	sleep 0.1
done
mount -t ext4 -o ro "$ROOT" /root || fail "$ROOT could not be mounted as ext4"
[ -x /root/sbin/init ] || [ -L /root/sbin/init ] || fail "the image has no /sbin/init"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /root/run || fail "no tmpfs on /run"
mkdir -p /root/run/systemd/system /root${PROBE_DIR}
cp -a /probe/systemd/. /root/run/systemd/system/ || fail "the probe's units could not be installed"
cp -a /probe/probe.sh /probe/probe.conf /root${PROBE_DIR}/ || fail "the probe could not be installed"
if [ -d /probe/checks ]; then cp -a /probe/checks /root${PROBE_DIR}/; fi
say "switch"
umount /proc /sys
mount --move /dev /root/dev
exec switch_root /root /sbin/init
`;

export const PROBE_UNIT = `[Unit]
Description=pi-image boot test probe
After=multi-user.target
DefaultDependencies=no

[Service]
Type=oneshot
ExecStart=/bin/sh ${PROBE_DIR}/probe.sh
StandardOutput=journal
StandardError=journal
`;

/**
 * Runs in the booted image with its own /bin/sh (dash or bash): waits for the
 * boot's other jobs to finish, then reports facts; the host decides. Reports
 * go to /dev/kmsg, one record per line, which the kernel prints on the serial
 * console (the command line has ignore_loglevel and printk.devkmsg=on): a
 * getty starting on the console hangs up whoever writes to the tty, never
 * the kernel.
 */
export const PROBE_SCRIPT = `#!/bin/sh
# pi-image boot test probe: reports what the booted system is, one marker line each.
. ${PROBE_DIR}/probe.conf
out() { printf '<5>%s:%s:%.900s\\n' '${PROBE_MARKER}' "$NONCE" "$*" >/dev/kmsg; }
out "start"
# Device jobs are left out: a nofail line's device that is not there waits out its timeout in the
# background. Booted without the DATA disk, so is whatever waits for it (its mount).
ignore='pi-image-probe[.]service|[.]device '
[ "$DATA_DISK" = absent ] && ignore="$ignore|waiting *$"
deadline=$(($(date +%s) + JOB_WAIT))
while :; do
	pending=$(systemctl list-jobs --no-legend --no-pager 2>/dev/null | grep -Ev "$ignore")
	[ -z "$pending" ] && break
	[ "$(date +%s)" -ge "$deadline" ] && break
	sleep 0.5
done
out "jobs-pending=$(printf '%s' "$pending" | grep -c .)"
printf '%s\n' "$pending" | head -n 10 | while read -r _ unit _; do
	[ -n "$unit" ] && out "pending-job=$unit"
done
out "multi-user=$(systemctl is-active multi-user.target)"
systemctl list-units --failed --plain --no-legend --no-pager 2>/dev/null | while read -r unit _; do
	[ -n "$unit" ] && out "failed-unit=$unit"
done
if [ -n "$DATA_LABEL" ]; then
	fstab=$(awk -v l="LABEL=$DATA_LABEL" '$1 == l { print $2; exit }' /etc/fstab 2>/dev/null)
	out "data-fstab=\${fstab:-none}"
	mounted=$(findmnt -rn -S "LABEL=$DATA_LABEL" -o TARGET 2>/dev/null | head -n 1)
	out "data-mounted=\${mounted:-none}"
fi
for check in ${PROBE_DIR}/checks/*; do
	[ -f "$check" ] || continue
	name=\${check##*/}
	PI_IMAGE_EXPECTED_VERSION=$EXPECTED_VERSION PI_IMAGE_DATA_LABEL=$DATA_LABEL PI_IMAGE_DATA_DISK=$DATA_DISK PI_IMAGE_BOOT=$BOOT \\
		timeout 60 "$check" >/run/pi-image/check.out 2>&1
	rc=$?
	tail -n 20 /run/pi-image/check.out | while IFS= read -r line || [ -n "$line" ]; do out "check-output=$name:$line"; done
	out "check=$name:$rc"
done
# What this boot wrote reaches the disk before the host stops the machine (a second boot reads it).
sync
out "done"
`;

/** The per-run settings the probe reads (shell assignments, each value single-quoted). */
export function probeConf(values: {
  nonce: string;
  expectedVersion: string;
  dataLabel: string;
  dataDisk: 'present' | 'absent' | '';
  /** Which boot of the test this is (boot, with-data-disk, reboot-1…): the checks get it. */
  boot: string;
  /** How long the probe waits for the boot's other jobs to finish (seconds). */
  jobWait: number;
}): string {
  const q = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;
  return [
    `NONCE=${q(values.nonce)}`,
    `EXPECTED_VERSION=${q(values.expectedVersion)}`,
    `DATA_LABEL=${q(values.dataLabel)}`,
    `DATA_DISK=${q(values.dataDisk)}`,
    `BOOT=${q(values.boot)}`,
    `JOB_WAIT=${Math.max(1, Math.round(values.jobWait))}`,
    '',
  ].join('\n');
}
