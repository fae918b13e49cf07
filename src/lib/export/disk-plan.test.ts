import { describe, expect, it } from 'vitest';
import { diskIdentifiers } from './disk-identifiers';
import { planDisk, rootPartitionBytes, sfdiskScript } from './disk-plan';
import { parseExportSettings } from './layouts';

const MiB = 1048576;

describe('planDisk', () => {
  it("places pi-gen's layout exactly as export-image does", () => {
    // export-image: ROOT_SIZE=1234567890; margin = (ROOT_SIZE * 0.2 + 200 MiB) / 1 in bc = 456625178;
    // ROOT_PART_SIZE = (ROOT_SIZE + margin + 8 MiB - 1) / 8 MiB * 8 MiB = 1694498816.
    expect(rootPartitionBytes(1234567890)).toBe(1694498816);
    const { layout } = parseExportSettings({ EXPORT: 'rootless' });
    const plan = planDisk(layout, 1234567890, diskIdentifiers('dos', 2, 'seed'));
    expect(plan.partitions.map((p) => [p.start, p.bytes])).toEqual([
      [8 * MiB, 512 * MiB],
      [520 * MiB, 1694498816],
    ]);
    expect(plan.imageBytes).toBe(520 * MiB + 1694498816);
  });
  it('leaves room for the backup table of a GPT disk', () => {
    const { layout } = parseExportSettings({ EXPORT: 'rootless', EXPORT_LAYOUT: 'ab-tryboot' });
    const plan = planDisk(layout, 100 * MiB, diskIdentifiers('gpt', 5, 'seed'));
    const last = plan.partitions.at(-1)!;
    expect(plan.imageBytes).toBe(last.start + last.bytes + MiB);
    expect(plan.partitions.map((p) => p.role)).toEqual(['common boot (autoboot.txt)', 'boot (slot A)', 'boot (slot B)', 'root (slot A)', 'root (slot B)']);
    for (const p of plan.partitions) expect(p.start % (8 * MiB)).toBe(0);
  });
});

describe('sfdiskScript', () => {
  it('writes an MBR with the disk identifier and pi-gen types', () => {
    const { layout } = parseExportSettings({ EXPORT: 'rootless' });
    const ids = diskIdentifiers('dos', 2, 'seed');
    expect(sfdiskScript(planDisk(layout, 0, ids))).toBe(
      `label: dos\nlabel-id: 0x${ids.diskId}\nunit: sectors\n\nstart=16384, size=1048576, type=c\nstart=1064960, size=409600, type=83\n`,
    );
  });
  it('writes GPT partitions with their GUIDs, types and names', () => {
    const { layout } = parseExportSettings({ EXPORT: 'rootless', EXPORT_LAYOUT: 'ab-tryboot' });
    const ids = diskIdentifiers('gpt', 5, 'seed');
    const script = sfdiskScript(planDisk(layout, 0, ids));
    expect(script).toContain(`label-id: ${ids.diskId.toUpperCase()}`);
    expect(script).toContain(`uuid=${ids.partitions[2]!.partUuid.toUpperCase()}, name=boot_b`);
    expect(script.match(/type=EBD0A0A2/g)).toHaveLength(3);
    expect(script.match(/type=0FC63DAF/g)).toHaveLength(2);
  });
});
