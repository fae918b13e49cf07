/** What the build action does with its parsed inputs; the post step's cleanup. Imported by tests. */
import { mdCode, mdText } from '../../../src/lib/core/markdown-text';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildCacheKey, hashTree, stageSourceDirs, type CacheKey, type CacheStore } from '../../../src/lib/build/cache-keys';
import type { Logger } from '../../../src/lib/core/logger';
import { registerSecret } from '../../../src/lib/core/secrets';
import { removeBuildContainer, runBuild, type BuildResult } from '../../../src/lib/build/build';
import { prepareBuild } from '../../../src/lib/build/build-request';
import type { ResolvedRuntime } from '../../../src/lib/build/runtime';
import { parseSourceDateEpoch } from '../../../src/lib/core/values';
import type { BuildInputs } from './inputs';

export interface BuildActionIo {
  logger: Logger;
  env: Record<string, string | undefined>;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  summary(markdown: string): Promise<void>;
  isRoot: boolean;
  arch: string;
  /** GitHub's cache service (absent: no apt cache). */
  cache?: CacheStore | undefined;
}

export const CONTAINER_STATE = 'container';

export async function runBuildAction(inputs: BuildInputs, io: BuildActionIo): Promise<BuildResult> {
  const { env } = io;
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  registerSecret(inputs.firstUserPassword);
  const options = await prepareBuild({
    configFile: inputs.config,
    settings: inputs.settings,
    version: inputs.version,
    runtime: inputs.runtime,
    workDir: inputs.workDir,
    baseDir: workspace,
    pigenDir: inputs.pigenDir,
    pigenRepository: inputs.pigenRepository,
    pigenRef: inputs.pigenRef,
    cacheDir: join(env.RUNNER_TEMP ?? '/tmp', 'pi-image-release'),
    recipeGitHash: inputs.recipeGitHash ?? env.GITHUB_SHA,
    resume: inputs.resume,
    containerNameParts: [env.GITHUB_REPOSITORY, env.GITHUB_JOB],
    minFreeGiB: inputs.minFreeGiB,
    installEmulation: inputs.installEmulation,
    firstUserPass: inputs.firstUserPassword,
    sourceDateEpoch: parseSourceDateEpoch(env.SOURCE_DATE_EPOCH),
    isRoot: io.isRoot,
    arch: io.arch,
    logger: io.logger,
  });
  const caches: ActionCache[] = [];
  if ((inputs.aptCache || inputs.stageCache) && io.cache) {
    const configText = inputs.config ? await readFile(resolve(workspace, inputs.config), 'utf8').catch(() => '') : '';
    const configHash = createHash('sha256').update(configText).update('\0').update(inputs.settings.join('\n')).digest('hex');
    const stagesHash = await hashTree(stageSourceDirs(options.stages, options.pigenDir, options.baseDir, options.overridesDir));
    for (const kind of ['apt', 'stages'] as const) {
      if (!(kind === 'apt' ? inputs.aptCache : inputs.stageCache)) continue;
      const key = buildCacheKey(kind, io.arch, options.pigenCommit, stagesHash, configHash);
      const dir = join(env.RUNNER_TEMP ?? '/tmp', kind === 'apt' ? 'pi-image-apt-cache' : 'pi-image-stage-cache');
      // Entries are immutable: each run that changes the cache saves a new one (key + run), found again by prefix.
      const run = `${env.GITHUB_RUN_ID ?? Date.now()}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`;
      caches.push(await restoreActionCache(io.cache, kind, dir, { key: `${key.key}-${run}`, restoreKeys: [`${key.key}-`, ...key.restoreKeys] }, io.logger));
    }
  }
  const cacheDir = (kind: ActionCache['kind']): string | undefined => caches.find((c) => c.kind === kind)?.dir;
  try {
    // Saved before the build starts, so the post step cleans up after a failure too.
    return await report(
      await runBuild({
        ...options,
        aptCacheDir: cacheDir('apt'),
        stageCacheDir: cacheDir('stages'),
        onContainer: (runtime, name) => io.saveState(CONTAINER_STATE, JSON.stringify({ name, runtime })),
      }),
      inputs,
      io,
    );
  } finally {
    for (const c of caches) if (io.cache) await saveActionCache(io.cache, c, io.logger);
  }
}

interface ActionCache {
  kind: 'apt' | 'stages';
  dir: string;
  key: string;
  hit: string | undefined;
  /** What the directory held after the restore: saved again only when the build changed it. */
  restored: string;
}

/** The names (and sizes) of everything under `dir`, as one string. */
async function contentsOf(dir: string): Promise<string> {
  const names = (await readdir(dir, { recursive: true }).catch(() => [] as string[])).sort();
  const sizes = await Promise.all(names.map(async (n) => `${n}\0${(await stat(join(dir, n)).catch(() => undefined))?.size ?? ''}`));
  return sizes.join('\n');
}

async function restoreActionCache(cache: CacheStore, kind: ActionCache['kind'], dir: string, key: CacheKey, logger: Logger): Promise<ActionCache> {
  const hit = await cache.restore([dir], key.key, key.restoreKeys).catch((e: unknown) => {
    logger.warn(`${kind} cache not restored: ${(e as Error).message}`);
    return undefined;
  });
  logger.info(hit ? `${kind} cache restored from ${hit}` : `no ${kind} cache yet for ${key.restoreKeys[0]}`);
  return { kind, dir, key: key.key, hit, restored: await contentsOf(dir) };
}

/** Saves a cache under this run's key when the build changed it (GitHub's cache entries are immutable). */
async function saveActionCache(cache: CacheStore, c: ActionCache, logger: Logger): Promise<void> {
  const now = await contentsOf(c.dir);
  if (now === '' || now === c.restored) {
    logger.info(`${c.kind} cache unchanged: not saved again`);
    return;
  }
  await cache.save([c.dir], c.key).then(
    () => logger.info(`${c.kind} cache saved as ${c.key}`),
    (e: unknown) => logger.warn(`${c.kind} cache not saved: ${(e as Error).message}`),
  );
}

async function report(result: BuildResult, inputs: BuildInputs, io: BuildActionIo): Promise<BuildResult> {
  io.setOutput('deploy-dir', result.deployDir);
  io.setOutput('image-path', result.imagePath ?? '');
  io.setOutput('pigen-commit', result.pigenCommit);
  io.setOutput('build-log', result.buildLog);
  io.setOutput('runtime', result.runtime.runtime);
  await io.summary(
    [
      `### pi-gen build: ${mdText(inputs.version)}`,
      '',
      `- pi-gen ${mdCode(result.pigenCommit)} (${result.runtime.runtime})`,
      `- stages: ${result.stages.map((s) => mdCode(s.name)).join(', ')}`,
      `- image: ${result.imagePath ? mdCode(result.imagePath) : 'none exported'}`,
      '',
    ].join('\n'),
  );
  return result;
}

/** The post step: always remove the build's container, whatever happened in main. */
export async function cleanupBuildAction(state: string, logger: Logger): Promise<void> {
  if (!state) return;
  const saved = JSON.parse(state) as { name: string; runtime?: ResolvedRuntime };
  if (!saved.runtime) return;
  logger.info(`removing build container ${saved.name}`);
  await removeBuildContainer(saved.runtime, saved.name, logger);
}
