/**
 * Partition layouts an exported image can have, declared in the product
 * config (EXPORT_* settings) and checked by pure functions:
 *
 * - `pigen`: what upstream export-image makes (MBR; 8 MiB alignment; a
 *   512 MiB FAT32 `bootfs`; an ext4 `rootfs` sized from its content + 20 %
 *   + 200 MiB).
 * - `ab-tryboot`: a Raspberry Pi 5 A/B layout (GPT): a small common FAT
 *   partition holding only `autoboot.txt`, boot A/B, root A/B, and an
 *   optional data partition. Slot A holds the system; slot B is empty or a
 *   copy. The firmware boots the partition autoboot.txt names and, after
 *   `reboot "0 tryboot"`, the one in its [tryboot] section.
 * - `custom`: the product's own table (EXPORT_TABLE, EXPORT_PARTITIONS).
 */
import { PiImageError } from '../core/errors';
import type { PartitionContent } from '../image/partition-roles';

/** What a partition holds. */
export const CONTENTS = ['boot', 'root', 'boot-b', 'root-b', 'autoboot', 'data', 'empty'] as const satisfies readonly PartitionContent[];
export type Content = PartitionContent;
export const FILE_SYSTEMS = ['fat16', 'fat32', 'ext4', 'none'] as const;
export type FileSystemKind = (typeof FILE_SYSTEMS)[number];
export type PartitionTableKind = 'dos' | 'gpt';

export interface PartitionSpec {
  content: Content;
  fs: FileSystemKind;
  /** Bytes, or 'auto': sized from the root file system's content (+20 % + 200 MiB). */
  size: number | 'auto';
  label: string;
}

export interface Layout {
  name: 'pigen' | 'ab-tryboot' | 'custom';
  table: PartitionTableKind;
  partitions: PartitionSpec[];
}

export const MiB = 1024 * 1024;
export const BOOT_SIZE = 512 * MiB;

/** The autoboot.txt of the ab-tryboot layout: boot A normally, boot B on a tryboot reboot. */
export function autobootText(bootA: number, bootB: number): string {
  return `[all]\ntryboot_a_b=1\nboot_partition=${bootA}\n[tryboot]\nboot_partition=${bootB}\n`;
}

/** Sizes as people write them: 512M, 2G, 1048576 (bytes). */
export function parseSize(text: string, where: string): number {
  const m = /^(\d+)([KMG]i?B?|)$/i.exec(text.trim());
  if (!m) throw new PiImageError('INPUT_INVALID', `${where}: "${text}" is not a size (a number of bytes, or with K, M or G: 512M, 2G)`);
  const unit = m[2]!.charAt(0).toUpperCase();
  const bytes = Number(m[1]) * (unit === 'K' ? 1024 : unit === 'M' ? MiB : unit === 'G' ? 1024 * MiB : 1);
  if (!Number.isSafeInteger(bytes)) throw new PiImageError('INPUT_INVALID', `${where}: "${text}" is too large`);
  return bytes;
}

/** Every label, also of a partition left empty, is a GPT partition name too (and goes into sfdisk's script). */
function checkLabel(label: string, fs: FileSystemKind, where: string): void {
  const max = fs === 'ext4' ? 16 : fs === 'none' ? 36 : 11;
  if (label.length === 0 || label.length > max || !/^[A-Za-z0-9_-]+$/.test(label)) {
    throw new PiImageError(
      'INPUT_INVALID',
      `${where}: label "${label}" must be 1-${max} letters, digits, _ or - for ${fs === 'none' ? 'a partition name' : fs}`,
    );
  }
}

