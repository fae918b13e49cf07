/**
 * First-boot settings written into the first FAT partition of an image file or
 * a disk (the partition Raspberry Pi Imager writes to), without mounting it,
 * in the format the image really takes (first-boot.ts), then read back through
 * this library's own FAT reader and compared byte for byte, as Imager does
 * after its write.
 *
 * The files go in with mtools (`mcopy -i TARGET@@OFFSET`); cmdline.txt is
 * rewritten with the format's arguments (a previous customisation's replaced,
 * so running it again gives one set); a network-config or firstrun.sh an
 * earlier customisation wrote (they carry CUSTOMISATION_MARK) and this one does
 * not is removed, so old Wi-Fi settings never come back with new ones.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import { digestBytes } from '../core/file-digest';
import type { Logger } from '../core/logger';
import { SliceByteSource, type ByteSource } from '../image/byte-source';
import { FatFileSystem } from '../image/fat';
import { isFirstBootArgument, type FirstBootSupport, type InitFormat } from '../image/first-boot';
import { inspectImage } from '../image/inspect';
import { checkInstanceIdUnused, existingInstanceIds } from './cloud-init-files';
import { CUSTOMISATION_MARK, renderSeed, SEED_FILE_NAMES, type SeedFormat, type SeedRequest } from './customisation';

/** Where a seed is written: an image file or a whole disk, read through a byte source, written by mtools. */
export interface SeedTarget {
  /** What messages call it (the file, or the disk with its model and serial). */
  name: string;
  /** The path mtools opens (`-i PATH@@OFFSET`). */
  path: string;
  open(): Promise<ByteSource & { close(): Promise<void> }>;
  /** After mtools has written and before reading back: the writes flushed and cached pages dropped (a disk). */
  settle?: (() => Promise<void>) | undefined;
}

export interface SeedOptions {
  request: SeedRequest;
  /** The format to write; default what the image takes (refused when it takes none Imager knows). */
  format?: SeedFormat | undefined;
  instanceId: string;
  logger: Logger;
}

export interface SeedResult {
  format: SeedFormat;
  detected: InitFormat;
  partition: number;
  files: { name: string; size: number; sha256: string }[];
  /** Files of an earlier customisation this one removed. */
  removed: string[];
  cmdline: string;
}

export function customisedCmdline(cmdline: string, append: string): string {
  const kept = cmdline
    .trim()
    .split(/\s+/)
    .filter((a) => a !== '' && !isFirstBootArgument(a));
  return `${[...kept, ...append.trim().split(/\s+/)].join(' ')}\n`;
}

interface BootPartition {
  partition: number;
  offset: number;
  size: number;
  detected: InitFormat;
  evidence: string[];
  cmdline: string;
  /** The seed files already there, with their first bytes (enough to see the mark). */
  present: Map<string, string>;
}

async function readBootPartition(target: SeedTarget): Promise<BootPartition> {
  const source = await target.open();
  try {
    const inspection = await inspectImage(source);
    const fat = inspection.partitionTable.partitions.find((p) => p.filesystem.type === 'vfat');
    if (!fat) throw new PiImageError('INPUT_INVALID', `${target.name} has no FAT partition: nothing Imager's customisation could be written to`);
    const fs = await FatFileSystem.open(new SliceByteSource(source, fat.startBytes, fat.sizeBytes, `${target.name} partition ${fat.number}`));
    const cmdline = (await fs.readFile('/cmdline.txt'))?.toString('utf8');
    if (cmdline === undefined)
      throw new PiImageError('INPUT_INVALID', `${target.name} partition ${fat.number} has no cmdline.txt: not a Raspberry Pi boot partition`);
    const present = new Map<string, string>();
    for (const name of SEED_FILE_NAMES) {
      const bytes = await fs.readFile(`/${name}`, 64 * 1024).catch(() => undefined);
      if (bytes) present.set(name, bytes.toString('utf8'));
    }
    const firstBoot = inspection.root?.firstBoot ?? { initFormat: 'none' as const, evidence: ['no root file system found'] };
    return {
      partition: fat.number,
      offset: fat.startBytes,
      size: fat.sizeBytes,
      detected: firstBoot.initFormat,
      evidence: firstBoot.evidence,
      cmdline,
      present,
    };
  } finally {
    await source.close();
  }
}

