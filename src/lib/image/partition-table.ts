/**
 * Reads a disk image's partition table: MBR (what pi-gen writes: an msdos
 * label) and GPT when the MBR is protective.
 */
import { crc32 } from 'node:zlib';
import { PiImageError } from '../core/errors';
import type { ByteSource } from './byte-source';

export interface Partition {
  /** 1-based, as Linux numbers them (p1, p2, …). */
  number: number;
  /** MBR type byte as hex ("0c") or the GPT type GUID. */
  type: string;
  typeName: string;
  startBytes: number;
  sizeBytes: number;
  bootable?: boolean;
  /** What Linux shows as PARTUUID: MBR "<disk id>-<NN>", or the GPT partition GUID. */
  partuuid: string;
  /** GPT partition name. */
  name?: string;
}

export interface PartitionTable {
  scheme: 'mbr' | 'gpt';
  /** MBR disk signature as 8 hex digits, or the GPT disk GUID. */
  diskId: string;
  sectorSize: number;
  partitions: Partition[];
}

const MBR_TYPES: Record<number, string> = {
  0x01: 'FAT12',
  0x04: 'FAT16 <32M',
  0x05: 'Extended',
  0x06: 'FAT16',
  0x07: 'HPFS/NTFS/exFAT',
  0x0b: 'W95 FAT32',
  0x0c: 'W95 FAT32 (LBA)',
  0x0e: 'W95 FAT16 (LBA)',
  0x0f: 'W95 Extended (LBA)',
  0x82: 'Linux swap',
  0x83: 'Linux',
  0x8e: 'Linux LVM',
  0xee: 'GPT protective',
  0xef: 'EFI (FAT-12/16/32)',
};

const GPT_TYPES: Record<string, string> = {
  'c12a7328-f81f-11d2-ba4b-00a0c93ec93b': 'EFI System',
  'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7': 'Microsoft basic data',
  '0fc63daf-8483-4772-8e79-3d69d8477de4': 'Linux filesystem',
  'b921b045-1df0-41c3-af44-4c6f280d3fae': 'Linux root (ARM-64)',
  '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f': 'Linux swap',
};

const SECTOR = 512;

function guid(buf: Buffer, at: number): string {
  const hex = (b: Buffer): string => b.toString('hex');
  const le = (start: number, len: number): string => hex(Buffer.from(buf.subarray(at + start, at + start + len)).reverse());
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${hex(buf.subarray(at + 8, at + 10))}-${hex(buf.subarray(at + 10, at + 16))}`;
}

export async function readPartitionTable(disk: ByteSource): Promise<PartitionTable> {
  if (disk.size < SECTOR) {
    throw new PiImageError('IMAGE_NOT_DISK', `${disk.name}: ${disk.size} bytes is too small to be a disk image`);
  }
  const mbr = await disk.read(0, SECTOR);
  if (mbr.readUInt16LE(510) !== 0xaa55) {
    throw new PiImageError('IMAGE_NOT_DISK', `${disk.name}: not a disk image (no partition table signature 55 AA in sector 0)`);
  }
  const diskSig = mbr.readUInt32LE(440).toString(16).padStart(8, '0');
  const entries: Partition[] = [];
  let protective = false;
  for (let i = 0; i < 4; i++) {
    const e = 446 + i * 16;
    const type = mbr[e + 4]!;
    const lba = mbr.readUInt32LE(e + 8);
    const sectors = mbr.readUInt32LE(e + 12);
    if (type === 0 || sectors === 0) continue;
    if (type === 0xee) protective = true;
    entries.push({
      number: i + 1,
      type: type.toString(16).padStart(2, '0'),
      typeName: MBR_TYPES[type] ?? 'unknown',
      startBytes: lba * SECTOR,
      sizeBytes: sectors * SECTOR,
      bootable: mbr[e] === 0x80,
      partuuid: `${diskSig}-${String(i + 1).padStart(2, '0')}`,
    });
  }
  if (!protective) {
    for (const p of entries) {
      if (p.startBytes + p.sizeBytes > disk.size) {
        throw new PiImageError('IMAGE_CORRUPT', `${disk.name}: partition ${p.number} ends past the end of the image (truncated image?)`);
      }
    }
    // Extended partitions contain logical ones: only primary data partitions must not overlap.
    checkLayout(
      disk,
      entries.filter((p) => !['05', '0f', '85'].includes(p.type)),
      SECTOR,
      disk.size,
    );
    return { scheme: 'mbr', diskId: diskSig, sectorSize: SECTOR, partitions: entries };
  }
  return readGpt(disk);
}

/** Partitions must lie inside their bounds and not overlap: a table that says otherwise is damaged or hostile. */
function checkLayout(disk: ByteSource, partitions: readonly Partition[], first: number, end: number): void {
  const sorted = [...partitions].sort((a, b) => a.startBytes - b.startBytes);
  for (const p of sorted) {
    if (p.sizeBytes <= 0) throw new PiImageError('IMAGE_CORRUPT', `${disk.name}: partition ${p.number} has no size (it ends before it starts)`);
    if (p.startBytes < first || p.startBytes + p.sizeBytes > end) {
      throw new PiImageError(
        'IMAGE_CORRUPT',
        `${disk.name}: partition ${p.number} lies outside the disk's usable area${p.startBytes + p.sizeBytes > disk.size ? ' (truncated image?)' : ''}`,
      );
    }
  }
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (a.startBytes + a.sizeBytes > b.startBytes) throw new PiImageError('IMAGE_CORRUPT', `${disk.name}: partitions ${a.number} and ${b.number} overlap`);
  }
}

