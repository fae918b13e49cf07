/**
 * Makes the times in a freshly made ext4 file system reproducible.
 * `mkfs.ext4 -d` copies each file's atime, mtime and ctime from the source
 * tree, and a source tree's ctimes are the time it was copied: no two builds
 * agree. This pass walks the inode tables of the file system (inside an image
 * file, at an offset) and sets, for every inode in use: mtime clamped to the
 * epoch, atime and crtime equal to that mtime, ctime the epoch; then it
 * recomputes the inode's metadata_csum checksum. Memory is one inode table
 * block group at a time, whatever the file system's size.
 */
import type { FileHandle } from 'node:fs/promises';
import { PiImageError } from '../core/errors';
import { parseExt4Superblock } from '../image/ext4';
import { crc32cUpdate } from './crc32c';

const INCOMPAT_CSUM_SEED = 0x2000;
const RO_COMPAT_METADATA_CSUM = 0x400;
const RO_COMPAT_GDT_CSUM = 0x10;
const BG_INODE_UNINIT = 0x1;
const GOOD_OLD_INODE_SIZE = 128;
/** Where the inode fields live (offsets from the inode's start). */
const I = {
  atime: 0x08,
  ctime: 0x0c,
  mtime: 0x10,
  generation: 0x64,
  checksumLo: 0x7c,
  extraIsize: 0x80,
  checksumHi: 0x82,
  ctimeExtra: 0x84,
  mtimeExtra: 0x88,
  atimeExtra: 0x8c,
  crtime: 0x90,
  crtimeExtra: 0x94,
} as const;

export interface ClampResult {
  inodes: number;
}

/** A time in an ext4 inode: seconds (low 32 bits, signed) plus the two epoch bits of the extra field. */
function readTime(buf: Buffer, at: number, extraAt: number | undefined): number {
  const low = buf.readInt32LE(at);
  if (extraAt === undefined) return low;
  const epochBits = buf.readUInt32LE(extraAt) & 3;
  return low + epochBits * 2 ** 32;
}

function writeTime(buf: Buffer, at: number, extraAt: number | undefined, seconds: number): void {
  const epochBits = Math.floor((seconds + 2 ** 31) / 2 ** 32);
  buf.writeInt32LE(seconds - epochBits * 2 ** 32, at);
  if (extraAt !== undefined) buf.writeUInt32LE(epochBits & 3, extraAt);
}

/**
 * Clamps every inode's times in the ext4 file system of `size` bytes at
 * `offset` of `file`. `name` is used in errors.
 */
export async function clampExt4Times(file: FileHandle, offset: number, size: number, epoch: number, name: string): Promise<ClampResult> {
  const read = async (at: number, length: number): Promise<Buffer> => {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, offset + at);
    if (bytesRead !== length) throw new PiImageError('IMAGE_CORRUPT', `${name}: ext4 structure at ${offset + at} runs past the end of the image`);
    return buf;
  };
  // The image layer's checks of the geometry; this pass adds only what it needs of the checksums.
  const sb = await read(1024, 1024);
  const { blockSize, inodesPerGroup, inodeSize, incompat, roCompat, is64, descSize, firstDataBlock, groupCount: groups } = parseExt4Superblock(sb, name, size);
  const checksummed = (roCompat & RO_COMPAT_METADATA_CSUM) !== 0;
  const groupChecksums = (roCompat & (RO_COMPAT_METADATA_CSUM | RO_COMPAT_GDT_CSUM)) !== 0;
  const csumSeed = incompat & INCOMPAT_CSUM_SEED ? sb.readUInt32LE(0x270) : crc32cUpdate(0xffffffff, sb.subarray(0x68, 0x78));

  const descriptors = await read((firstDataBlock + 1) * blockSize, groups * descSize);
  const word = Buffer.alloc(4);
  let inodes = 0;
  for (let g = 0; g < groups; g++) {
    const d = descriptors.subarray(g * descSize, (g + 1) * descSize);
    // INODE_UNINIT means something only where group checksums vouch for the flags.
    if (groupChecksums && d.readUInt16LE(0x12) & BG_INODE_UNINIT) continue;
    const bitmapBlock = d.readUInt32LE(0x04) + (is64 ? d.readUInt32LE(0x24) * 2 ** 32 : 0);
    const tableBlock = d.readUInt32LE(0x08) + (is64 ? d.readUInt32LE(0x28) * 2 ** 32 : 0);
    const bitmap = await read(bitmapBlock * blockSize, Math.ceil(inodesPerGroup / 8));
    const table = await read(tableBlock * blockSize, inodesPerGroup * inodeSize);
    let changed = false;
    for (let i = 0; i < inodesPerGroup; i++) {
      if (!(bitmap[i >> 3]! & (1 << (i & 7)))) continue;
      const inode = table.subarray(i * inodeSize, (i + 1) * inodeSize);
      const extraIsize = inodeSize > GOOD_OLD_INODE_SIZE ? inode.readUInt16LE(I.extraIsize) : 0;
      const has = (field: number, length: number): boolean => GOOD_OLD_INODE_SIZE + extraIsize >= field + length;
      const extra = (field: number): number | undefined => (has(field, 4) ? field : undefined);
      const mtime = Math.min(readTime(inode, I.mtime, extra(I.mtimeExtra)), epoch);
      writeTime(inode, I.mtime, extra(I.mtimeExtra), mtime);
      writeTime(inode, I.atime, extra(I.atimeExtra), mtime);
      writeTime(inode, I.ctime, extra(I.ctimeExtra), epoch);
      if (has(I.crtime, 4)) writeTime(inode, I.crtime, extra(I.crtimeExtra), mtime);
      if (checksummed) {
        const hasHi = has(I.checksumHi, 2);
        inode.writeUInt16LE(0, I.checksumLo);
        if (hasHi) inode.writeUInt16LE(0, I.checksumHi);
        const number = g * inodesPerGroup + i + 1;
        word.writeUInt32LE(number, 0);
        let csum = crc32cUpdate(csumSeed, word);
        csum = crc32cUpdate(csum, inode.subarray(I.generation, I.generation + 4));
        csum = crc32cUpdate(csum, inode);
        inode.writeUInt16LE(csum & 0xffff, I.checksumLo);
        if (hasHi) inode.writeUInt16LE(csum >>> 16, I.checksumHi);
      }
      changed = true;
      inodes++;
    }
    if (changed) await file.write(table, 0, table.length, offset + tableBlock * blockSize);
  }
  return { inodes };
}
