import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockDevices, devnoOf } from './block-devices';
import { parseBlkidExport } from './disk-labels';

/** A sysfs tree as the kernel lays it out for an NVMe disk with two partitions, one held by dm-0, and a loop device. */
const root = mkdtempSync(join(tmpdir(), 'sysfs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const file = (path: string, text: string): void => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), `${text}\n`);
};
const nvme = 'devices/pci0000:00/nvme/nvme1/nvme1n1';
file(`${nvme}/dev`, '259:3');
file(`${nvme}/size`, '976773168');
file(`${nvme}/ro`, '0');
file(`${nvme}/removable`, '0');
file(`${nvme}/wwid`, 'eui.0025385b21404321');
file(`${nvme}/queue/logical_block_size`, '512');
file(`${nvme}/queue/write_zeroes_max_bytes`, '131072');
file(`${nvme}/device/model`, 'Samsung SSD 980 1TB   ');
file(`${nvme}/device/serial`, 'S64DNX0R123456');
mkdirSync(join(root, nvme, 'holders'), { recursive: true });
for (const [n, start, holder] of [
  [1, 2048, undefined],
  [2, 1050624, 'dm-0'],
] as const) {
  file(`${nvme}/nvme1n1p${n}/dev`, `259:${3 + n}`);
  file(`${nvme}/nvme1n1p${n}/partition`, String(n));
  file(`${nvme}/nvme1n1p${n}/start`, String(start));
  file(`${nvme}/nvme1n1p${n}/size`, '1048576');
  mkdirSync(join(root, nvme, `nvme1n1p${n}`, 'holders'), { recursive: true });
  if (holder) mkdirSync(join(root, nvme, `nvme1n1p${n}`, 'holders', holder));
}
const dm = 'devices/virtual/block/dm-0';
file(`${dm}/dev`, '253:0');
file(`${dm}/size`, '1048576');
mkdirSync(join(root, dm, 'slaves'), { recursive: true });
symlinkSync(join(root, nvme, 'nvme1n1p2'), join(root, dm, 'slaves', 'nvme1n1p2'));
const loop = 'devices/virtual/block/loop3';
file(`${loop}/dev`, '7:3');
file(`${loop}/size`, '131072');
file(`${loop}/loop/backing_file`, '/tmp/sys.img');
mkdirSync(join(root, 'class', 'block'), { recursive: true });
mkdirSync(join(root, 'dev', 'block'), { recursive: true });
for (const [name, path, devno] of [
  ['nvme1n1', nvme, '259:3'],
  ['nvme1n1p1', `${nvme}/nvme1n1p1`, '259:4'],
  ['nvme1n1p2', `${nvme}/nvme1n1p2`, '259:5'],
  ['dm-0', dm, '253:0'],
  ['loop3', loop, '7:3'],
] as const) {
  symlinkSync(join(root, path), join(root, 'class', 'block', name));
  symlinkSync(join(root, path), join(root, 'dev', 'block', devno));
}

describe('block devices from sysfs', () => {
  const devices = new BlockDevices(root, '/dev');

  it('describes a disk: size, model, serial, WWN, partitions and what holds them', () => {
    expect(devices.byName('nvme1n1')).toEqual({
      name: 'nvme1n1',
      path: '/dev/nvme1n1',
      devno: '259:3',
      sizeBytes: 976773168 * 512,
      readOnly: false,
      removable: false,
      isPartition: false,
      parent: undefined,
      startBytes: undefined,
      model: 'Samsung SSD 980 1TB',
      serial: 'S64DNX0R123456',
      wwn: 'eui.0025385b21404321',
      partitions: ['nvme1n1p1', 'nvme1n1p2'],
      holders: ['dm-0'],
      logicalBlockSize: 512,
      writeZeroesMaxBytes: 131072,
      backingFile: undefined,
    });
  });

  it('knows a partition, its disk and where it starts; finds a device by its number', () => {
    expect(devices.byDevno('259:5')).toMatchObject({ name: 'nvme1n1p2', isPartition: true, parent: 'nvme1n1', startBytes: 1050624 * 512 });
    expect(devices.byDevno('9:9')).toBeUndefined();
    expect(devices.byName('../../etc')).toBeUndefined();
  });

  it('follows device-mapper down to the disk under it', () => {
    expect(devices.disksUnder('dm-0')).toEqual(['nvme1n1']);
    expect(devices.disksUnder('nvme1n1p1')).toEqual(['nvme1n1']);
    expect(devices.disksUnder('loop3')).toEqual(['loop3']);
  });

  it("reads a loop device's backing file; it has no serial", () => {
    expect(devices.byName('loop3')).toMatchObject({ backingFile: '/tmp/sys.img', serial: undefined, model: undefined });
  });

  it('decodes a device number the way Linux encodes it', () => {
    expect(devnoOf(7 * 256 + 3)).toBe('7:3');
    expect(devnoOf((259 << 8) | 5)).toBe('259:5');
    // minor numbers past 255 keep their high bits above the major's
    expect(devnoOf((259 << 8) | (0x12 << 20) | 0x34)).toBe('259:4660');
  });
});

describe("blkid's export format", () => {
  it('reads KEY=VALUE lines, unescaping', () => {
    expect(parseBlkidExport('DEVNAME=/dev/loop0\nLABEL=OURBOX\\ DATA\nTYPE=ext4\n\n')).toEqual({ DEVNAME: '/dev/loop0', LABEL: 'OURBOX DATA', TYPE: 'ext4' });
  });
});
