/**
 * Applies the stage cache to a native build: finds the longest run of stages,
 * from the first, whose results are cached; restores the last of them (and any
 * earlier one that exports an image) into pi-gen's work tree; and hands pi-gen
 * stand-ins for them that hold only SKIP (and their EXPORT_IMAGE /
 * SKIP_IMAGES), so pi-gen runs only the stages after. After a successful build
 * the stages that ran are saved.
 */
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { execCapture, execStream } from '../core/exec';
import { join } from 'node:path';
import type { Logger } from '../core/logger';
import type { ConfigEntry } from '../pigen/config-file';
import type { ResolvedStage } from '../pigen/stage-list';
import { StageCache, stageKeys } from './stage-cache';

export interface StageCachePlan {
  cache: StageCache;
  keys: string[];
  /** How many stages, from the first, come from the cache. */
  hits: number;
  /** The stage list pi-gen runs: stand-ins for the cached ones. */
  stages: ResolvedStage[];
}

const exists = async (path: string): Promise<boolean> => (await stat(path).catch(() => undefined)) !== undefined;

export async function planStageCache(options: {
  cacheDir: string;
  stages: readonly ResolvedStage[];
  entries: readonly ConfigEntry[];
  pigenCommit: string;
  workDir: string;
  aptProxy: string | undefined;
  /** Runs a command as root when pi-image is not (sudo): restoring and saving a rootfs needs it. */
  asRoot: readonly string[];
  logger: Logger;
}): Promise<StageCachePlan> {
  const { logger } = options;
  const cache = new StageCache(options.cacheDir, logger, options.asRoot);
  const keys = await stageKeys(options.stages, options.entries, options.pigenCommit);
  let hits = 0;
  while (hits < keys.length && (await cache.has(keys[hits]!))) hits++;
  logger.info(
    hits === 0
      ? `stage cache: nothing cached for ${options.stages[0]?.name ?? 'the first stage'}; every stage runs`
      : `stage cache: ${options.stages
          .slice(0, hits)
          .map((s) => s.name)
          .join(', ')} unchanged (restored); ${keys.length - hits} stage(s) run`,
  );
  const stages = [...options.stages];
  // Stand-ins of an earlier build could carry an old EXPORT_IMAGE or SKIP_IMAGES: made fresh each time.
  await rm(join(options.workDir, 'cached-stages'), { recursive: true, force: true });
  try {
    for (let j = 0; j < hits; j++) {
      const s = options.stages[j]!;
      const exportsImage = (await exists(join(s.hostPath, 'EXPORT_IMAGE'))) && !(await exists(join(s.hostPath, 'SKIP_IMAGES')));
      if (j === hits - 1 || exportsImage) {
        const rootfs = join(options.workDir, 'work', s.name, 'rootfs');
        await cache.restore(keys[j]!, rootfs);
        await pointAptAtThisBuild(rootfs, options.aptProxy, options.asRoot, logger);
      }
      // pi-gen names a stage's work directory after the stage's directory: the stand-in keeps the name.
      const standIn = join(options.workDir, 'cached-stages', String(j), s.name);
      await mkdir(standIn, { recursive: true });
      await writeFile(join(standIn, 'SKIP'), '');
      for (const f of ['EXPORT_IMAGE', 'SKIP_IMAGES', 'EXPORT_NOOBS']) {
        if (await exists(join(s.hostPath, f))) await copyFile(join(s.hostPath, f), join(standIn, f));
      }
      stages[j] = { ...s, hostPath: standIn, buildPath: standIn, mount: false };
    }
  } catch (e) {
    // A cache that cannot be read costs time, never the build: every stage runs.
    logger.warn(`stage cache: restoring failed (${(e as Error).message}); running every stage`);
    const argv = [...options.asRoot, 'rm', '-rf', '--one-file-system', '--', join(options.workDir, 'work')];
    await execCapture(argv[0]!, argv.slice(1), { logger, allowFailure: true });
    return { cache, keys, hits: 0, stages: [...options.stages] };
  }
  return { cache, keys, hits, stages };
}

/** Upstream stage0 writes the build's APT_PROXY into the image; a restored one names a proxy that has gone. */
async function pointAptAtThisBuild(rootfs: string, aptProxy: string | undefined, asRoot: readonly string[], logger: Logger): Promise<void> {
  const file = join(rootfs, 'etc/apt/apt.conf.d/51cache');
  if (!(await exists(file))) return;
  // The rootfs is root's: written as root (tee under sudo when pi-image is not root).
  const argv = [...asRoot, 'tee', file];
  const tee = execStream(argv[0]!, argv.slice(1), { logger, stdin: 'pipe' });
  tee.child.stdin!.end(aptProxy ? `Acquire::http { Proxy "${aptProxy}"; };\n` : '');
  tee.child.stdout.resume();
  await tee.done;
}

/** Saves each stage that ran and finished (the first `finished` of the list); keeps the most recently used entries. */
export async function saveStageResults(
  plan: StageCachePlan,
  stages: readonly ResolvedStage[],
  workDir: string,
  logger: Logger,
  finished: number,
): Promise<void> {
  try {
    for (let j = plan.hits; j < Math.min(finished, stages.length); j++) {
      const rootfs = join(workDir, 'work', stages[j]!.name, 'rootfs');
      if (await exists(rootfs)) await plan.cache.save(plan.keys[j]!, rootfs);
      else logger.warn(`stage cache: ${stages[j]!.name} left no rootfs to save`);
    }
    await plan.cache.prune(Math.max(8, 2 * stages.length));
  } catch (e) {
    // Not saving costs the next build time; it never fails this one.
    logger.warn(`stage cache: saving failed: ${(e as Error).message}`);
  }
}
