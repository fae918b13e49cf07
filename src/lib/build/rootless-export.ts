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
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import { execCapture, execStream } from '../core/exec';
import type { Logger } from '../core/logger';
import type { ImageCompression } from '../image/compression';
import { assembleImage } from '../export/assemble-image';
import type { DiskPlan } from '../export/disk-plan';
import type { Layout } from '../export/layouts';
import { ROOTFS_TAR_OPTIONS } from './rootfs-tar';
import { ROOTLESS_EXPORT_STAGE } from './rootless-export-stage.generated';

/** The stage's directory name: pi-gen logs it as the export stage's name. */
export const ROOTLESS_STAGE_NAME = 'export-rootless';
/** Where the stage hands over each export's prepared tree, under pi-gen's WORK_DIR. */
export const PREPARED_DIR = 'rootless-export';

/** The sub-stage that refreshes and upgrades the packages at export (EXPORT_UPGRADE). */
const UPGRADE_SUB_STAGE = '03-upgrade';

/**
 * Writes the export stage into PARENT/export-rootless (replacing what was
 * there); returns its path. Without `upgrade`, pi-gen skips the upgrade
 * sub-stage (its SKIP file).
 */
export async function writeRootlessExportStage(parent: string, options: { upgrade: boolean }): Promise<string> {
  const dir = join(parent, ROOTLESS_STAGE_NAME);
  await rm(dir, { recursive: true, force: true });
  for (const file of ROOTLESS_EXPORT_STAGE) {
    const path = join(dir, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.text);
    await chmod(path, file.mode);
  }
  if (!options.upgrade) await writeFile(join(dir, UPGRADE_SUB_STAGE, 'SKIP'), 'EXPORT_UPGRADE=0 in the product config\n');
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
  /** The root prefix (sudo) when pi-image is not root: the prepared trees are root's. */
  asRoot: readonly string[];
  logger: Logger;
}

/** Each export pi-gen prepared, assembled into deploy/. */
export async function assembleRootlessExports(options: AssembleExportsOptions): Promise<ExportedImage[]> {
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
    // The raw image is assembled in a hidden directory of deploy/ (this process's own: the prepared
    // tree is root's), under its final name (zip names its entry after the file), and removed however
    // the deploy step ends: deploy/ shows only finished outputs.
    const staging = join(options.deployDir, `.assembling-${name}`);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const raw = join(staging, `${name}.img`);
    try {
      exported.push(await assembleOne(options, dir, name, raw));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return exported;
}

async function assembleOne(options: AssembleExportsOptions, dir: string, name: string, raw: string): Promise<ExportedImage> {
  const { logger } = options;
  const suffix = name.slice(options.imgFilename.length);
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
    asRoot: options.asRoot,
    logger,
  });
  logger.info(`export: ${name}.img assembled in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const image = await deployImage(raw, options, options.archiveFilename + suffix, name);
  const info = join(options.deployDir, `${name}.info`);
  await copyFile(join(dir, `${name}.info`), info);
  for (const sbom of [`${name}.sbom`]) {
    if (await stat(join(dir, sbom)).catch(() => undefined)) await copyFile(join(dir, sbom), join(options.deployDir, sbom));
  }
  return { name, image, info, plan, seed: seed ?? null, epoch: options.epoch ?? null };
}

export interface CopyPreparedOptions {
  /** The container engine's command prefix (`docker`, `sudo podman`). */
  engine: readonly string[];
  container: string;
  /** pi-gen's IMG_NAME: its WORK_DIR in the container is /pi-gen/work/IMG_NAME. */
  imgName: string;
  /** Where the trees go on this host: WORK_TREE/rootless-export. */
  workTree: string;
  asRoot: readonly string[];
  logger: Logger;
}

/** Where a container build's export stage leaves the prepared trees. */
export function containerPreparedPath(imgName: string): string {
  return `/pi-gen/work/${imgName}/${PREPARED_DIR}`;
}

/**
 * A container build's prepared trees, streamed out of the stopped container
 * (`docker cp … -`) into tar running as root on this host, so owners, modes,
 * device nodes, hard links and file capabilities arrive as pi-gen left them.
 * The image is then assembled here exactly as after a native build.
 */
export async function copyPreparedTrees(options: CopyPreparedOptions): Promise<void> {
  const { logger, asRoot } = options;
  const target = join(options.workTree, PREPARED_DIR);
  // Unpacked beside the target and moved into place once tar has finished: a copy cut short (a
  // failure, SIGINT) never leaves a tree whose .prepared marker says it is whole.
  const partial = join(options.workTree, `.${PREPARED_DIR}.copying`);
  const run = (argv: string[], allowFailure = false) => execCapture(argv[0]!, argv.slice(1), { logger, allowFailure });
  const remove = (path: string, allowFailure = false) => run([...asRoot, 'rm', '-rf', '--one-file-system', '--', path], allowFailure);
  await remove(target);
  await remove(partial);
  // The work tree is this user's and closed to others: root's setuid files and device nodes land in it.
  await mkdir(partial, { recursive: true, mode: 0o700 });
  const unregister = registerCleanup(async () => {
    await remove(partial, true);
  });
  const source = `${options.container}:${containerPreparedPath(options.imgName)}`;
  logger.info(`export: copying the prepared trees out of the container (${source})`);
  const started = Date.now();
  const [engine, ...engineArgs] = options.engine;
  const copy = execStream(engine!, [...engineArgs, 'cp', source, '-'], { logger, stdin: 'ignore' });
  const tarArgv = [...asRoot, 'tar', '--extract', '--directory', partial, ...ROOTFS_TAR_OPTIONS, '--same-permissions', '--same-owner'];
  const untar = execStream(tarArgv[0]!, tarArgv.slice(1), { logger, stdin: 'pipe' });
  // tar gone early (refused by sudo, a full disk) must fail the copy through `done`, not crash on EPIPE.
  untar.child.stdin!.on('error', () => undefined);
  copy.child.stdout.pipe(untar.child.stdin!);
  try {
    await Promise.all([copy.done, untar.done]);
    await run([...asRoot, 'mv', '--no-target-directory', '--', join(partial, PREPARED_DIR), target]);
  } catch (e) {
    await Promise.all([copy.stop(), untar.stop()]);
    throw e;
  } finally {
    await remove(partial, true);
    unregister();
  }
  logger.info(`export: prepared trees copied in ${((Date.now() - started) / 1000).toFixed(0)} s`);
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
