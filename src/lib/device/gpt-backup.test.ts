import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingTools, skipReason } from '../../../test/support/tools';
import { hasGpt, relocateGpt } from './gpt-backup';

const missing = missingTools(['sfdisk', 'truncate']);
if (missing.length > 0) skipReason('GPT relocation against sfdisk', `missing: ${missing.join(', ')}`);

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'gpt-move-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A GPT image of `mib` MiB made by sfdisk, with two partitions. */
function gptImage(name: string, mib: number): string {
  const path = join(dir, name);
  execFileSync('truncate', ['-s', `${mib}M`, path]);
  execFileSync('sfdisk', ['-q', path], {
    input: 'label: gpt\n\nstart=2048, size=8192, type=uefi, name="boot"\nstart=10240, size=8192, type=linux, name="root"\n',
  });
  return path;
}

describe.skipIf(missing.length > 0)('moving a GPT backup to the end of a larger disk', () => {
  it('leaves a disk sfdisk reads without complaint: backup at the last sector, usable area grown, partitions kept', () => {
    const image = readFileSync(gptImage('small.img', 16));
    const disk = join(dir, 'disk.img');
    execFileSync('truncate', ['-s', `64M`, disk]);
    // As a flash leaves it: the image's bytes at the start of a larger disk.
    const head = Buffer.from(image.subarray(0, MiB));
    expect(hasGpt(head)).toBe(true);
    const backup = relocateGpt(head, 64 * MiB)!;
    const bytes = readFileSync(disk);
    image.copy(bytes);
    head.copy(bytes);
    backup.bytes.copy(bytes, backup.offset);
    writeFileSync(disk, bytes);
    expect(backup.offset + backup.bytes.length).toBe(64 * MiB);

    const table = JSON.parse(execFileSync('sfdisk', ['--json', disk], { encoding: 'utf8' })) as {
      partitiontable: { lastlba: number; partitions: { start: number; size: number; name: string }[] };
    };
    expect(table.partitiontable.lastlba).toBe((64 * MiB) / 512 - 34);
    expect(table.partitiontable.partitions.map((p) => [p.start, p.size, p.name])).toEqual([
      [2048, 8192, 'boot'],
      [10240, 8192, 'root'],
    ]);
    // Before the move, sfdisk says "The backup GPT table is not on the end of the device" and "MyLBA mismatch".
    const verify = spawnSync('sfdisk', ['--verify', disk], { encoding: 'utf8' });
    expect([verify.status, verify.stderr]).toEqual([0, '']);
    expect(verify.stdout).toContain('No errors detected.');
  });

  it('does nothing to an MBR image', () => {
    const head = Buffer.alloc(MiB);
    head.writeUInt16LE(0xaa55, 510);
    head[450] = 0x0c;
    expect(hasGpt(head)).toBe(false);
    expect(relocateGpt(head, 64 * MiB)).toBeUndefined();
  });
});
