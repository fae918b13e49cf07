import { describe, expect, it } from 'vitest';
import { mountDevnos, parseMountinfo, parseSwaps } from './system-usage';

describe('what the running system uses', () => {
  it('reads mountinfo: device number, mount point (escapes undone), type and source', () => {
    const text = [
      '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
      '40 27 259:2 / /boot/firmware rw,relatime shared:3 - vfat /dev/nvme0n1p1 rw',
      '41 27 0:45 / /mnt/my\\040disk rw - btrfs /dev/sdb1 rw',
      '42 27 0:23 / /dev/shm rw - tmpfs tmpfs rw',
      '',
    ].join('\n');
    expect(parseMountinfo(text)).toEqual([
      { devno: '254:0', mountPoint: '/', fsType: 'ext4', source: '/dev/vda' },
      { devno: '259:2', mountPoint: '/boot/firmware', fsType: 'vfat', source: '/dev/nvme0n1p1' },
      { devno: '0:45', mountPoint: '/mnt/my disk', fsType: 'btrfs', source: '/dev/sdb1' },
      { devno: '0:23', mountPoint: '/dev/shm', fsType: 'tmpfs', source: 'tmpfs' },
    ]);
  });

  it('reads /proc/swaps', () => {
    const text =
      'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/nvme0n1p3                          partition\t8388604\t\t0\t\t-2\n/var/swap file 1 0 -3\n';
    expect(parseSwaps(text)).toEqual(['/dev/nvme0n1p3', '/var/swap']);
  });

  it("takes a mount's own device number, and not an anonymous one (0:N)", () => {
    expect(mountDevnos({ devno: '259:2', mountPoint: '/boot', fsType: 'vfat', source: 'none' })).toEqual(['259:2']);
    expect(mountDevnos({ devno: '0:45', mountPoint: '/x', fsType: 'btrfs', source: '/dev/does-not-exist' })).toEqual([]);
  });
});
