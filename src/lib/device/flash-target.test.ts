import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSysfsFixture } from '../../../test/support/sysfs-fixture';
import { BlockDevices } from './block-devices';
import { describeSpec, resolveTarget } from './flash-target';

const root = mkdtempSync(join(tmpdir(), 'sysfs-target-'));
const twins = mkdtempSync(join(tmpdir(), 'sysfs-twins-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(twins, { recursive: true, force: true });
});
makeSysfsFixture(root);
makeSysfsFixture(twins, { serialTwin: true });

describe('a flash target named by serial or WWN', () => {
  const devices = new BlockDevices(root, '/dev');

  it('finds the whole disk with that serial or WWN', () => {
    expect(resolveTarget({ serial: 'S64DNX0R123456' }, devices)).toMatchObject({ name: 'nvme1n1', path: '/dev/nvme1n1' });
    expect(resolveTarget({ wwn: 'eui.0025385b21404321' }, devices)).toMatchObject({ name: 'nvme1n1' });
  });

  it('refuses a serial no disk has, and one two disks share, naming them', () => {
    expect(() => resolveTarget({ serial: 'S00000' }, devices)).toThrow(
      expect.objectContaining({ code: 'DISK_NOT_FOUND', message: 'no disk has serial S00000' }),
    );
    expect(() => resolveTarget({ serial: 'S64DNX0R123456' }, new BlockDevices(twins, '/dev'))).toThrow(
      expect.objectContaining({ code: 'DISK_NOT_FOUND', message: '2 disks have serial S64DNX0R123456 (/dev/nvme1n1, /dev/nvme2n1): name one by path' }),
    );
  });

  it('describes the spec as a person gave it', () => {
    expect(describeSpec({ serial: 'S1' })).toBe('the disk with serial S1');
    expect(describeSpec({ path: '/dev/disk/by-id/nvme-x' })).toBe('/dev/disk/by-id/nvme-x');
  });
});
