/**
 * Cache keys for what a pi-gen build can reuse: the builder image (pi-gen's
 * Dockerfile at the pinned commit) and the apt package cache (the packages the
 * stages install). Keys depend on the pi-gen commit and a hash of what decides
 * the content, never on the date alone; restore prefixes let a changed stage
 * still start from the nearest older cache.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CacheKey {
  key: string;
  restoreKeys: string[];
}

/**
 * sha256 over the trees, in a stable order: every path with its type and full
 * mode, file contents, symlink targets, and directories (empty ones too);
 * never times. What decides a stage's result, and nothing else.
 */
export async function hashTree(dirs: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (at: string, rel: string): Promise<void> => {
    const entries = (await readdir(at, { withFileTypes: true })).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    for (const e of entries) {
      const path = join(at, e.name);
      const name = rel ? `${rel}/${e.name}` : e.name;
      hash.update(`${name}\0${(await lstat(path)).mode.toString(8)}\0`);
      if (e.isDirectory()) await walk(path, name);
      else if (e.isSymbolicLink()) hash.update(`-> ${await readlink(path)}\0`);
      else if (e.isFile()) hash.update(await readFile(path)).update('\0');
    }
  };
  for (const dir of dirs) {
    hash.update('dir\0');
    await walk(dir, '');
  }
  return hash.digest('hex');
}

/** A CI cache's key for what a build keeps: `apt` (downloaded packages) or `stages` (each stage's rootfs, keyed again inside). */
export function buildCacheKey(kind: 'apt' | 'stages', arch: string, pigenCommit: string, stagesSha256: string, configSha256: string): CacheKey {
  const base = `pi-image-${kind}-${arch}-${pigenCommit}-`;
  return { key: `${base}${stagesSha256.slice(0, 16)}-${configSha256.slice(0, 16)}`, restoreKeys: [`${base}${stagesSha256.slice(0, 16)}-`, base] };
}

export function aptCacheKey(arch: string, pigenCommit: string, stagesSha256: string, configSha256: string): CacheKey {
  return buildCacheKey('apt', arch, pigenCommit, stagesSha256, configSha256);
}

/** A CI cache (GitHub's through @actions/cache in the action; anything in tests). */
export interface CacheStore {
  /** Restores into `paths`; returns the key that matched, or undefined. */
  restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined>;
  save(paths: string[], key: string): Promise<void>;
}

/** The directories whose content decides what a build installs: the stages as listed, and the overrides. */
export function stageSourceDirs(stages: readonly string[], pigenDir: string, baseDir: string, overridesDir?: string): string[] {
  const dirs = stages.map((s) => (/^(stage\d+|export-image|export-noobs)$/.test(s) ? join(pigenDir, s) : resolve(baseDir, s)));
  if (overridesDir) dirs.push(resolve(baseDir, overridesDir));
  return dirs.filter((d) => existsSync(d));
}
