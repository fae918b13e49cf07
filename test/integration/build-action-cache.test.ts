/**
 * The build action's stage cache through the CacheStore seam (GitHub's cache
 * service cannot exist here: a directory stands in for it, restoring by key
 * and key prefix as @actions/cache does). Two runs on two fresh "runners":
 * the first runs every stage and saves; the second restores and runs none.
 * Real pi-gen's build.sh, with two tiny stages (no debootstrap).
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBuildAction } from '../../actions/build/src/run';
import type { BuildInputs } from '../../actions/build/src/inputs';
import type { CacheStore } from '../../src/lib/build/cache-keys';
import { MemoryLogger } from '../../src/lib/core/logger';
import { makeCacheStages } from '../support/cache-stages';
import { testPiGen } from '../support/pigen';
import { REPO_ROOT } from '../support/test-image';
import { isRoot, skipReason } from '../support/tools';

const pigen = testPiGen();
const pigenDir = 'dir' in pigen ? pigen.dir : undefined;
const why = !pigenDir ? ('why' in pigen ? pigen.why : 'no pi-gen') : !isRoot() ? "pi-gen's build.sh runs as root" : undefined;
if (why) skipReason('build action stage cache', why);

/** GitHub's cache service, as a directory: entries are immutable, restore matches the key, then each prefix, newest first. */
function directoryCache(store: string): CacheStore & { keys(): string[] } {
  const saved: string[] = [];
  return {
    restore(paths, key, restoreKeys) {
      const names = [...saved].reverse();
      const hit = names.find((n) => n === key) ?? restoreKeys.map((p) => names.find((n) => n.startsWith(p))).find((n) => n !== undefined);
      if (hit) cpSync(join(store, hit), paths[0]!, { recursive: true });
      return Promise.resolve(hit);
    },
    save(paths, key) {
      if (existsSync(join(store, key))) return Promise.reject(new Error(`cache entry ${key} exists (entries are immutable)`));
      cpSync(paths[0]!, join(store, key), { recursive: true });
      saved.push(key);
      return Promise.resolve();
    },
    keys: () => (existsSync(store) ? readdirSync(store) : []),
  };
}

describe.skipIf(why !== undefined)('build action: the stage cache through the cache service', () => {
  const work = mkdtempSync(join(tmpdir(), 'build-action-cache-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const stages = makeCacheStages(join(work, 'stages'));
  const cache = directoryCache(join(work, 'service'));

  const inputs: BuildInputs = {
    config: 'test/fixtures/pigen-stages/test.env',
    settings: [`STAGE_LIST=${stages.a} ${stages.b}`],
    version: '1.0.0',
    runtime: 'native',
    workDir: join(work, 'build'),
    pigenDir,
    pigenRepository: undefined,
    pigenRef: undefined,
    recipeGitHash: 'c'.repeat(40),
    resume: false,
    minFreeGiB: 1,
    installEmulation: false,
    aptCache: false,
    stageCache: true,
    firstUserPassword: undefined,
  };
  /** One job on a fresh runner: its own RUNNER_TEMP, nothing left from the last. */
  async function job(runner: string, runId = runner.replace('runner-', 'run')): Promise<MemoryLogger> {
    const logger = new MemoryLogger();
    await runBuildAction(inputs, {
      logger,
      env: { GITHUB_WORKSPACE: REPO_ROOT, RUNNER_TEMP: join(work, runner), GITHUB_RUN_ID: runId, GITHUB_RUN_ATTEMPT: '1' },
      setOutput: () => undefined,
      saveState: () => undefined,
      summary: () => Promise.resolve(),
      isRoot: true,
      arch: process.arch,
      cache,
    });
    return logger;
  }
  const text = (l: MemoryLogger): string => l.lines.map((x) => x.message).join('\n');

  it('saves what the first job built and restores it on a fresh runner, where no stage runs again', async () => {
    const first = await job('runner-1');
    expect(text(first)).toMatch(/no stages cache yet for pi-image-stages-/);
    expect(text(first)).toMatch(/stages cache saved as pi-image-stages-\S+-run1-1/);
    expect(text(first)).toMatch(/RAN stage-a 1[\s\S]*RAN stage-b 1/);
    expect(cache.keys()).toHaveLength(1);
    const [key] = cache.keys();
    expect(readdirSync(join(work, 'service', key!)).filter((n) => n.endsWith('.tar'))).toHaveLength(2);

    const second = await job('runner-2');
    expect(text(second)).toContain(`stages cache restored from ${key}`);
    expect(text(second)).toContain('stage cache: stage-a, stage-b unchanged (restored); 0 stage(s) run');
    expect(text(second)).not.toContain('RAN stage-');
    expect(readFileSync(join(work, 'build', 'work', 'stage-b', 'rootfs', 'etc', 'b'), 'utf8')).toBe('ab\n');
    // Nothing changed: nothing new to save.
    expect(text(second)).toContain('stages cache unchanged: not saved again');
    expect(cache.keys()).toEqual([key]);

    // The product stage changed: the key changes, the older entry is found by its prefix, only stage-b runs.
    stages.writeB('2');
    const third = await job('runner-3');
    expect(text(third)).toMatch(new RegExp(`stages cache restored from ${key}`));
    expect(text(third)).not.toContain('RAN stage-a');
    expect(text(third)).toContain('RAN stage-b 2');
    expect(cache.keys()).toHaveLength(2);

    // A retry of the same stages after a transient failure restores the failed run's entry (the
    // same key prefix) and still saves what it adds: the failed run kept stage-a, the retry adds stage-b.
    stages.writeA('3');
    writeFileSync(stages.failFlag, '');
    await expect(job('runner-4')).rejects.toThrow(/pi-gen failed in stage stage-b/);
    rmSync(stages.failFlag);
    const retry = await job('runner-5');
    expect(text(retry)).toMatch(/stages cache restored from \S+-run4-1/);
    expect(text(retry)).not.toContain('RAN stage-a');
    expect(text(retry)).toContain('RAN stage-b 2');
    expect(text(retry)).toMatch(/stages cache saved as \S+-run5-1/);
  });
});
