/**
 * A GPT image written to a larger disk leaves its backup header in the middle
 * of the disk, where nothing looks for it (the kernel and fdisk warn, and a
 * tool "repairing" it may pick the wrong copy). This moves it where the
 * specification puts it: the primary header (in the held-back first MiB) is
 * pointed at the disk's last sector, its last usable sector grown to the
 * disk's, the protective MBR widened to the disk, both CRCs recomputed; the
 * backup header and entry array are built for the disk's end. Pure functions
 * of bytes: written by the flash, tested here without a disk.
 */
import { crc32 } from 'node:zlib';

const SECTOR = 512;

export interface BackupGpt {
  /** Byte offset on the disk where `bytes` go: the backup entry array, then the backup header. */
  offset: number;
  bytes: Buffer;
}

/** True when `head` (the image's first sectors) carries a GPT: a protective MBR and "EFI PART" in sector 1. */
export function hasGpt(head: Buffer): boolean {
  return head.length >= 2 * SECTOR && head[450] === 0xee && head.toString('latin1', SECTOR, SECTOR + 8) === 'EFI PART';
}

function headerCrc(header: Buffer, size: number): number {
  const copy = Buffer.from(header.subarray(0, size));
  copy.writeUInt32LE(0, 16);
  return crc32(copy) >>> 0;
}

/**
 * Rewrites the primary GPT in `head` for a disk of `diskBytes`, and returns
 * the backup to write at the disk's end; undefined when `head` has no GPT or
 * its entry array does not lie inside `head`.
 */
export function relocateGpt(head: Buffer, diskBytes: number): BackupGpt | undefined {
  if (!hasGpt(head)) return undefined;
  const header = head.subarray(SECTOR, 2 * SECTOR);
  const headerSize = header.readUInt32LE(12);
  if (headerSize < 92 || headerSize > SECTOR || headerCrc(header, headerSize) !== header.readUInt32LE(16)) return undefined;
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  const entriesBytes = count * entrySize;
  const entrySectors = Math.ceil(entriesBytes / SECTOR);
  if (entriesLba < 2 || (entriesLba + entrySectors) * SECTOR > head.length) return undefined;
  const entries = head.subarray(entriesLba * SECTOR, entriesLba * SECTOR + entrySectors * SECTOR);

  const lastLba = Math.floor(diskBytes / SECTOR) - 1;
  const backupEntriesLba = lastLba - entrySectors;
  // Primary: the backup is at the disk's last sector; the usable area ends before the backup entries.
  header.writeBigUInt64LE(BigInt(lastLba), 32);
  header.writeBigUInt64LE(BigInt(backupEntriesLba - 1), 48);
  header.writeUInt32LE(headerCrc(header, headerSize), 16);
  // Protective MBR: one 0xEE partition from sector 1 to the disk's end (or as far as 32 bits go).
  head.writeUInt32LE(Math.min(lastLba, 0xffffffff), 446 + 12);

  const backup = Buffer.from(header);
  backup.writeBigUInt64LE(BigInt(lastLba), 24);
  backup.writeBigUInt64LE(1n, 32);
  backup.writeBigUInt64LE(BigInt(backupEntriesLba), 72);
  backup.writeUInt32LE(headerCrc(backup, headerSize), 16);
  return { offset: backupEntriesLba * SECTOR, bytes: Buffer.concat([entries, backup]) };
}
