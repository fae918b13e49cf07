/**
 * EXPORT=rootless in a build: pi-image's export stage written out for pi-gen
 * (its EXPORT_CONFIG_DIR), and, once pi-gen has prepared each export's tree,
 * the image assembled from it (export layer) and put into deploy/ under
 * pi-gen's own names and compression, so `pi-image package` takes it as it
 * takes export-image's.
 */
import { chmod, mkdir, readdir, rename, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AtomicFile } from '../core/atomic-file';
import { PiImageError } from '../core/errors';
import { execCapture, execStream } from '../core/exec';
import type { Logger } from '../core/logger';
import type { ImageCompression } from '../image/compression';
import { assembleImage } from '../export/assemble-image';
import type { DiskPlan } from '../export/disk-plan';
import type { Layout } from '../export/layouts';
import { ROOTLESS_EXPORT_STAGE } from './rootless-export-stage.generated';

/** The stage's directory name: pi-gen logs it as the export stage's name. */
export const ROOTLESS_STAGE_NAME = 'export-rootless';
/** Where the stage hands over each export's prepared tree, under pi-gen's WORK_DIR. */
export const PREPARED_DIR = 'rootless-export';

/** Writes the export stage into `dir` (replacing what was there); returns its path. */
export async function writeRootlessExportStage(parent: string): Promise<string> {
  const dir = join(parent, ROOTLESS_STAGE_NAME);
  await rm(dir, { recursive: true, force: true });
  for (const file of ROOTLESS_EXPORT_STAGE) {
    const path = join(dir, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.text);
    await chmod(path, file.mode);
  }
  return dir;
}

export interface ExportedImage {
  /** IMG_FILENAME + the stage's IMG_SUFFIX. */
  name: string;
  image: string;
  info: string;
  plan: DiskPlan;
  seed: string | null;
  epoch: number | null;
}

export interface AssembleExportsOptions {
  workTree: string;
  deployDir: string;
  imgFilename: string;
  archiveFilename: string;
  compression: ImageCompression;
  level: number;
  layout: Layout;
  seed: string;
  epoch: number | undefined;
  logger: Logger;
}

/** Each export pi-gen prepared, assembled into deploy/. */
export async function assembleRootlessExports(options: AssembleExportsOptions): Promise<ExportedImage[]> {
  const { logger } = options;
  const prepared = join(options.workTree, PREPARED_DIR);
  const names = (await readdir(prepared).catch(() => [] as string[])).sort();
  const exported: ExportedImage[] = [];
  for (const name of names) {
    const dir = join(prepared, name);
    if (!(await stat(join(dir, '.prepared')).catch(() => undefined))) {
      throw new PiImageError('BUILD_FAILED', `the rootless export of ${name} was not finished by pi-gen (${dir} has no .prepared marker)`);
    }
    if (!name.startsWith(options.imgFilename))
      throw new PiImageError('INTERNAL', `prepared export ${name} does not start with IMG_FILENAME ${options.imgFilename}`);
    const suffix = name.slice(options.imgFilename.length);
    const raw = join(dir, `${name}.img`);
    await rm(raw, { force: true });
    // With SOURCE_DATE_EPOCH the ids derive from a seed naming the image (product, version, stage
    // suffix), so the image reproduces; without it they are random, as pi-gen's are.
    const seed = options.epoch === undefined ? undefined : `${options.seed}${suffix}`;
    const started = Date.now();
    const { plan } = await assembleImage({
      rootDir: join(dir, 'rootfs'),
      bootDir: join(dir, 'bootfs'),
      layout: options.layout,
      seed,
      epoch: options.epoch,
      output: raw,
      logger,
    });
    logger.info(`export: ${name}.img assembled in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    await mkdir(options.deployDir, { recursive: true });
    const image = await deployImage(raw, options, options.archiveFilename + suffix, name);
    const info = join(options.deployDir, `${name}.info`);
    await copyFile(join(dir, `${name}.info`), info);
    for (const sbom of [`${name}.sbom`]) {
      if (await stat(join(dir, sbom)).catch(() => undefined)) await copyFile(join(dir, sbom), join(options.deployDir, sbom));
    }
    exported.push({ name, image, info, plan, seed: seed ?? null, epoch: options.epoch ?? null });
  }
  return exported;
}

/** pi-gen's deploy step: the raw image as it is, or zip/gz/xz at COMPRESSION_LEVEL, under pi-gen's names. */
async function deployImage(raw: string, options: AssembleExportsOptions, archiveBase: string, imgBase: string): Promise<string> {
  const { logger, deployDir, level } = options;
  switch (options.compression) {
    case 'none': {
      const target = join(deployDir, `${imgBase}.img`);
      await rename(raw, target);
      return target;
    }
    case 'zip': {
      const target = join(deployDir, `${archiveBase}.zip`);
      await rm(target, { force: true });
      await execCapture('zip', ['-j', `-${level}`, target, raw], { logger });
      await rm(raw, { force: true });
      return target;
    }
    case 'gz':
    case 'xz': {
      const target = join(deployDir, `${archiveBase}.img.${options.compression}`);
      const tool =
        options.compression === 'xz'
          ? ['xz', ['--compress', '--threads=0', `-${level}`, '--stdout', '--', raw]]
          : ['gzip', [`-${level}`, '--stdout', '--', raw]];
      const out = new AtomicFile(target);
      const { child, done } = execStream(tool[0] as string, tool[1] as string[], { logger, stdin: 'ignore' });
      try {
        await Promise.all([out.fill(child.stdout), done]);
        await out.commit();
      } catch (e) {
        await out.discard();
        throw e;
      }
      await rm(raw, { force: true });
      return target;
    }
  }
}
