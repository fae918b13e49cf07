/**
 * A release directory is written under a temporary name beside its final place
 * and renamed into place only when complete: an interrupted or failed run
 * leaves nothing that looks like a release. Replacing (--force) replaces a
 * release directory only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import { MANIFEST_FILE } from './manifest';

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

/** The real path of `path`, or of its nearest existing ancestor with the rest appended. */
async function realish(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realish(parent), basename(abs));
  }
}

export interface StageOptions {
  /** Replace an existing non-empty directory. */
  replace: boolean;
  /** Paths the step reads: the output may not be one of them or hold one (replacing it would delete the input). */
  inputs?: readonly string[];
  /** Names the output in messages (the option a user typed). */
  label?: string;
  /** The command has no --force (the message does not offer it). */
  noForce?: boolean;
}

export async function stageOutputDir(finalPath: string, options: StageOptions): Promise<StagedDir> {
  const target = resolve(finalPath);
  const label = options.label ?? 'output';
  const realTarget = await realish(target);
  for (const input of options.inputs ?? []) {
    const realInput = await realish(input);
    if (realInput === realTarget || realInput.startsWith(`${realTarget}${sep}`)) {
      throw new PiImageError(
        'INPUT_INVALID',
        `${label} ${finalPath} is, or holds, the input ${input}: writing there would replace it; choose another directory`,
      );
    }
  }
  if (await isNonEmptyDir(target)) {
    if (!options.replace) {
      throw new PiImageError(
        'OUTPUT_EXISTS',
        `${label} ${finalPath} already exists and is not empty; choose another${options.noForce ? ' (or empty it)' : ' or pass --force to replace it'}`,
      );
    }
    // --force replaces a release, never whatever else a mistyped path names (a checkout, a home directory).
    if (!existsSync(join(target, MANIFEST_FILE))) {
      throw new PiImageError(
        'OUTPUT_EXISTS',
        `${label} ${finalPath} is not empty and is not a release directory (no ${MANIFEST_FILE}): --force replaces only a release; choose another directory`,
      );
    }
  }
  await mkdir(dirname(target), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const path = join(dirname(target), `.${basename(target)}.partial-${suffix}`);
  await mkdir(path);
  // Interrupted (SIGINT, SIGTERM) before commit or discard: the partial directory goes.
  const unregister = registerCleanup(() => rm(path, { recursive: true, force: true }));
  return {
    path,
    async commit() {
      if (!options.replace) {
        // Whatever appeared at the target since staging is kept: only an empty directory or nothing is replaced.
        try {
          await rename(path, target);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
            throw new PiImageError('OUTPUT_EXISTS', `${label} ${finalPath} appeared while this run was writing; it is left as it is`, { cause: e });
          }
          throw e;
        }
        unregister();
        return;
      }
      let old: string | undefined;
      try {
        await stat(target);
        old = join(dirname(target), `.${basename(target)}.old-${suffix}`);
        await rename(target, old);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        old = undefined;
      }
      try {
        await rename(path, target);
      } catch (e) {
        // Put the old release back: a failed replace leaves what was there.
        if (old) await rename(old, target).catch(() => undefined);
        throw e;
      }
      unregister();
      if (old) await rm(old, { recursive: true, force: true });
    },
    async discard() {
      unregister();
      await rm(path, { recursive: true, force: true });
    },
  };
}