/** The checks every layout passes, built in or not: one boot and one root in slot A, at most one of each other content. */
export function checkLayout(layout: Layout, where: string): Layout {
  const count = (c: Content): number => layout.partitions.filter((p) => p.content === c).length;
  for (const c of ['boot', 'root'] as const) {
    if (count(c) !== 1) throw new PiImageError('INPUT_INVALID', `${where}: needs exactly one ${c} partition (has ${count(c)})`);
  }
  for (const c of ['boot-b', 'root-b', 'autoboot'] as const) {
    if (count(c) > 1) throw new PiImageError('INPUT_INVALID', `${where}: has ${count(c)} ${c} partitions; at most one`);
  }
  if (count('boot-b') !== count('root-b')) throw new PiImageError('INPUT_INVALID', `${where}: slot B needs both a boot-b and a root-b partition`);
  if (count('autoboot') === 1 && count('boot-b') === 0) throw new PiImageError('INPUT_INVALID', `${where}: an autoboot partition needs a slot B to switch to`);
  if (layout.table === 'dos' && layout.partitions.length > 4) {
    throw new PiImageError('INPUT_INVALID', `${where}: an MBR (dos) table holds 4 partitions here; use EXPORT_TABLE=gpt for ${layout.partitions.length}`);
  }
  layout.partitions.forEach((p, i) => {
    const at = `${where}: partition ${i + 1} (${p.content})`;
    const fat = p.fs === 'fat16' || p.fs === 'fat32';
    if ((p.content === 'boot' || p.content === 'autoboot') && !fat) throw new PiImageError('INPUT_INVALID', `${at}: must be fat16 or fat32`);
    if (p.content === 'root' && p.fs !== 'ext4') throw new PiImageError('INPUT_INVALID', `${at}: must be ext4`);
    if (p.content === 'boot-b' && !fat && p.fs !== 'none') throw new PiImageError('INPUT_INVALID', `${at}: must be fat16, fat32 or none (left empty)`);
    if (p.content === 'root-b' && p.fs !== 'ext4' && p.fs !== 'none') throw new PiImageError('INPUT_INVALID', `${at}: must be ext4 or none (left empty)`);
    if (p.content === 'data' && p.fs !== 'ext4') throw new PiImageError('INPUT_INVALID', `${at}: must be ext4`);
    if (p.content === 'empty' && p.fs !== 'none') throw new PiImageError('INPUT_INVALID', `${at}: an empty partition has no file system (none)`);
    if (p.size === 'auto' && p.content !== 'root' && p.content !== 'root-b')
      throw new PiImageError('INPUT_INVALID', `${at}: only root partitions are sized auto`);
    if (p.size !== 'auto' && p.size < MiB) throw new PiImageError('INPUT_INVALID', `${at}: ${p.size} bytes is smaller than 1 MiB`);
    if (p.fs === 'fat32' && p.size !== 'auto' && p.size < 33 * MiB) throw new PiImageError('INPUT_INVALID', `${at}: FAT32 needs at least 33 MiB (use fat16)`);
    // mkfs.fat -s 1 (512-byte clusters, as export-image): FAT16 holds 4085 to 65524 clusters.
    if (p.fs === 'fat16' && p.size !== 'auto' && (p.size < 4 * MiB || p.size > 32 * MiB)) {
      throw new PiImageError('INPUT_INVALID', `${at}: FAT16 with 512-byte clusters takes 4 to 32 MiB (use fat32 above)`);
    }
    checkLabel(p.label, p.fs, at);
  });
  return layout;
}

export interface ExportSettings {
  /** export-image: upstream's stage; rootless: this project's (no loop device, no mount). */
  export: 'export-image' | 'rootless';
  layout: Layout;
  /**
   * EXPORT_UPGRADE (rootless): refresh the package lists and upgrade every
   * package at export, as upstream export-image does (default), or not: the
   * image then holds exactly what the stages installed.
   */
  upgrade: boolean;
}

const KEYS = [
  'EXPORT',
  'EXPORT_UPGRADE',
  'EXPORT_LAYOUT',
  'EXPORT_SLOT_B',
  'EXPORT_DATA_SIZE',
  'EXPORT_DATA_LABEL',
  'EXPORT_BOOT_SIZE',
  'EXPORT_TABLE',
  'EXPORT_PARTITIONS',
];
/** Product config keys this module reads. */
export const EXPORT_SETTING_KEYS: ReadonlySet<string> = new Set(KEYS);

/** One custom partition: content:fs:size[:label]. */
function parsePartition(text: string, where: string): PartitionSpec {
  const [content, fs, size, label, ...rest] = text.split(':');
  if (rest.length > 0 || !content || !fs || !size) throw new PiImageError('INPUT_INVALID', `${where}: "${text}" is not content:fs:size[:label]`);
  if (!(CONTENTS as readonly string[]).includes(content))
    throw new PiImageError('INPUT_INVALID', `${where}: content "${content}" is not one of ${CONTENTS.join(', ')}`);
  if (!(FILE_SYSTEMS as readonly string[]).includes(fs))
    throw new PiImageError('INPUT_INVALID', `${where}: file system "${fs}" is not one of ${FILE_SYSTEMS.join(', ')}`);
  return {
    content: content as Content,
    fs: fs as FileSystemKind,
    size: size === 'auto' ? 'auto' : parseSize(size, where),
    label: label ?? (content === 'root' ? 'rootfs' : content),
  };
}

