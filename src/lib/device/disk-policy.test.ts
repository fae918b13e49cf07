import { describe, expect, it } from 'vitest';
import type { BlockDevice } from './block-devices';
import { checkDisk, DEFAULT_PROTECTED_LABELS, describeDisk, diskRefusals, type TargetFacts } from './disk-policy';

const GiB = 1024 ** 3;
const disk = (over: Partial<BlockDevice> = {}): BlockDevice => ({
  name: 'nvme1n1',
  path: '/dev/nvme1n1',
  devno: '259:3',
  sizeBytes: 500 * GiB,
  readOnly: false,
  removable: false,
  isPartition: false,
  model: 'Samsung SSD 980',
  serial: 'S64DNX0R123456',
  partitions: ['nvme1n1p1'],
  holders: [],
  logicalBlockSize: 512,
  writeZeroesMaxBytes: 0,
  ...over,
});
const facts = (over: Partial<TargetFacts> = {}): TargetFacts => ({
  device: disk(),
  labels: { table: 'mbr', partitions: [{ number: 1, startBytes: 1 << 20, sizeBytes: GiB, label: 'rootfs', fsType: 'ext4' }] },
  mounts: [],
  swap: [],
  systemMounts: [],
  ...over,
});
const policy = { protectedLabels: DEFAULT_PROTECTED_LABELS, protectedSerials: [], imageSize: 4 * GiB };

describe('which disks may be flashed', () => {
  it('a whole, idle, unprotected disk large enough: no refusal', () => {
    expect(diskRefusals(facts(), policy)).toEqual([]);
    expect(() => checkDisk(facts(), policy)).not.toThrow();
  });

  it.each<[string, Partial<TargetFacts>, object, string, RegExp]>([
    ['a partition', { device: disk({ name: 'nvme1n1p2', isPartition: true, parent: 'nvme1n1' }) }, {}, 'DISK_NOT_WHOLE', /partition nvme1n1p2 of nvme1n1/],
    ['a read-only disk', { device: disk({ readOnly: true }) }, {}, 'DISK_READ_ONLY', /read-only/],
    ['the running system', { systemMounts: ['/', '/boot/firmware'] }, {}, 'DISK_SYSTEM', /running system lives on it \(\/, \/boot\/firmware\)/],
    ['a mounted partition', { mounts: [{ device: '/dev/nvme1n1p1', mountPoint: '/mnt' }] }, {}, 'DISK_IN_USE', /mounted: \/dev\/nvme1n1p1 on \/mnt/],
    ['swap', { swap: ['/dev/nvme1n1p3'] }, {}, 'DISK_IN_USE', /used as swap: \/dev\/nvme1n1p3/],
    ['device-mapper', { device: disk({ holders: ['dm-0'] }) }, {}, 'DISK_IN_USE', /held by dm-0/],
    [
      'the DATA label on a partition',
      { labels: { partitions: [{ number: 3, startBytes: 0, sizeBytes: GiB, label: 'OURBOX_DATA' }] } },
      {},
      'DISK_PROTECTED',
      /partition 3 has the protected file system label OURBOX_DATA/,
    ],
    [
      'the DATA label in other case, on the whole disk',
      { labels: { partitions: [{ startBytes: 0, sizeBytes: GiB, label: 'ourbox_data' }] } },
      {},
      'DISK_PROTECTED',
      /the whole disk has the protected file system label ourbox_data/,
    ],
    [
      'a protected GPT partition name',
      { labels: { partitions: [{ number: 1, startBytes: 0, sizeBytes: GiB, partLabel: 'backups' }] } },
      { protectedLabels: ['BACKUPS'] },
      'DISK_PROTECTED',
      /partition 1 has the protected partition label backups/,
    ],
    ['a protected serial', {}, { protectedSerials: ['s64dnx0r123456'] }, 'DISK_PROTECTED', /serial S64DNX0R123456 is protected/],
    ['a disk smaller than the image', { device: disk({ sizeBytes: 2 * GiB }) }, {}, 'DISK_TOO_SMALL', /holds 2147483648 bytes; the image needs 4294967296/],
  ])('refuses %s with its own code, naming the disk', (_what, over, policyOver, code, reason) => {
    const f = facts(over);
    expect(() => checkDisk(f, { ...policy, ...policyOver })).toThrow(expect.objectContaining({ code }));
    expect(() => checkDisk(f, { ...policy, ...policyOver })).toThrow(reason);
    expect(() => checkDisk(f, { ...policy, ...policyOver })).toThrow(`refusing to write ${describeDisk(f.device)}`);
  });

  it('reports every reason, the first one giving the code', () => {
    const f = facts({ device: disk({ readOnly: true, sizeBytes: GiB }), mounts: [{ device: '/dev/nvme1n1p1', mountPoint: '/srv' }] });
    expect(diskRefusals(f, policy).map((r) => r.code)).toEqual(['DISK_READ_ONLY', 'DISK_IN_USE', 'DISK_TOO_SMALL']);
    expect(() => checkDisk(f, policy)).toThrow(expect.objectContaining({ code: 'DISK_READ_ONLY' }));
  });

  it('describes a disk the way a person checks it against the drive', () => {
    expect(describeDisk(disk())).toBe('/dev/nvme1n1 (Samsung SSD 980, serial S64DNX0R123456, 500.0 GiB)');
    expect(describeDisk(disk({ model: undefined, serial: undefined, sizeBytes: 64 * 1024 ** 2, backingFile: '/tmp/x.img' }))).toBe(
      '/dev/nvme1n1 (no model, serial none, 64.0 MiB, loop on /tmp/x.img)',
    );
  });
});
