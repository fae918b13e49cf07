import { describe, expect, it } from 'vitest';
import { parseAutoboot, rootPartuuid } from './partition-roles';

describe('parseAutoboot', () => {
  it("reads slot A's and slot B's boot partitions", () => {
    expect(parseAutoboot('[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n')).toEqual({
      tryboot: true,
      bootPartition: 2,
      trybootPartition: 3,
    });
  });
  it('takes lines before any section as [all], ignores comments and other sections', () => {
    expect(parseAutoboot('boot_partition=5 # A\n[pi4]\nboot_partition=9\n')).toEqual({ tryboot: false, bootPartition: 5 });
  });
});

describe('rootPartuuid', () => {
  it('finds root=PARTUUID=, lower case', () => {
    expect(rootPartuuid('console=serial0 root=PARTUUID=ABCDEF01-02 rootwait')).toBe('abcdef01-02');
    expect(rootPartuuid('root=/dev/mmcblk0p2')).toBeUndefined();
  });
});
