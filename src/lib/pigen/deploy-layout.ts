/**
 * Finds pi-gen's outputs in a deploy/ directory by pi-gen's own naming rules
 * (never by globbing extensions: `*.xz` would also match `*.sbom.xz`).
 *
 *   compression  image file            (B = IMG_FILENAME + stage suffix)
 *   zip          image_B.zip holding B.img
 *   gz           image_B.img.gz
 *   xz           image_B.img.xz
 *   none         B.img
 * plus B.info, B.bmap (when bmaptool ran) and B.sbom (when syft ran).
 * ARCHIVE_FILENAME may replace `image_B`; then the .info is paired by being the
 * only one in the directory.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { PiImageError } from '../core/errors';
import { pathKind } from '../core/file-digest';
import type { ImageCompression } from '../image/compression';
import { BUILD_RECORD_FILE } from './build-record';

export interface DeployImage {
  path: string;
  compression: ImageCompression;
  /** IMG_FILENAME plus suffix: the name pi-gen gives the .info, .bmap and raw .img. */
  base: string;
}

export interface DeployLayout {
  dir: string;
  image: DeployImage;
  info: string;
  buildLog?: string;
  /** pi-gen's own block map and SBOM, when its host had bmaptool and syft. */
  pigenBmap?: string;
  pigenSbom?: string;
  /** pi-image-build.json, when `pi-image build` made this deploy directory. */
  buildRecord?: string;
}

/** Tells whether a file name is a pi-gen image by the naming rules above. */
export function classifyImageName(name: string): { compression: ImageCompression; base: string } | undefined {
  const strip = (s: string): string => s.replace(/^image_/, '');
  let m: RegExpExecArray | null;
  if ((m = /^(.+)\.img\.xz$/.exec(name))) return { compression: 'xz', base: strip(m[1]!) };
  if ((m = /^(.+)\.img\.gz$/.exec(name))) return { compression: 'gz', base: strip(m[1]!) };
  if ((m = /^(.+)\.zip$/.exec(name))) return { compression: 'zip', base: strip(m[1]!) };
  if ((m = /^(.+)\.img$/.exec(name))) return { compression: 'none', base: m[1]! };
  return undefined;
}

export interface FindDeployOptions {
  /** An explicit image file (absolute, or relative to the deploy directory). */
  image?: string;
  /** An explicit build.log; by default deploy/build.log when it exists. */
  buildLog?: string;
  /** An explicit .info file. */
  info?: string;
}

/** An input file named by the user: missing is one error, not a regular file (a FIFO, a directory) another. */
async function checkInputFile(path: string, label: string, missing: () => PiImageError): Promise<void> {
  const kind = await pathKind(path);
  if (kind === 'missing') throw missing();
  if (kind !== 'file') throw new PiImageError('INPUT_INVALID', `${label} ${path} is not a regular file (${kind})`);
}

/** Something in deploy/ that could be an output: anything but a directory (a FIFO is refused when opened, by name). */
async function notDirectory(path: string): Promise<boolean> {
  const kind = await pathKind(path);
  return kind !== 'missing' && kind !== 'a directory';
}

export async function findDeployOutputs(deployDir: string, options: FindDeployOptions = {}): Promise<DeployLayout> {
  const dir = resolve(deployDir);
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
    names = (await readdir(dir)).sort();
  } catch (e) {
    throw new PiImageError('DEPLOY_NOT_FOUND', `deploy directory ${deployDir} cannot be read: ${(e as Error).message}`, { cause: e });
  }

  let image: DeployImage;
  if (options.image) {
    const path = resolve(dir, options.image);
    const kind = classifyImageName(basename(path));
    if (!kind) {
      throw new PiImageError('INPUT_INVALID', `image ${options.image}: not a pi-gen image name (expected .zip, .img.gz, .img.xz or .img)`);
    }
    await checkInputFile(path, 'image', () => new PiImageError('DEPLOY_NO_IMAGE', `image ${options.image} does not exist`));
    image = { path, ...kind };
  } else {
    const candidates: DeployImage[] = [];
    for (const name of names) {
      const kind = classifyImageName(name);
      if (kind && (await notDirectory(join(dir, name)))) candidates.push({ path: join(dir, name), ...kind });
    }
    if (candidates.length === 0) {
      throw new PiImageError(
        'DEPLOY_NO_IMAGE',
        `no pi-gen image in ${deployDir} (looked for image_*.zip, *.img.gz, *.img.xz, *.img); it holds: ${names.join(', ') || 'nothing'}`,
      );
    }
    if (candidates.length > 1) {
      throw new PiImageError(
        'DEPLOY_AMBIGUOUS',
        `${candidates.length} images in ${deployDir}: ${candidates.map((c) => basename(c.path)).join(', ')}; ` +
          'choose one with --image (or SKIP_IMAGES the stages you do not ship)',
      );
    }
    image = candidates[0]!;
  }

  let info: string | undefined;
  if (options.info) {
    info = resolve(dir, options.info);
    await checkInputFile(info, 'info file', () => new PiImageError('DEPLOY_NO_INFO', `info file ${options.info} does not exist`));
  } else if (names.includes(`${image.base}.info`)) {
    info = join(dir, `${image.base}.info`);
  } else {
    const infos = names.filter((n) => n.endsWith('.info'));
    if (infos.length === 1) info = join(dir, infos[0]!);
    else {
      throw new PiImageError(
        'DEPLOY_NO_INFO',
        infos.length === 0
          ? `no ${image.base}.info in ${deployDir}: pi-gen writes one beside every image`
          : `no ${image.base}.info in ${deployDir} and several others (${infos.join(', ')}); choose one with --info`,
      );
    }
  }

  let buildLog: string | undefined;
  if (options.buildLog) {
    buildLog = resolve(options.buildLog);
    await checkInputFile(buildLog, 'build log', () => new PiImageError('INPUT_INVALID', `build log ${options.buildLog} does not exist`));
  } else if (await notDirectory(join(dir, 'build.log'))) {
    buildLog = join(dir, 'build.log');
  }

  const layout: DeployLayout = { dir, image, info };
  if (buildLog) layout.buildLog = buildLog;
  if (names.includes(`${image.base}.bmap`)) layout.pigenBmap = join(dir, `${image.base}.bmap`);
  const sbom = names.find((n) => n === `${image.base}.sbom` || n === `${image.base}.sbom.xz`);
  if (sbom) layout.pigenSbom = join(dir, sbom);
  if (names.includes(BUILD_RECORD_FILE) && (await notDirectory(join(dir, BUILD_RECORD_FILE)))) layout.buildRecord = join(dir, BUILD_RECORD_FILE);
  return layout;
}
