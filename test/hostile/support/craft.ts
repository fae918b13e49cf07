/**
 * Damaged and hostile structures, made with the real tools where they can
 * (debugfs edits inodes, dd writes blocks, sfdisk writes tables) and by hand
 * where only a hand can (a GPT header with a valid CRC over invalid fields).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** Runs one debugfs request; debugfs exits 0 when a request fails, so anything on stderr but its banner is a failure. */
function debugfs(fs: string, request: string, write = false): string {
  const r = spawnSync('debugfs', [...(write ? ['-w'] : []), '-R', request, fs], { encoding: 'utf8' });
  const complaints = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^debugfs \d/.test(l));
  if (r.status !== 0 || complaints.length > 0) throw new Error(`debugfs ${request}: ${complaints.join('; ') || `exit ${r.status}`}`);
  return r.stdout;
}

/** Sets i_block of a file in an ext file system image: 15 little-endian 32-bit words. */
/** debugfs names the 12 direct block pointers by index and the three indirect ones by name. */
const BLOCK_FIELDS = [...Array.from({ length: 12 }, (_, i) => `block[${i}]`), 'block[IND]', 'block[DIND]', 'block[TIND]'];

export function setInodeBlocks(fs: string, path: string, words: readonly number[]): void {
  if (words.length > BLOCK_FIELDS.length) throw new Error(`an inode holds ${BLOCK_FIELDS.length} block words, not ${words.length}`);
  words.forEach((w, i) => debugfs(fs, `sif ${path} ${BLOCK_FIELDS[i]!} ${w >>> 0}`, true));
}

export function setInodeField(fs: string, path: string, field: string, value: string | number): void {
  debugfs(fs, `sif ${path} ${field} ${value}`, true);
}

export function setSuperblockField(fs: string, field: string, value: string | number): void {
  debugfs(fs, `ssv ${field} ${value}`, true);
}

/** `n` free blocks of the file system, from its end (where mkfs -d left room). */
export function freeBlocks(fs: string, n: number, goal: number): number[] {
  const out = debugfs(fs, `ffb ${n} ${goal}`);
  const m = /Free blocks found: ([\d ]+)/.exec(out);
  if (!m) throw new Error(`debugfs found no free blocks: ${out}`);
  return m[1]!.trim().split(/\s+/).map(Number);
}

export function blockSize(fs: string): number {
  return Number(/Block size:\s+(\d+)/.exec(execFileSync('dumpe2fs', ['-h', fs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))![1]);
}

export function writeBlock(fs: string, block: number, data: Buffer, size: number): void {
  const fd = openSync(fs, 'r+');
  try {
    const padded = Buffer.alloc(size);
    data.copy(padded);
    writeSync(fd, padded, 0, size, block * size);
  } finally {
    closeSync(fd);
  }
}

/** An extent tree node: header (magic, entries, max, depth) and entries of 12 bytes. */
export function extentNode(
  size: number,
  depth: number,
  entries: { logical: number; target: number; length?: number }[],
  claimedEntries = entries.length,
): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt16LE(0xf30a, 0);
  b.writeUInt16LE(claimedEntries, 2);
  b.writeUInt16LE(Math.floor((size - 12) / 12), 4);
  b.writeUInt16LE(depth, 6);
  entries.forEach((e, i) => {
    const at = 12 + i * 12;
    b.writeUInt32LE(e.logical, at);
    if (depth === 0) {
      b.writeUInt16LE(e.length ?? 1, at + 4);
      b.writeUInt16LE(0, at + 6);
      b.writeUInt32LE(e.target, at + 8);
    } else {
      b.writeUInt32LE(e.target, at + 4);
      b.writeUInt16LE(0, at + 8);
    }
  });
  return b;
}

/** The words of an i_block holding an extent node (60 bytes, room for 4 entries). */
export function inodeExtentWords(node: Buffer): number[] {
  return Array.from({ length: 15 }, (_, i) => node.readUInt32LE(i * 4));
}

/** Rewrites fields of a disk image's primary GPT header, then its CRC, so only the fields are wrong. */
export function patchGptHeader(disk: string, patch: (header: Buffer) => void, fixCrc = true): void {
  const fd = openSync(disk, 'r+');
  try {
    const header = Buffer.alloc(512);
    readSync(fd, header, 0, 512, 512);
    patch(header);
    if (fixCrc) {
      const size = header.readUInt32LE(12);
      header.writeUInt32LE(0, 16);
      header.writeUInt32LE(crc32(header.subarray(0, Math.min(size, 512))) >>> 0, 16);
    }
    writeSync(fd, header, 0, 512, 512);
  } finally {
    closeSync(fd);
  }
}

/**
 * A directory on a tmpfs of `sizeKiB` and `inodes`: a real full disk for the
 * output. Unmounted and removed after `fn`, also when it throws. Root only.
 */
export async function withSmallDisk<T>(sizeKiB: number, inodes: number, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,nr_inodes=${inodes}`, 'tmpfs', dir]);
  try {
    return await fn(dir);
  } finally {
    execFileSync('umount', [dir]);
    rmdirSync(dir);
  }
}

/** The pid of the first child of `pid` (the CLI under GNU time), waiting for it to exist. */
export async function childOf(pid: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (children) return Number(children.split(/\s+/)[0]);
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`process ${pid} started no child`);
}

/** Processes whose command line mentions `text` (to check that no helper outlived the CLI). */
export function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const pid of execFileSync('ls', ['/proc'], { encoding: 'utf8' })
    .split('\n')
    .filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(text) && !cmd.includes('processesMentioning')) out.push(`${pid}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return out;
}
