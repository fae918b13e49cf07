import { describe, expect, it } from 'vitest';
import { PiImageError } from '../core/errors';
import { autobootText, parseExportSettings, parseSize } from './layouts';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof PiImageError ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
}

describe('parseExportSettings', () => {
  it("defaults to upstream export-image with pi-gen's own layout", () => {
    const s = parseExportSettings({});
    expect(s.export).toBe('export-image');
    expect(s.layout.name).toBe('pigen');
    expect(s.layout.partitions.map((p) => [p.content, p.fs, p.size, p.label])).toEqual([
      ['boot', 'fat32', 512 * 1048576, 'bootfs'],
      ['root', 'ext4', 'auto', 'rootfs'],
    ]);
  });
  it('upgrades the packages at export unless EXPORT_UPGRADE=0, a rootless setting only', () => {
    expect(parseExportSettings({ EXPORT: 'rootless' }).upgrade).toBe(true);
    expect(parseExportSettings({ EXPORT: 'rootless', EXPORT_UPGRADE: '0' }).upgrade).toBe(false);
    expect(code(() => parseExportSettings({ EXPORT: 'rootless', EXPORT_UPGRADE: 'no' }))).toMatch(
      /^INPUT_INVALID: .*EXPORT_UPGRADE "no" is not 1 \(the default\) or 0/,
    );
    expect(code(() => parseExportSettings({ EXPORT_UPGRADE: '0' }))).toMatch(/^INPUT_INVALID: .*EXPORT_UPGRADE/);
  });
  it('lays out A/B slots on GPT, slot B empty unless a copy is asked for, data only with a size', () => {
    const empty = parseExportSettings({ EXPORT: 'rootless', EXPORT_LAYOUT: 'ab-tryboot' }).layout;
    expect(empty.table).toBe('gpt');
    expect(empty.partitions.map((p) => `${p.content}:${p.fs}:${p.label}`)).toEqual([
      'autoboot:fat16:autoboot',
      'boot:fat32:boot_a',
      'boot-b:none:boot_b',
      'root:ext4:root_a',
      'root-b:none:root_b',
    ]);
    const copy = parseExportSettings({
      EXPORT: 'rootless',
      EXPORT_LAYOUT: 'ab-tryboot',
      EXPORT_SLOT_B: 'copy',
      EXPORT_DATA_SIZE: '2G',
      EXPORT_DATA_LABEL: 'OURBOX_DATA',
    }).layout;
    expect(copy.partitions.map((p) => p.fs)).toEqual(['fat16', 'fat32', 'fat32', 'ext4', 'ext4', 'ext4']);
    expect(copy.partitions[5]).toEqual({ content: 'data', fs: 'ext4', size: 2 * 1024 ** 3, label: 'OURBOX_DATA' });
  });
  it('reads a custom table', () => {
    const l = parseExportSettings({
      EXPORT: 'rootless',
      EXPORT_LAYOUT: 'custom',
      EXPORT_TABLE: 'gpt',
      EXPORT_PARTITIONS: 'boot:fat32:256M:BOOT root:ext4:auto empty:none:1G:spare',
    }).layout;
    expect(l.partitions).toEqual([
      { content: 'boot', fs: 'fat32', size: 256 * 1048576, label: 'BOOT' },
      { content: 'root', fs: 'ext4', size: 'auto', label: 'rootfs' },
      { content: 'empty', fs: 'none', size: 1024 ** 3, label: 'spare' },
    ]);
  });
  it.each([
    [{ EXPORT: 'loopless' }, /EXPORT "loopless" is not export-image/],
    [{ EXPORT_LAYOUT: 'ab-tryboot' }, /EXPORT_LAYOUT need EXPORT=rootless/],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'abc' }, /EXPORT_LAYOUT "abc" is not pigen, ab-tryboot or custom/],
    [{ EXPORT: 'rootless', EXPORT_SLOT_B: 'copy' }, /EXPORT_SLOT_B is for EXPORT_LAYOUT=ab-tryboot or custom, not pigen/],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'ab-tryboot', EXPORT_SLOT_B: 'both' }, /EXPORT_SLOT_B "both" is not empty or copy/],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'custom' }, /needs EXPORT_PARTITIONS/],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'root:ext4:auto' }, /needs exactly one boot partition \(has 0\)/],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:ext4:64M root:ext4:auto' }, /partition 1 \(boot\): must be fat16 or fat32/],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:fat32:16M root:ext4:auto' }, /FAT32 needs at least 33 MiB/],
    [
      { EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:fat32:64M:a-label-too-long root:ext4:auto' },
      /label "a-label-too-long" must be 1-11/,
    ],
    [
      { EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:fat32:64M root:ext4:auto data:ext4:1G data:ext4:1G empty:none:1M' },
      /MBR \(dos\) table holds 4 partitions/,
    ],
    [
      { EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:fat32:64M root:ext4:auto autoboot:fat16:32M' },
      /autoboot partition needs a slot B/,
    ],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:fat32:64M root:ext4:auto root-b:ext4:auto' }, /slot B needs both/],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:fat32:auto root:ext4:auto' }, /only root partitions are sized auto/],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:fat16:64M root:ext4:auto' }, /FAT16 with 512-byte clusters takes 4 to 32 MiB/],
    [
      { EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_TABLE: 'gpt', EXPORT_PARTITIONS: 'boot:fat32:64M root:ext4:auto empty:none:8M:x,attrs=63' },
      /label "x,attrs=63" must be 1-36 letters, digits, _ or - for a partition name/,
    ],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:fat32 root:ext4:auto' }, /"boot:fat32" is not content:fs:size\[:label\]/],
    [{ EXPORT: 'rootless', EXPORT_LAYOUT: 'custom', EXPORT_PARTITIONS: 'boot:ntfs:64M root:ext4:auto' }, /file system "ntfs" is not one of/],
  ])('refuses %j', (settings, message) => {
    expect(code(() => parseExportSettings(settings, 'test.env'))).toMatch(message);
    expect(code(() => parseExportSettings(settings, 'test.env'))).toMatch(/^INPUT_INVALID: test.env/);
  });
});

describe('parseSize', () => {
  it.each([
    ['512M', 512 * 1048576],
    ['2G', 2 * 1024 ** 3],
    ['64MiB', 64 * 1048576],
    ['4096', 4096],
    ['8k', 8192],
  ])('%s', (text, bytes) => expect(parseSize(text, 'x')).toBe(bytes));
  it('refuses what is not a size', () => expect(code(() => parseSize('1.5G', 'EXPORT_DATA_SIZE'))).toMatch(/EXPORT_DATA_SIZE: "1.5G" is not a size/));
});

describe('autobootText', () => {
  it("names slot A's boot partition, and slot B's for a tryboot reboot", () => {
    expect(autobootText(2, 3)).toBe('[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n');
  });
});
