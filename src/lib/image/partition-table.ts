/**
 * Reads a disk image's partition table: MBR (what pi-gen writes: an msdos
 * label) and GPT when the MBR is protective.
 */
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
    return { scheme: 'mbr', diskId: diskSig, sectorSize: SECTOR, partitions: entries };
  }
  const header = await disk.read(SECTOR, SECTOR);
  if (header.toString('latin1', 0, 8) !== 'EFI PART') {
    throw new PiImageError('IMAGE_CORRUPT', `${disk.name}: protective MBR but no GPT header in sector 1`);
  }
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (count > 1024 || entrySize < 128 || entrySize > 4096) {
    throw new PiImageError('IMAGE_CORRUPT', `${disk.name}: GPT header has an implausible entry table (${count} × ${entrySize})`);
  }
  const table = await disk.read(entriesLba * SECTOR, count * entrySize);
  const partitions: Partition[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * entrySize;
    const typeGuid = guid(table, at);
    if (typeGuid === '00000000-0000-0000-0000-000000000000') continue;
    const first = Number(table.readBigUInt64LE(at + 32));
    const last = Number(table.readBigUInt64LE(at + 40));
    partitions.push({
      number: i + 1,
      type: typeGuid,
      typeName: GPT_TYPES[typeGuid] ?? 'unknown',
      startBytes: first * SECTOR,
      sizeBytes: (last - first + 1) * SECTOR,
      partuuid: guid(table, at + 16),
      name: table.toString('utf16le', at + 56, at + 128).replace(/\0.*$/s, ''),
    });
  }
  return { scheme: 'gpt', diskId: guid(header, 56), sectorSize: SECTOR, partitions };
}
