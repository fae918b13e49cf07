/**
 * mkfs.fat stamps the volume label's directory entry with the current time,
 * whatever SOURCE_DATE_EPOCH says (dosfstools 4.2; its --invariant would also
 * replace the volume id). This sets that entry's times to the epoch, as
 * mtools stamps every file it copies, so the FAT is the same on every build.
 */
import type { FileHandle } from 'node:fs/promises';
import { PiImageError } from '../core/errors';

const ATTR_VOLUME_ID = 0x08;
const ATTR_LONG_NAME = 0x0f;

/** DOS date and time of a moment, in UTC (the exporter runs mtools and mkfs.fat with TZ=UTC). */
export function dosDateTime(epoch: number): { date: number; time: number } {
  const d = new Date(epoch * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2);
  return { date, time };
}

/** Sets the times of the label entry in the root directory of the FAT file system at `offset`; returns whether one was found. */
export async function setFatLabelTime(file: FileHandle, offset: number, epoch: number, name: string): Promise<boolean> {
  const boot = Buffer.alloc(512);
  await file.read(boot, 0, 512, offset);
  const bytesPerSector = boot.readUInt16LE(0x0b);
  const sectorsPerCluster = boot[0x0d]!;
  const reserved = boot.readUInt16LE(0x0e);
  const fats = boot[0x10]!;
  const rootEntries = boot.readUInt16LE(0x11);
  const fatSize = boot.readUInt16LE(0x16) || boot.readUInt32LE(0x24);
  if (boot.readUInt16LE(0x1fe) !== 0xaa55 || bytesPerSector === 0 || sectorsPerCluster === 0) {
    throw new PiImageError('INTERNAL', `${name}: mkfs.fat left no FAT boot sector at offset ${offset}`);
  }
  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const firstData = reserved + fats * fatSize + rootDirSectors;
  // FAT12/16 keep the root directory in a fixed region; FAT32 in a cluster chain, whose first cluster holds the label.
  const rootAt =
    rootEntries > 0 ? (reserved + fats * fatSize) * bytesPerSector : (firstData + (boot.readUInt32LE(0x2c) - 2) * sectorsPerCluster) * bytesPerSector;
  const length = rootEntries > 0 ? Math.min(rootEntries * 32, 16384) : sectorsPerCluster * bytesPerSector;
  const dir = Buffer.alloc(length);
  await file.read(dir, 0, length, offset + rootAt);
  const { date, time } = dosDateTime(epoch);
  for (let at = 0; at + 32 <= length; at += 32) {
    if (dir[at] === 0) break;
    const attr = dir[at + 11]!;
    if (dir[at] === 0xe5 || attr === ATTR_LONG_NAME || !(attr & ATTR_VOLUME_ID)) continue;
    const entry = dir.subarray(at, at + 32);
    entry[13] = 0;
    entry.writeUInt16LE(time, 14);
    entry.writeUInt16LE(date, 16);
    entry.writeUInt16LE(date, 18);
    entry.writeUInt16LE(time, 22);
    entry.writeUInt16LE(date, 24);
    await file.write(entry, 0, 32, offset + rootAt + at);
    return true;
  }
  return false;
}
