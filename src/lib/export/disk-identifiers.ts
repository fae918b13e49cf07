/**
 * Every identifier an exported image carries, decided before anything is
 * written: the disk identifier (MBR) or disk GUID (GPT), each partition's
 * PARTUUID, each ext4 UUID and directory hash seed, each FAT volume id.
 * From a seed (product and version) they are the same on every build, which
 * is what makes the image reproducible; without one they are random, as
 * pi-gen's are, but still known up front so fstab and cmdline.txt can name
 * them.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface PartitionIdentifiers {
  /** What fstab and cmdline.txt say after PARTUUID=. */
  partUuid: string;
  /** ext4: -U; FAT: unused. */
  fsUuid: string;
  /** ext4: -E hash_seed. */
  hashSeed: string;
  /** FAT: the 32-bit volume id, 8 hex digits. */
  volumeId: string;
}

export interface DiskIdentifiers {
  /** MBR: 8 hex digits; GPT: a GUID. */
  diskId: string;
  partitions: PartitionIdentifiers[];
}

type Bytes = (purpose: string, length: number) => Buffer;

function seeded(seed: string): Bytes {
  return (purpose, length) => createHash('sha256').update(`pi-image export identifiers v1\0${seed}\0${purpose}`).digest().subarray(0, length);
}

const random: Bytes = (_purpose, length) => randomBytes(length);

/** An RFC 9562 version 4 UUID shape (variant and version bits set), lower case. */
export function uuidFrom(bytes: Buffer): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A disk identifier of 0 means "none" to some firmware and tools: never hand one out. */
function nonZeroHex(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return /^0+$/.test(h) ? '00000001' : h;
}

export function diskIdentifiers(table: 'dos' | 'gpt', partitionCount: number, seed: string | undefined): DiskIdentifiers {
  const bytes = seed === undefined ? random : seeded(seed);
  const diskId = table === 'dos' ? nonZeroHex(bytes('disk', 4)) : uuidFrom(bytes('disk', 16));
  const partitions = Array.from({ length: partitionCount }, (_, i) => {
    const n = i + 1;
    return {
      partUuid: table === 'dos' ? `${diskId}-${n.toString(16).padStart(2, '0')}` : uuidFrom(bytes(`partition ${n}`, 16)),
      fsUuid: uuidFrom(bytes(`file system ${n}`, 16)),
      hashSeed: uuidFrom(bytes(`hash seed ${n}`, 16)),
      volumeId: nonZeroHex(bytes(`volume ${n}`, 4)).toUpperCase(),
    };
  });
  return { diskId, partitions };
}
