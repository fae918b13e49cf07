/**
 * `pi-image customise`: first-boot settings written into an image's boot
 * partition without mounting it, the way Raspberry Pi Imager writes them (to
 * the first FAT partition), in the format the image really takes
 * (first-boot.ts), then read back through this library's own FAT reader and
 * compared byte for byte, as Imager does after its write.
 *
 * The files go in with mtools (`mcopy -i IMAGE@@OFFSET`), cmdline.txt is
 * rewritten with the format's arguments (earlier ones of a previous
 * customisation replaced, so running it twice gives one set).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import { digestBytes } from '../core/file-digest';
import type { Logger } from '../core/logger';
import { FileByteSource, SliceByteSource } from '../image/byte-source';
import { detectCompression } from '../image/compression';
import { FatFileSystem } from '../image/fat';
import type { InitFormat } from '../image/first-boot';
import { inspectImage } from '../image/inspect';
import { renderSeed, type Customisation, type SeedFormat } from './customisation';

export interface CustomiseOptions {
  image: string;
  customisation: Customisation;
  /** The format to write; default what the image takes (refused when it takes none Imager knows). */
  format?: SeedFormat | undefined;
  instanceId: string;
  logger: Logger;
}

export interface CustomiseResult {
  format: SeedFormat;
  detected: InitFormat;
  partition: number;
  files: { name: string; size: number; sha256: string }[];
  cmdline: string;
}

/** Arguments an earlier customisation appended (Imager's, or this tool's). */
const OWN_ARGUMENTS =
  /^(ds=nocloud(;.*)?|cfg80211\.ieee80211_regdom=.*|systemd\.run=.*|systemd\.run_success_action=.*|systemd\.unit=kernel-command-line\.target)$/;

export function customisedCmdline(cmdline: string, append: string): string {
  const kept = cmdline
    .trim()
    .split(/\s+/)
    .filter((a) => a !== '' && !OWN_ARGUMENTS.test(a));
  return `${[...kept, ...append.trim().split(/\s+/)].join(' ')}\n`;
}

async function firstFat(
  image: string,
): Promise<{ partition: number; offset: number; size: number; detected: InitFormat; evidence: string[]; cmdline: string }> {
  const source = await FileByteSource.open(image);
  try {
    const inspection = await inspectImage(source);
    const fat = inspection.partitionTable.partitions.find((p) => p.filesystem.type === 'vfat');
    if (!fat) throw new PiImageError('INPUT_INVALID', `${image} has no FAT partition: nothing Imager's customisation could be written to`);
    const fs = await FatFileSystem.open(new SliceByteSource(source, fat.startBytes, fat.sizeBytes, `${image} partition ${fat.number}`));
    const cmdline = (await fs.readFile('/cmdline.txt'))?.toString('utf8');
    if (cmdline === undefined)
      throw new PiImageError('INPUT_INVALID', `${image} partition ${fat.number} has no cmdline.txt: not a Raspberry Pi boot partition`);
    const firstBoot = inspection.root?.firstBoot ?? { initFormat: 'none' as const, evidence: ['no root file system found'] };
    return { partition: fat.number, offset: fat.startBytes, size: fat.sizeBytes, detected: firstBoot.initFormat, evidence: firstBoot.evidence, cmdline };
  } finally {
    await source.close();
  }
}

export async function customiseImage(options: CustomiseOptions): Promise<CustomiseResult> {
  const { image, logger } = options;
  if ((await detectCompression(image)) !== 'none')
    throw new PiImageError('INPUT_INVALID', `${image} is compressed: customise writes into a raw image (.img) or a flashed disk; decompress it first`);
  const boot = await firstFat(image);
  let format: SeedFormat;
  if (options.format) {
    format = options.format;
    if (format !== boot.detected)
      logger.warn(`${image} takes ${boot.detected} at first boot (${boot.evidence.join('; ')}), but ${format} was asked for: it may not be applied`);
  } else {
    if (boot.detected !== 'cloudinit' && boot.detected !== 'cloudinit-rpi' && boot.detected !== 'systemd')
      throw new PiImageError(
        'INPUT_INVALID',
        `${image} takes no first-boot customisation this tool writes (init_format ${boot.detected}: ${boot.evidence.join('; ')}); give --format to write one anyway`,
      );
    format = boot.detected;
  }
  const seed = renderSeed(options.customisation, format, options.instanceId);
  const cmdline = customisedCmdline(boot.cmdline, seed.cmdlineAppend);
  const files = [...seed.files, { name: 'cmdline.txt', content: cmdline }];

  const scratch = await mkdtemp(join(tmpdir(), 'pi-image-customise-'));
  const unregister = registerCleanup(() => rm(scratch, { recursive: true, force: true }));
  try {
    const target = `${image}@@${boot.offset}`;
    const env = { ...process.env, MTOOLSRC: '/dev/null', MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };
    for (const f of files) {
      const local = join(scratch, f.name);
      await writeFile(local, f.content, { mode: 0o600 });
      await execCapture('mcopy', ['-o', '-i', target, local, `::${f.name}`], { logger, env });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    unregister();
  }

  // Read back through this library's FAT reader, as Imager reads its write back.
  const source = await FileByteSource.open(image);
  const written: CustomiseResult['files'] = [];
  try {
    const fs = await FatFileSystem.open(new SliceByteSource(source, boot.offset, boot.size, `${image} partition ${boot.partition}`));
    for (const f of files) {
      const back = await fs.readFile(`/${f.name}`);
      const expected = Buffer.from(f.content);
      if (!back?.equals(expected))
        throw new PiImageError(
          'IO_FAILED',
          `${image} partition ${boot.partition}: ${f.name} reads back ${back ? `${back.length} different bytes` : 'missing'} after the write`,
        );
      written.push({ name: f.name, ...digestBytes(back) });
    }
  } finally {
    await source.close();
  }
  logger.info(`${image}: ${format} customisation written to partition ${boot.partition} and read back (${written.map((w) => w.name).join(', ')})`);
  return { format, detected: boot.detected, partition: boot.partition, files: written, cmdline };
}