const GPT_MAX_ENTRY_BYTES = 1024 * 1024;

async function readGpt(disk: ByteSource): Promise<PartitionTable> {
  const bad = (what: string): PiImageError => new PiImageError('IMAGE_CORRUPT', `${disk.name}: GPT ${what}`);
  const sectors = Math.floor(disk.size / SECTOR);
  if (sectors < 3) throw bad('header cannot fit: the image is too small');
  const header = await disk.read(SECTOR, SECTOR);
  if (header.toString('latin1', 0, 8) !== 'EFI PART') throw bad('header missing: protective MBR but no "EFI PART" in sector 1');
  const headerSize = header.readUInt32LE(12);
  if (headerSize < 92 || headerSize > SECTOR) throw bad(`header size ${headerSize} is not between 92 and ${SECTOR}`);
  const stored = header.readUInt32LE(16);
  const zeroed = Buffer.from(header.subarray(0, headerSize));
  zeroed.writeUInt32LE(0, 16);
  if (crc32(zeroed) >>> 0 !== stored) throw bad('header fails its CRC-32 check');
  const u64 = (at: number): number => {
    const v = header.readBigUInt64LE(at);
    if (v > BigInt(sectors)) throw bad(`header field at byte ${at} (${v}) points past the image's ${sectors} sectors`);
    return Number(v);
  };
  if (u64(24) !== 1) throw bad('header does not say it is in sector 1');
  const firstUsable = u64(40);
  const lastUsable = u64(48);
  if (firstUsable > lastUsable) throw bad(`first usable sector ${firstUsable} lies after the last ${lastUsable}`);
  const entriesLba = u64(72);
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (entrySize < 128 || entrySize % 128 !== 0 || (entrySize & (entrySize - 1)) !== 0) throw bad(`entry size ${entrySize} is not 128 × a power of two`);
  if (count === 0 || count * entrySize > GPT_MAX_ENTRY_BYTES) throw bad(`entry table of ${count} × ${entrySize} bytes is implausible`);
  const entriesEnd = entriesLba + Math.ceil((count * entrySize) / SECTOR);
  if (entriesLba < 2 || entriesEnd > sectors || (entriesLba <= lastUsable && entriesEnd > firstUsable))
    throw bad('entry table lies outside the image or inside the usable area');
  const table = await disk.read(entriesLba * SECTOR, count * entrySize);
  if (crc32(table) >>> 0 !== header.readUInt32LE(88)) throw bad('entry table fails its CRC-32 check');
  const partitions: Partition[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * entrySize;
    const typeGuid = guid(table, at);
    if (typeGuid === '00000000-0000-0000-0000-000000000000') continue;
    const first = table.readBigUInt64LE(at + 32);
    const last = table.readBigUInt64LE(at + 40);
    if (first > last || last > BigInt(lastUsable)) throw bad(`partition ${i + 1} spans sectors ${first}–${last}, outside ${firstUsable}–${lastUsable}`);
    partitions.push({
      number: i + 1,
      type: typeGuid,
      typeName: GPT_TYPES[typeGuid] ?? 'unknown',
      startBytes: Number(first) * SECTOR,
      sizeBytes: (Number(last) - Number(first) + 1) * SECTOR,
      partuuid: guid(table, at + 16),
      name: table.toString('utf16le', at + 56, at + 128).replace(/\0.*$/s, ''),
    });
  }
  checkLayout(disk, partitions, firstUsable * SECTOR, (lastUsable + 1) * SECTOR);
  return { scheme: 'gpt', diskId: guid(header, 56), sectorSize: SECTOR, partitions };
}
