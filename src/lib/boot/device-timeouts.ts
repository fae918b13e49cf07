/**
 * Time runs slower in an emulated machine: udev probing the disks takes tens
 * of seconds under TCG, where it takes one on the device. An fstab line's
 * `x-systemd.device-timeout=` is tuned for the device, so the boot test
 * stretches each by a factor, with a drop-in for the device unit in /run
 * (the image's fstab is not touched, and the line's meaning, nofail or not,
 * is kept). The factor is recorded in the report.
 */
import type { FstabEntry } from '../image/inspect';
import type { CpioEntry } from './cpio';

/** How much longer device timeouts are under TCG emulation (1 under KVM). */
export const TCG_TIMEOUT_SCALE = 4;

/** systemd-escape --path: the unit name of a path (`/dev/disk/by-label/A-B` → `dev-disk-by\x2dlabel-A\x2dB`). */
export function escapePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '').replace(/\/+/g, '/');
  if (trimmed === '') return '-';
  return trimmed
    .split('/')
    .map((part, n) =>
      [...Buffer.from(part, 'utf8')]
        .map((b, i) => {
          const c = String.fromCharCode(b);
          // A dot is escaped only as the name's very first character.
          return /[A-Za-z0-9:_]/.test(c) || (c === '.' && (i > 0 || n > 0)) ? c : `\\x${b.toString(16).padStart(2, '0')}`;
        })
        .join(''),
    )
    .join('-');
}

/** The device path systemd waits for, for an fstab spec; undefined for what is not a device (proc, tmpfs, a network share). */
export function devicePath(spec: string): string | undefined {
  const m = /^(LABEL|UUID|PARTUUID|PARTLABEL)=(.+)$/.exec(spec);
  if (m) {
    const dir = { LABEL: 'by-label', UUID: 'by-uuid', PARTUUID: 'by-partuuid', PARTLABEL: 'by-partlabel' }[m[1] as 'LABEL'];
    const value = m[1] === 'UUID' || m[1] === 'PARTUUID' ? m[2]!.toLowerCase() : m[2]!;
    // udev escapes what it would not put in a file name; plain values only (others keep their timeout).
    return /^[A-Za-z0-9._-]+$/.test(value) ? `/dev/disk/${dir}/${value}` : undefined;
  }
  return spec.startsWith('/dev/') ? spec : undefined;
}

/** A systemd time span in seconds: `10`, `10s`, `1min`, `1min 30s`, `500ms`; undefined when unreadable. */
export function timeSpanSeconds(text: string): number | undefined {
  const units: Record<string, number> = {
    '': 1,
    s: 1,
    sec: 1,
    second: 1,
    seconds: 1,
    ms: 0.001,
    m: 60,
    min: 60,
    minute: 60,
    minutes: 60,
    h: 3600,
    hr: 3600,
    hour: 3600,
    hours: 3600,
  };
  let total = 0;
  const parts = text.trim().match(/\d+(?:\.\d+)?\s*[a-z]*/g);
  if (parts?.join('').replace(/\s/g, '') !== text.replace(/\s/g, '')) return undefined;
  for (const p of parts) {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(p)!;
    const unit = units[m[2]!];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
  }
  return total;
}

/** Drop-ins (as initramfs entries under probe/systemd/) stretching each fstab line's device timeout by `scale`. */
export function deviceTimeoutDropIns(fstab: readonly FstabEntry[], scale: number): { entries: CpioEntry[]; stretched: { device: string; seconds: number }[] } {
  const entries: CpioEntry[] = [];
  const stretched: { device: string; seconds: number }[] = [];
  if (scale === 1) return { entries, stretched };
  for (const line of fstab) {
    const option = line.options.split(',').find((o) => o.startsWith('x-systemd.device-timeout='));
    const seconds = option ? timeSpanSeconds(option.slice('x-systemd.device-timeout='.length)) : undefined;
    const device = devicePath(line.spec);
    if (seconds === undefined || seconds === 0 || !device) continue;
    const scaled = Math.ceil(seconds * scale);
    entries.push({
      type: 'file',
      path: `probe/systemd/${escapePath(device)}.device.d/99-pi-image-emulation.conf`,
      data: `# pi-image boot test: ${line.spec}'s ${seconds} s device timeout, ×${scale} under emulation\n[Unit]\nJobRunningTimeoutSec=${scaled}\n`,
    });
    stretched.push({ device, seconds: scaled });
  }
  return { entries, stretched };
}
