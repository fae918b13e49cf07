/**
 * mkfs.fat stamps the volume label's directory entry with the current time,
 * whatever SOURCE_DATE_EPOCH says (dosfstools 4.2; its --invariant would also
 * replace the volume id). This sets that entry's times to the epoch, as
 * mtools stamps every file it copies, so the FAT is the same on every build.
 */
import type { FileHandle } from 'node:fs/promises';
import { PiImageError } from '../core/errors';
import { parseFatBootSector } from '../image/fat';

const ATTR_VOLUME_ID = 0x08;
const ATTR_LONG_NAME = 0x0f;

/** DOS date and time of a moment, in UTC (the exporter runs mtools and mkfs.fat with TZ=UTC). */
export function dosDateTime(epoch: number): { date: number; time: number } {
  const d = new Date(epoch * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2);
  return { date, time };
}

/** Sets the times of the label entry in the root directory of the FAT file system of `size` bytes at `offset`; returns whether one was found. */
export async function setFatLabelTime(file: FileHandle, offset: number, size: number, epoch: number, name: string): Promise<boolean> {
  const read = async (at: number, length: number): Promise<Buffer> => {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, offset + at);
    if (bytesRead !== length) throw new PiImageError('INTERNAL', `${name}: the FAT made at offset ${offset} runs past the end of the image`);
    return buf;
  };
  // The image layer's reading of the boot sector; the label is the first entries of the root directory
  // (FAT12/16: a fixed region; FAT32: the first cluster of its chain).
  const g = parseFatBootSector(await read(0, 512), name, size);
  const root = 'cluster' in g.rootDir ? { offset: (g.dataSector + (g.rootDir.cluster - 2) * g.spc) * g.bps, length: g.spc * g.bps } : g.rootDir;
  const length = Math.min(root.length, 16384);
  const dir = await read(root.offset, length);
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
    await file.write(entry, 0, 32, offset + root.offset + at);
    return true;
  }
  return false;
}
