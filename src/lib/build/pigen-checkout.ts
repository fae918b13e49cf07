/**
 * Finds the pi-gen to build with, in this order: an explicit directory (flag
 * or PI_GEN_DIR), the vendor/pi-gen submodule when checked out, else a clone of
 * the pinned commit into a cache directory (repository and ref overridable).
 * Reports the commit actually used.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import type { Logger } from '../core/logger';
import type { PiGenPin } from '../pigen/pin';

export interface PiGenCheckout {
  dir: string;
  commit: string;
  source: 'explicit' | 'submodule' | 'clone';
}

export interface LocateOptions {
  explicitDir?: string | undefined;
  /** Where vendor/pi-gen would be (the recipe repository, or this project). */
  submoduleDir?: string | undefined;
  cacheDir: string;
  pin: PiGenPin;
  repository?: string | undefined;
  ref?: string | undefined;
  logger: Logger;
}

async function headCommit(dir: string, logger: Logger): Promise<string | undefined> {
  if (!existsSync(join(dir, '.git'))) return undefined;
  const r = await execCapture('git', ['-C', dir, 'rev-parse', 'HEAD'], { logger, allowFailure: true });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

export async function locatePiGen(options: LocateOptions): Promise<PiGenCheckout> {
  const { logger, pin } = options;
  if (options.explicitDir) {
    const dir = resolve(options.explicitDir);
    if (!existsSync(join(dir, 'build.sh'))) throw new PiImageError('INPUT_INVALID', `pi-gen directory ${options.explicitDir} has no build.sh`);
    const commit = (await headCommit(dir, logger)) ?? 'unknown';
    if (commit !== pin.commit)
      logger.warn(`pi-gen at ${dir} is ${commit === 'unknown' ? 'not a git checkout' : `at ${commit}`}; the pinned commit is ${pin.commit}`);
    return { dir, commit, source: 'explicit' };
  }
  if (options.submoduleDir && existsSync(join(options.submoduleDir, 'build.sh'))) {
    const dir = resolve(options.submoduleDir);
    const commit = (await headCommit(dir, logger)) ?? pin.commit;
    if (commit !== pin.commit) logger.warn(`vendor/pi-gen is at ${commit}, not the pinned ${pin.commit}: run git submodule update`);
    return { dir, commit, source: 'submodule' };
  }
  const repository = options.repository ?? pin.repository;
  const ref = options.ref ?? pin.commit;
  const dir = join(resolve(options.cacheDir), `pi-gen-${ref.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  if (!existsSync(join(dir, 'build.sh'))) {
    logger.info(`checking out pi-gen ${ref} from ${repository} into ${dir}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const git = (args: string[]) => execCapture('git', ['-C', dir, ...args], { logger });
    await git(['init', '-q']);
    await git(['fetch', '-q', '--depth', '1', repository, ref]);
    await git(['checkout', '-q', 'FETCH_HEAD']);
  }
  const commit = (await headCommit(dir, logger)) ?? 'unknown';
  if (options.ref === undefined && commit !== pin.commit) {
    throw new PiImageError('EXEC_FAILED', `pi-gen checkout at ${dir} is ${commit}, expected the pinned ${pin.commit}`);
  }
  return { dir, commit, source: 'clone' };
}