/** The format to write: the one asked for (a warning when the image takes another), else the one the image takes, else refused. */
export function chooseFormat(support: FirstBootSupport, asked: SeedFormat | undefined, name: string, logger: Logger): SeedFormat {
  const { initFormat: detected, evidence } = support;
  if (asked) {
    if (asked !== detected) logger.warn(`${name} takes ${detected} at first boot (${evidence.join('; ')}), but ${asked} was asked for: it may not be applied`);
    return asked;
  }
  if (detected !== 'cloudinit' && detected !== 'cloudinit-rpi' && detected !== 'systemd')
    throw new PiImageError(
      'INPUT_INVALID',
      `${name} takes no first-boot customisation this tool writes (init_format ${detected}: ${evidence.join('; ')}); give --format to write one anyway`,
    );
  return detected;
}

/** Reads the target's boot partition, decides the format and checks the request against it; nothing is written yet. */
async function planSeed(target: SeedTarget, options: SeedOptions): Promise<{ boot: BootPartition; format: SeedFormat }> {
  const boot = await readBootPartition(target);
  const format = chooseFormat({ initFormat: boot.detected, evidence: boot.evidence }, options.format, target.name, options.logger);
  if (format !== 'systemd')
    checkInstanceIdUnused(options.instanceId, existingInstanceIds(boot.present.get('meta-data'), boot.cmdline), `${target.name} partition ${boot.partition}`);
  if (options.request.kind === 'cloud-init' && format === 'cloudinit' && options.request.files.userDataKeys.includes('rpi'))
    options.logger.warn(
      `the user-data's rpi: keys need cloud-init's Raspberry Pi module (cloudinit-rpi), which ${target.name} does not have: they will be ignored`,
    );
  return { boot, format };
}

export async function writeSeed(target: SeedTarget, options: SeedOptions): Promise<SeedResult> {
  const { logger } = options;
  const { boot, format } = await planSeed(target, options);
  const seed = renderSeed(options.request, format, options.instanceId);
  const cmdline = customisedCmdline(boot.cmdline, seed.cmdlineAppend);
  const files = [...seed.files, { name: 'cmdline.txt', content: cmdline }];
  const removed = [...boot.present].filter(([name, head]) => head.includes(CUSTOMISATION_MARK) && !files.some((f) => f.name === name)).map(([n]) => n);

  const fatPath = `${target.path}@@${boot.offset}`;
  const env = { ...process.env, MTOOLSRC: '/dev/null', MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };
  const scratch = await mkdtemp(join(tmpdir(), 'pi-image-customise-'));
  const unregister = registerCleanup(() => rm(scratch, { recursive: true, force: true }));
  try {
    for (const f of files) {
      const local = join(scratch, f.name);
      await writeFile(local, f.content, { mode: 0o600 });
      await execCapture('mcopy', ['-o', '-i', fatPath, local, `::${f.name}`], { logger, env });
    }
    for (const name of removed) await execCapture('mdel', ['-i', fatPath, `::${name}`], { logger, env });
  } finally {
    await rm(scratch, { recursive: true, force: true });
    unregister();
  }
  await target.settle?.();

  // Read back through this library's FAT reader, as Imager reads its write back.
  const source = await target.open();
  const written: SeedResult['files'] = [];
  try {
    const fs = await FatFileSystem.open(new SliceByteSource(source, boot.offset, boot.size, `${target.name} partition ${boot.partition}`));
    for (const f of files) {
      const back = await fs.readFile(`/${f.name}`);
      if (!back?.equals(Buffer.from(f.content)))
        throw new PiImageError(
          'IO_FAILED',
          `${target.name} partition ${boot.partition}: ${f.name} reads back ${back ? `${back.length} different bytes` : 'missing'} after the write`,
        );
      written.push({ name: f.name, ...digestBytes(back) });
    }
    for (const name of removed)
      if ((await fs.readFile(`/${name}`)) !== undefined)
        throw new PiImageError('IO_FAILED', `${target.name} partition ${boot.partition}: ${name} is still there after it was removed`);
  } finally {
    await source.close();
  }
  logger.info(
    `${target.name}: ${format} customisation written to partition ${boot.partition} and read back (${written.map((w) => w.name).join(', ')})` +
      (removed.length > 0 ? `; removed the earlier ${removed.join(', ')}` : ''),
  );
  return { format, detected: boot.detected, partition: boot.partition, files: written, removed, cmdline };
}