/** Reads the EXPORT_* settings of a product config into an export choice and a checked layout. */
export function parseExportSettings(values: Readonly<Record<string, string>>, where = 'export settings'): ExportSettings {
  for (const k of Object.keys(values)) {
    if (!EXPORT_SETTING_KEYS.has(k)) throw new PiImageError('INPUT_INVALID', `${where}: ${k} is not an export setting (${KEYS.join(', ')})`);
  }
  const get = (k: string): string | undefined => (values[k] === undefined || values[k] === '' ? undefined : values[k]);
  const exportKind = get('EXPORT') ?? 'export-image';
  if (exportKind !== 'export-image' && exportKind !== 'rootless') {
    throw new PiImageError('INPUT_INVALID', `${where}: EXPORT "${exportKind}" is not export-image (upstream's, the default) or rootless`);
  }
  const upgradeText = get('EXPORT_UPGRADE') ?? '1';
  if (upgradeText !== '0' && upgradeText !== '1')
    throw new PiImageError('INPUT_INVALID', `${where}: EXPORT_UPGRADE "${upgradeText}" is not 1 (the default) or 0`);
  const upgrade = upgradeText === '1';
  const layoutName = get('EXPORT_LAYOUT') ?? 'pigen';
  const bootSize = get('EXPORT_BOOT_SIZE') ? parseSize(get('EXPORT_BOOT_SIZE')!, `${where}: EXPORT_BOOT_SIZE`) : BOOT_SIZE;
  const dataSize = get('EXPORT_DATA_SIZE') ? parseSize(get('EXPORT_DATA_SIZE')!, `${where}: EXPORT_DATA_SIZE`) : 0;
  const dataLabel = get('EXPORT_DATA_LABEL') ?? 'data';
  const only = (keys: string[], layouts: string): void => {
    for (const k of keys)
      if (get(k) !== undefined) throw new PiImageError('INPUT_INVALID', `${where}: ${k} is for EXPORT_LAYOUT=${layouts}, not ${layoutName}`);
  };
  if (exportKind === 'export-image') {
    const set = KEYS.filter((k) => k !== 'EXPORT' && get(k) !== undefined);
    if (set.length > 0)
      throw new PiImageError('INPUT_INVALID', `${where}: ${set.join(', ')} need EXPORT=rootless (upstream export-image has one fixed layout)`);
  }
  let layout: Layout;
  if (layoutName === 'pigen') {
    only(['EXPORT_SLOT_B', 'EXPORT_DATA_SIZE', 'EXPORT_DATA_LABEL', 'EXPORT_TABLE', 'EXPORT_PARTITIONS'], 'ab-tryboot or custom');
    layout = {
      name: 'pigen',
      table: 'dos',
      partitions: [
        { content: 'boot', fs: 'fat32', size: bootSize, label: 'bootfs' },
        { content: 'root', fs: 'ext4', size: 'auto', label: 'rootfs' },
      ],
    };
  } else if (layoutName === 'ab-tryboot') {
    only(['EXPORT_TABLE', 'EXPORT_PARTITIONS'], 'custom');
    const slotB = get('EXPORT_SLOT_B') ?? 'empty';
    if (slotB !== 'empty' && slotB !== 'copy') throw new PiImageError('INPUT_INVALID', `${where}: EXPORT_SLOT_B "${slotB}" is not empty or copy`);
    layout = {
      name: 'ab-tryboot',
      table: 'gpt',
      partitions: [
        { content: 'autoboot', fs: 'fat16', size: 32 * MiB, label: 'autoboot' },
        { content: 'boot', fs: 'fat32', size: bootSize, label: 'boot_a' },
        { content: 'boot-b', fs: slotB === 'copy' ? 'fat32' : 'none', size: bootSize, label: 'boot_b' },
        { content: 'root', fs: 'ext4', size: 'auto', label: 'root_a' },
        { content: 'root-b', fs: slotB === 'copy' ? 'ext4' : 'none', size: 'auto', label: 'root_b' },
        ...(dataSize > 0 ? [{ content: 'data' as const, fs: 'ext4' as const, size: dataSize, label: dataLabel }] : []),
      ],
    };
  } else if (layoutName === 'custom') {
    only(['EXPORT_SLOT_B', 'EXPORT_DATA_SIZE', 'EXPORT_DATA_LABEL', 'EXPORT_BOOT_SIZE'], 'pigen or ab-tryboot');
    const table = get('EXPORT_TABLE') ?? 'dos';
    if (table !== 'dos' && table !== 'gpt') throw new PiImageError('INPUT_INVALID', `${where}: EXPORT_TABLE "${table}" is not dos (MBR) or gpt`);
    const parts = (get('EXPORT_PARTITIONS') ?? '').split(/\s+/).filter(Boolean);
    if (parts.length === 0) throw new PiImageError('INPUT_INVALID', `${where}: EXPORT_LAYOUT=custom needs EXPORT_PARTITIONS (content:fs:size[:label] ...)`);
    layout = { name: 'custom', table, partitions: parts.map((p, i) => parsePartition(p, `${where}: EXPORT_PARTITIONS entry ${i + 1}`)) };
  } else {
    throw new PiImageError('INPUT_INVALID', `${where}: EXPORT_LAYOUT "${layoutName}" is not pigen, ab-tryboot or custom`);
  }
  return { export: exportKind, layout: checkLayout(layout, `${where}: layout ${layoutName}`), upgrade };
}
