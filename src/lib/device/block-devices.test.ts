import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockDevices, devnoOf } from './block-devices';
import { parseBlkidExport } from './disk-labels';
import { makeSysfsFixture } from '../../../test/support/sysfs-fixture';

const root = mkdtempSync(join(tmpdir(), 'sysfs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
makeSysfsFixture(root);

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
