import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PiImageError } from '../../lib/core/errors';
import { parseSourceDateEpoch } from '../../lib/core/values';
import { assembleImage } from '../../lib/export/assemble-image';
import { parseExportSettings } from '../../lib/export/layouts';
import type { CliCommand } from '../command';
import { usageError } from '../command';

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'assemble a disk image from a root file system directory, with no loop device and no mount',
  usage: 'pi-image export ROOTFS_DIR --boot-dir DIR --out IMAGE.img [--layout L] [--set EXPORT_…=V]... [--seed S]',
  help: `What 'pi-image build' does with EXPORT=rootless once pi-gen has prepared the
root file system, for a tree you have: writes the partition table on the file
(sfdisk), makes each FAT file system in place and fills it with mtools, makes
each ext4 from its directory (mkfs.ext4 -d). BOOTDEV and ROOTDEV in
ROOTFS_DIR/etc/fstab and DIR/cmdline.txt become each slot's PARTUUIDs while
its file systems are made; both files are put back afterwards. Run as root so
owners are kept.

With SOURCE_DATE_EPOCH set and a --seed, the image is the same byte for byte
on every run: identifiers derived from the seed, every time at most the epoch,
content in sorted order.

Options:
  --boot-dir DIR     the boot partition's files (ROOTFS_DIR/boot/firmware must be empty)
  --out FILE         the raw image to write (must not exist, unless --force)
  --layout L         pigen (default: export-image's), ab-tryboot or custom
  --set KEY=VALUE    an EXPORT_* setting (EXPORT_SLOT_B, EXPORT_DATA_SIZE, EXPORT_TABLE,
                     EXPORT_PARTITIONS, …; see docs/building.md), repeatable
  --seed S           derive every identifier from S (e.g. "product version")
  --force            replace --out
  --json             print the partition plan as JSON`,
  options: {
    'boot-dir': { type: 'string' },
    out: { type: 'string' },
    layout: { type: 'string' },
    set: { type: 'string', multiple: true },
    seed: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length !== 1) throw usageError('export needs exactly one ROOTFS_DIR');
    const bootDir = values['boot-dir'] as string | undefined;
    const out = values.out as string | undefined;
    if (!bootDir) throw usageError('export needs --boot-dir DIR (the boot partition files)');
    if (!out) throw usageError('export needs --out FILE');
    const settings: Record<string, string> = { EXPORT: 'rootless', EXPORT_LAYOUT: (values.layout as string | undefined) ?? 'pigen' };
    for (const line of (values.set as unknown as string[] | undefined) ?? []) {
      const at = line.indexOf('=');
      if (at <= 0) throw usageError(`--set ${line}: expected KEY=VALUE`);
      const key = line.slice(0, at);
      if (key === 'EXPORT' || key === 'EXPORT_LAYOUT') throw usageError(`--set ${key}: use --layout`);
      settings[key] = line.slice(at + 1);
    }
    const { layout } = parseExportSettings(settings, '--set');
    const seed = values.seed as string | undefined;
    const epoch = parseSourceDateEpoch(env.SOURCE_DATE_EPOCH);
    if (!values.force && (await stat(out).catch(() => undefined))) {
      throw new PiImageError('OUTPUT_EXISTS', `--out ${out} exists (pass --force to replace it)`);
    }
    if (epoch !== undefined && seed === undefined)
      logger.warn('SOURCE_DATE_EPOCH is set but no --seed: the identifiers are random, the image is not reproducible');
    const result = await assembleImage({ rootDir: resolve(positionals[0]!), bootDir: resolve(bootDir), layout, seed, epoch, output: resolve(out), logger });
    if (values.json) stdout(`${JSON.stringify({ image: resolve(out), ...result.plan, seed: seed ?? null, epoch: epoch ?? null }, null, 2)}\n`);
    else {
      stdout(`${resolve(out)}: ${result.plan.table === 'dos' ? 'MBR' : 'GPT'} ${result.plan.diskId}, ${result.plan.imageBytes} bytes\n`);
      for (const p of result.plan.partitions)
        stdout(`  ${p.number}  ${p.label.padEnd(10)} ${p.fs.padEnd(6)} ${String(p.bytes / 1048576).padStart(6)} MiB  PARTUUID=${p.ids.partUuid}  ${p.role}\n`);
    }
    return 0;
  },
};
