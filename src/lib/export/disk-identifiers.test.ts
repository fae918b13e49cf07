import { describe, expect, it } from 'vitest';
import { diskIdentifiers, uuidFrom } from './disk-identifiers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('diskIdentifiers', () => {
  it('derives the same identifiers from the same seed, different ones from another', () => {
    const a = diskIdentifiers('dos', 2, 'ourbox-mini 1.2.3');
    expect(diskIdentifiers('dos', 2, 'ourbox-mini 1.2.3')).toEqual(a);
    expect(diskIdentifiers('dos', 2, 'ourbox-mini 1.2.4').diskId).not.toBe(a.diskId);
  });
  it('names MBR partitions as pi-gen does: the disk identifier and the partition number', () => {
    const ids = diskIdentifiers('dos', 2, 'seed');
    expect(ids.diskId).toMatch(/^[0-9a-f]{8}$/);
    expect(ids.partitions.map((p) => p.partUuid)).toEqual([`${ids.diskId}-01`, `${ids.diskId}-02`]);
  });
  it('gives GPT disks and partitions distinct version 4 GUIDs, file systems their own UUIDs and volume ids', () => {
    const ids = diskIdentifiers('gpt', 6, 'seed');
    const all = [ids.diskId, ...ids.partitions.flatMap((p) => [p.partUuid, p.fsUuid, p.hashSeed])];
    for (const u of all) expect(u).toMatch(UUID);
    expect(new Set(all).size).toBe(all.length);
    for (const p of ids.partitions) expect(p.volumeId).toMatch(/^[0-9A-F]{8}$/);
  });
  it('is random without a seed', () => {
    expect(diskIdentifiers('gpt', 1, undefined).diskId).not.toBe(diskIdentifiers('gpt', 1, undefined).diskId);
  });
  it('sets the version and variant bits', () => {
    expect(uuidFrom(Buffer.alloc(16, 0xff))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
  });
});
