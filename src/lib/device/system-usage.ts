/**
 * What the running system uses: mounted file systems (/proc/self/mountinfo)
 * and swap (/proc/swaps), each by the block device under it. Parsers are pure
 * functions of the files' text; readers take the paths so tests can give
 * their own.
 */
import { readFileSync, statSync } from 'node:fs';
import { devnoOf } from './block-devices';

export interface Mount {
  /** major:minor of the file system's device (0:N for ones without a block device). */
  devno: string;
  mountPoint: string;
  fsType: string;
  /** What was mounted: /dev/nvme0n1p2, or tmpfs, overlay, … */
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [left, right] = line.split(' - ');
    const a = (left ?? '').split(' ');
    const b = (right ?? '').split(' ');
    if (a.length < 5 || b.length < 2) continue;
    mounts.push({ devno: a[2]!, mountPoint: unescape(a[4]!), fsType: b[0]!, source: unescape(b[1]!) });
  }
  return mounts;
}

/** The devices used as swap (paths; a swap file is a path too and names no device). */
export function parseSwaps(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((p) => p !== '')
    .map(unescape);
}

export interface SystemUsage {
  mounts: Mount[];
  /** major:minor of every block device in use as swap. */
  swapDevnos: string[];
}

function devnoOfPath(path: string): string | undefined {
  try {
    const st = statSync(path);
    return st.isBlockDevice() ? devnoOf(st.rdev) : undefined;
  } catch {
    return undefined;
  }
}

export function readSystemUsage(paths = { mountinfo: '/proc/self/mountinfo', swaps: '/proc/swaps' }): SystemUsage {
  const mounts = parseMountinfo(readFileSync(paths.mountinfo, 'utf8'));
  let swaps: string[] = [];
  try {
    swaps = parseSwaps(readFileSync(paths.swaps, 'utf8'));
  } catch {
    swaps = [];
  }
  return { mounts, swapDevnos: swaps.flatMap((p) => devnoOfPath(p) ?? []) };
}

/**
 * The device numbers a mount stands on: its own (a block file system), and
 * the device its source names (btrfs and some others report an anonymous
 * 0:N device number but a real source).
 */
export function mountDevnos(mount: Mount): string[] {
  const out: string[] = [];
  if (!mount.devno.startsWith('0:')) out.push(mount.devno);
  if (mount.source.startsWith('/dev/')) {
    const fromSource = devnoOfPath(mount.source);
    if (fromSource && !out.includes(fromSource)) out.push(fromSource);
  }
  return out;
}

/** Mount points that mean "the running system": its root and its boot partitions. */
export const SYSTEM_MOUNT_POINTS = ['/', '/boot', '/boot/firmware', '/boot/efi', '/usr', '/var'];
