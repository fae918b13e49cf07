/**
 * A writer of cpio archives in the "newc" format, the one the Linux kernel
 * unpacks as an initramfs. Deterministic: every entry has mtime 0, owner 0:0
 * and inode numbers in order, so the same entries give the same bytes.
 * Archives may be concatenated: the kernel unpacks each in turn, later
 * entries replacing earlier ones of the same name.
 */
import { PiImageError } from '../core/errors';

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Buffer | string; mode?: number }
  | { type: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const MAGIC = '070701';
const TRAILER = 'TRAILER!!!';

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new PiImageError('INTERNAL', `cpio: ${n} does not fit a newc header field`);
  return n.toString(16).padStart(8, '0');
}

const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);

function header(ino: number, mode: number, nlink: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, nameBytes.length, 0].map(hex8).join('');
  const head = Buffer.concat([Buffer.from(MAGIC + fields, 'ascii'), nameBytes]);
  return Buffer.concat([head, pad4(head.length)]);
}

/** A relative path without `.`, `..` or empty parts: what an initramfs entry may be named. */
function checkedPath(path: string): string {
  const parts = path.split('/');
  if (path === '' || path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new PiImageError('INTERNAL', `cpio: ${JSON.stringify(path)} is not a plain relative path`);
  }
  return path;
}

/** The archive, as one buffer (initramfs parts are small: a few MiB). */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const out: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const path = checkedPath(e.path);
    if (e.type === 'dir') {
      out.push(header(ino++, S_IFDIR | (e.mode ?? 0o755), 2, 0, path));
    } else if (e.type === 'file') {
      const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
      out.push(header(ino++, S_IFREG | (e.mode ?? 0o644), 1, data.length, path), data, pad4(data.length));
    } else {
      const target = Buffer.from(e.target, 'utf8');
      out.push(header(ino++, S_IFLNK | 0o777, 1, target.length, path), target, pad4(target.length));
    }
  }
  out.push(header(0, 0, 1, 0, TRAILER));
  const archive = Buffer.concat(out);
  // The kernel reads archives in 512-byte blocks when concatenated: pad to a block.
  return Buffer.concat([archive, Buffer.alloc((512 - (archive.length % 512)) % 512)]);
}

/** Every directory an entry's path needs, parents first, not already listed. */
export function withParents(entries: readonly CpioEntry[]): CpioEntry[] {
  const seen = new Set(entries.filter((e) => e.type === 'dir').map((e) => e.path));
  const out: CpioEntry[] = [];
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!seen.has(dir)) {
        seen.add(dir);
        out.push({ type: 'dir', path: dir });
      }
    }
    out.push(e);
  }
  return out;
}
