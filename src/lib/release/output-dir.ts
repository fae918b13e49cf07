/**
 * A release directory is written under a temporary name beside its final place
 * and renamed into place only when complete: an interrupted or failed run
 * leaves nothing that looks like a release.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PiImageError } from '../core/errors';

export interface StagedDir {
  /** Where to write now. */
  path: string;
  /** Moves the staged directory to its final place. */
  commit(): Promise<void>;
  /** Removes the staged directory (after a failure). */
  discard(): Promise<void>;
}

async function isNonEmptyDir(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isDirectory()) return true;
    return (await readdir(path)).length > 0;
  } catch {
    return false;
  }
}

export async function stageOutputDir(finalPath: string, options: { replace: boolean }): Promise<StagedDir> {
  const target = resolve(finalPath);
  if (!options.replace && (await isNonEmptyDir(target))) {
    throw new PiImageError('OUTPUT_EXISTS', `output ${finalPath} already exists and is not empty; choose another or pass --force to replace it`);
  }
  await mkdir(dirname(target), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const path = join(dirname(target), `.${basename(target)}.partial-${suffix}`);
  await mkdir(path);
  return {
    path,
    async commit() {
      let old: string | undefined;
      try {
        await stat(target);
        old = join(dirname(target), `.${basename(target)}.old-${suffix}`);
        await rename(target, old);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      await rename(path, target);
      if (old) await rm(old, { recursive: true, force: true });
    },
    async discard() {
      await rm(path, { recursive: true, force: true });
    },
  };
}
