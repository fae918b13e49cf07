import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { devicePath, deviceTimeoutDropIns, escapePath, timeSpanSeconds } from './device-timeouts';

const systemdEscape = spawnSync('systemd-escape', ['--version']).status === 0;

describe('device timeouts under emulation', () => {
  const paths = [
    '/dev/disk/by-label/OURBOX_DATA',
    '/dev/disk/by-uuid/a.b-c',
    '/dev/disk/by-partuuid/5eed1234-02',
    '/dev/vda1',
    '/dev/disk/by-label/.hidden',
    '/dev//x/',
    '/.a/b',
  ];

  it.skipIf(!systemdEscape)('names device units as systemd-escape --path does (systemd-escape not installed: skipped)', () => {
    for (const p of paths) {
      const reference = spawnSync('systemd-escape', ['--path', p], { encoding: 'utf8' }).stdout.trim();
      expect(escapePath(p), p).toBe(reference);
    }
  });

  it('maps fstab specs to the paths systemd waits for; leaves out what is not a device', () => {
    expect(devicePath('LABEL=OURBOX_DATA')).toBe('/dev/disk/by-label/OURBOX_DATA');
    expect(devicePath('UUID=ABCD-1234')).toBe('/dev/disk/by-uuid/abcd-1234');
    expect(devicePath('PARTUUID=5EED1234-02')).toBe('/dev/disk/by-partuuid/5eed1234-02');
    expect(devicePath('PARTLABEL=data')).toBe('/dev/disk/by-partlabel/data');
    expect(devicePath('/dev/sda1')).toBe('/dev/sda1');
    expect(devicePath('proc')).toBeUndefined();
    expect(devicePath('LABEL=with space')).toBeUndefined();
    expect(devicePath('server:/export')).toBeUndefined();
  });

  it.each([
    ['10', 10],
    ['10s', 10],
    ['1min 30s', 90],
    ['500ms', 0.5],
    ['2h', 7200],
    ['ten', undefined],
    ['10 parsecs', undefined],
    ['', undefined],
  ])('reads the time span %j as %j seconds', (text, seconds) => {
    expect(timeSpanSeconds(text)).toBe(seconds);
  });

  it('stretches each line with a device timeout by the factor, in a drop-in for its device unit; none under KVM', () => {
    const fstab = [
      { spec: 'proc', file: '/proc', vfstype: 'proc', options: 'defaults', freq: 0, passno: 0 },
      {
        spec: 'LABEL=OURBOX_DATA',
        file: '/var/lib/ourbox',
        vfstype: 'ext4',
        options: 'defaults,noatime,nofail,x-systemd.device-timeout=10',
        freq: 0,
        passno: 2,
      },
      { spec: 'PARTUUID=5eed1234-02', file: '/', vfstype: 'ext4', options: 'defaults', freq: 0, passno: 1 },
    ];
    const { entries, stretched } = deviceTimeoutDropIns(fstab, 4);
    expect(stretched).toEqual([{ device: '/dev/disk/by-label/OURBOX_DATA', seconds: 40 }]);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      type: 'file',
      path: 'probe/systemd/dev-disk-by\\x2dlabel-OURBOX_DATA.device.d/99-pi-image-emulation.conf',
      data: expect.stringContaining('[Unit]\nJobRunningTimeoutSec=40\n') as unknown,
    });
    expect(deviceTimeoutDropIns(fstab, 1)).toEqual({ entries: [], stretched: [] });
  });
});
