/**
 * Each stage's resulting root file system, cached between builds: a build whose
 * earlier stages did not change restores the last unchanged one and runs only
 * what changed (as BuildKit reuses layers). A stage's key covers the pi-gen
 * commit, the stage's own files, the settings it can see, and the key of the
 * stage before it, so a change anywhere reaches every later stage.
 *
 * Settings: every config value but the build's paths and proxy (which change
 * per run and do not change what a stage makes); the per-build values
 * (version, recipe commit, date, file names) only for a stage whose files
 * name them, such as a product stage writing its version into the image.
 *
 * An entry is a tar of the rootfs (numeric owners, xattrs, ACLs, hard links)
 * written under a temporary name and renamed whole, so the same file carries
 * a cache between machines (@actions/cache in the action).
 */
import { ROOTFS_TAR_OPTIONS } from './rootfs-tar';
import { createHash, scryptSync } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { temporaryPathFor } from '../core/atomic-file';
import { execCapture } from '../core/exec';
import type { Logger } from '../core/logger';
import type { ConfigEntry } from '../pigen/config-file';
import { SECRET_VARIABLES } from '../pigen/settings';
import { hashTree } from './cache-keys';

/** Values that differ per run without changing what a stage makes. */
const NEVER_KEYED = new Set(['WORK_DIR', 'DEPLOY_DIR', 'APT_PROXY', 'http_proxy', 'EXPORT_CONFIG_DIR', 'STAGE_LIST']);
/** Values that differ per build: keyed only for a stage whose files use them. */
const PER_BUILD = new Set(['IMG_DATE', 'IMG_FILENAME', 'ARCHIVE_FILENAME', 'PI_IMAGE_VERSION', 'GIT_HASH', 'PI_IMAGE_RECIPE_GIT_HASH']);
/** pi-gen's helpers that read per-build values for a stage: update_issue writes IMG_DATE and GIT_HASH into the image. */
const HELPERS_READING: Record<string, readonly string[]> = { update_issue: ['IMG_DATE', 'GIT_HASH'] };
/** What an entry keeps of a rootfs: numeric owners, xattrs (file capabilities among them), ACLs. */
/** Bumped when what an entry holds or how keys are made changes. */
const FORMAT = 'pi-image stage cache v2';

/**
 * A secret reaches a key only through scrypt (about as costly per guess as the
 * yescrypt hash in the image's own /etc/shadow): keys are printed and are file
 * names, and the rest of what they cover is public, so a fast hash of the
 * password would be a guessing oracle.
 */
const secretDigests = new Map<string, string>();
function secretDigest(value: string): string {
  let d = secretDigests.get(value);
  if (d === undefined) {
    d = `scrypt:${scryptSync(value, 'pi-image stage cache key', 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('hex')}`;
    secretDigests.set(value, d);
  }
  return d;
}

async function textOf(dir: string): Promise<string> {
  const parts: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const e of await readdir(at, { withFileTypes: true })) {
      const path = join(at, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && (await stat(path)).size < 1024 * 1024) parts.push(await readFile(path, 'utf8'));
    }
  };
  await walk(dir);
  return parts.join('\n');
}

/** The settings a stage can see that decide what it makes, sorted by name. */
export function keyedSettings(entries: readonly ConfigEntry[], stageText: string): [string, string][] {
  const named = (name: string): boolean =>
    new RegExp(`\\b${name}\\b`).test(stageText) ||
    Object.entries(HELPERS_READING).some(([helper, reads]) => reads.includes(name) && new RegExp(`\\b${helper}\\b`).test(stageText));
  return entries
    .filter((e) => !NEVER_KEYED.has(e.name) && (!PER_BUILD.has(e.name) || named(e.name)))
    .map((e): [string, string] => [e.name, SECRET_VARIABLES.has(e.name) ? secretDigest(e.value) : e.value])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface StageKeyInput {
  pigenCommit: string;
  name: string;
  filesSha256: string;
  settings: readonly [string, string][];
  previousKey: string | undefined;
}

/** The key of one stage's result; a secret among the settings reaches the key only through the hash. */
export function stageKey(input: StageKeyInput): string {
  const h = createHash('sha256').update(`${FORMAT}\0${input.pigenCommit}\0${input.name}\0${input.filesSha256}\0${input.previousKey ?? ''}\0`);
  for (const [k, v] of input.settings) h.update(`${k}=${v}\0`);
  return `${input.name}-${h.digest('hex').slice(0, 32)}`;
}

/** Every stage's key, in order: each covers the stages before it. */
export async function stageKeys(
  stages: readonly { name: string; hostPath: string }[],
  entries: readonly ConfigEntry[],
  pigenCommit: string,
): Promise<string[]> {
  const keys: string[] = [];
  for (const s of stages) {
    keys.push(
      stageKey({
        pigenCommit,
        name: s.name,
        filesSha256: await hashTree([s.hostPath]),
        settings: keyedSettings(entries, await textOf(s.hostPath)),
        previousKey: keys.at(-1),
      }),
    );
  }
  return keys;
}

export class StageCache {
  /** `asRoot`: the prefix that runs tar as root (sudo) when pi-image itself is not: a rootfs is owned by root. */
  constructor(
    readonly dir: string,
    private readonly logger: Logger,
    private readonly asRoot: readonly string[] = [],
  ) {}

  private tar(args: string[]): Promise<unknown> {
    const argv = [...this.asRoot, 'tar', ...args];
    return execCapture(argv[0]!, argv.slice(1), { logger: this.logger });
  }

  private entry(key: string): string {
    return join(this.dir, `${key}.tar`);
  }

  async has(key: string): Promise<boolean> {
    return (await stat(this.entry(key)).catch(() => undefined))?.isFile() ?? false;
  }

  /** Unpacks a cached rootfs into `rootfs` (which must not exist yet). */
  async restore(key: string, rootfs: string): Promise<void> {
    const started = Date.now();
    await mkdir(rootfs, { recursive: true });
    await this.tar(['--extract', '--file', this.entry(key), '--directory', rootfs, ...ROOTFS_TAR_OPTIONS, '--same-permissions']);
    // Most recently used first when pruning; an entry written by root (sudo) may not be ours to touch.
    const now = new Date();
    await utimes(this.entry(key), now, now).catch(() => undefined);
    this.logger.info(`stage cache: restored ${key} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }

  /** Packs a stage's rootfs under its key; an entry appears whole or not at all. */
  async save(key: string, rootfs: string): Promise<void> {
    const started = Date.now();
    await mkdir(this.dir, { recursive: true });
    const target = this.entry(key);
    const temp = temporaryPathFor(target);
    try {
      await this.tar([
        '--create',
        '--file',
        temp,
        '--directory',
        rootfs,
        ...ROOTFS_TAR_OPTIONS,
        '--one-file-system',
        '--exclude=./var/cache/apt/archives/*.deb',
        '.',
      ]);
      await rename(temp, target);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    this.logger.info(`stage cache: saved ${key} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }

  /** Keeps the `keep` most recently used entries. */
  async prune(keep: number): Promise<void> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => n.endsWith('.tar'));
    const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(this.dir, n))).mtimeMs })));
    for (const { n } of dated.sort((a, b) => b.t - a.t).slice(keep)) await rm(join(this.dir, n), { force: true });
  }
}
