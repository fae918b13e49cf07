import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../core/logger';
import { missingTools, skipReason } from '../../../test/support/tools';
import { locatePiGen } from './pigen-checkout';

const missing = missingTools(['git']);
if (missing.length > 0) skipReason('pi-gen checkout tests', 'git is not installed');

describe.skipIf(missing.length > 0)('finding pi-gen', () => {
  const root = mkdtempSync(join(tmpdir(), 'pigen-checkout-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' }).trim();

  // A stand-in upstream: a real git repository with a build.sh, two commits.
  const upstream = join(root, 'upstream');
  mkdirSync(upstream);
  git(upstream, 'init', '-q', '-b', 'arm64');
  writeFileSync(join(upstream, 'build.sh'), '#!/bin/bash\necho one\n');
  git(upstream, 'add', '.');
  git(upstream, 'commit', '-q', '-m', 'one');
  const pinned = git(upstream, 'rev-parse', 'HEAD');
  writeFileSync(join(upstream, 'build.sh'), '#!/bin/bash\necho two\n');
  git(upstream, 'commit', '-q', '-am', 'two');
  const newer = git(upstream, 'rev-parse', 'HEAD');
  // GitHub serves any reachable commit; a local repository has to be told to.
  git(upstream, 'config', 'uploadpack.allowReachableSHA1InWant', 'true');
  const pin = { repository: upstream, branch: 'arm64', commit: pinned, tag: 'test' };

  it('checks out the pinned commit when there is no checkout, and reuses it', async () => {
    const logger = new MemoryLogger();
    const first = await locatePiGen({ cacheDir: join(root, 'cache'), pin, logger });
    expect(first).toEqual({ dir: join(root, 'cache', `pi-gen-${pinned}`), commit: pinned, source: 'clone' });
    expect(execFileSync('cat', [join(first.dir, 'build.sh')], { encoding: 'utf8' })).toContain('one');
    const again = await locatePiGen({ cacheDir: join(root, 'cache'), pin, logger: new MemoryLogger() });
    expect(again.commit).toBe(pinned);
  });

  it('takes another repository and ref when asked', async () => {
    const r = await locatePiGen({ cacheDir: join(root, 'cache'), pin, repository: upstream, ref: 'arm64', logger: new MemoryLogger() });
    expect(r.commit).toBe(newer);
  });

  it('prefers an explicit directory, then the submodule, warning when they are not at the pin', async () => {
    const logger = new MemoryLogger();
    const explicit = await locatePiGen({ explicitDir: upstream, submoduleDir: join(root, 'nope'), cacheDir: join(root, 'c2'), pin, logger });
    expect(explicit).toEqual({ dir: upstream, commit: newer, source: 'explicit' });
    expect(logger.warnings()).toEqual([`pi-gen at ${upstream} is at ${newer}; the pinned commit is ${pinned}`]);
    const sub = await locatePiGen({ submoduleDir: upstream, cacheDir: join(root, 'c2'), pin, logger: new MemoryLogger() });
    expect(sub.source).toBe('submodule');
  });

  it('refuses a directory that is not pi-gen', async () => {
    await expect(locatePiGen({ explicitDir: root, cacheDir: join(root, 'c3'), pin, logger: new MemoryLogger() })).rejects.toThrow(/has no build.sh/);
  });
});
