/**
 * semantic-release for real, with this repository's .releaserc.cjs and release
 * scripts, in a temporary git repository whose remote is a bare repository on
 * disk: from conventional commits it computes the version, writes the
 * changelog and package.json, commits, tags vX.Y.Z and moves the major tag.
 * Only the GitHub release (the @semantic-release/github plugin) needs GitHub
 * and is left out (PI_IMAGE_RELEASE_NO_GITHUB).
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/test-image';
import { missingTools, skipReason } from '../support/tools';

const run = promisify(execFile);
const missing = missingTools(['git']);
if (missing.length > 0) skipReason('semantic-release test', 'git is missing');

describe.skipIf(missing.length > 0)('semantic-release against a bare remote', () => {
  let work: string;
  let repo: string;
  let remote: string;
  const env = {
    ...process.env,
    PI_IMAGE_RELEASE_NO_GITHUB: '1',
    PI_IMAGE_RELEASE_SKIP_BUILD: '1',
    PI_IMAGE_RELEASE_REMOTE: 'origin',
    GIT_AUTHOR_NAME: 'Release Test',
    GIT_AUTHOR_EMAIL: 'release@test.invalid',
    GIT_COMMITTER_NAME: 'Release Test',
    GIT_COMMITTER_EMAIL: 'release@test.invalid',
    // Not in CI as far as semantic-release can tell: no GitHub variables.
    GITHUB_ACTIONS: '',
    GITHUB_TOKEN: '',
    GH_TOKEN: '',
    CI: '',
  };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim();
  const commit = (message: string) => {
    writeFileSync(join(repo, 'notes.txt'), `${message}\n${Math.random()}\n`);
    git('add', '-A');
    git('commit', '-q', '-m', message);
  };
  const release = (extra: Record<string, string> = {}) =>
    run(process.execPath, [join(REPO_ROOT, 'node_modules/semantic-release/bin/semantic-release.js'), '--no-ci'], {
      cwd: repo,
      env: { ...env, ...extra },
      maxBuffer: 16 << 20,
    });
  const nextVersion = async (...args: string[]) =>
    (await run(process.execPath, ['scripts/release/next-version.mjs', ...args], { cwd: repo, env })).stdout.trim();
  const remoteTags = () => execFileSync('git', ['tag', '--list'], { cwd: remote, encoding: 'utf8' }).trim().split('\n').filter(Boolean).sort();
  const remoteRev = (ref: string) => execFileSync('git', ['rev-parse', `${ref}^{commit}`], { cwd: remote, encoding: 'utf8' }).trim();

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'semrel-'));
    remote = join(work, 'remote.git');
    repo = join(work, 'repo');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote]);
    mkdirSync(repo);
    git('init', '-q', '-b', 'main');
    git('remote', 'add', 'origin', `file://${remote}`);
    cpSync(join(REPO_ROOT, '.releaserc.cjs'), join(repo, '.releaserc.cjs'));
    cpSync(join(REPO_ROOT, 'scripts/release'), join(repo, 'scripts/release'), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(repo, 'node_modules'));
    writeFileSync(join(repo, '.gitignore'), 'node_modules\n');
    writeFileSync(join(repo, 'package.json'), `${JSON.stringify({ name: 'recipe', version: '0.0.0-development', private: true }, null, 2)}\n`);
    commit('chore: start');
    git('push', '-q', 'origin', 'main');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('releases 1.0.0 from a feat: tag, changelog, package.json, release commit, major tag', async () => {
    commit('feat: flash the SYSTEM disk only');
    expect(await nextVersion('--channel', 'stable')).toBe('version=1.0.0');
    expect(await nextVersion('--channel', 'nightly', '--build', '7', '--date', '20261123')).toBe('version=1.0.0-nightly.20261123.7');
    const r = await release();
    expect(r.stdout).toMatch(/Published release 1\.0\.0/);
    expect(remoteTags()).toEqual(['v1', 'v1.0.0']);
    expect(remoteRev('v1')).toBe(remoteRev('v1.0.0'));
    git('pull', '-q', '--tags', 'origin', 'main');
    expect(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version).toBe('1.0.0');
    const changelog = readFileSync(join(repo, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toMatch(/^# Changelog/);
    expect(changelog).toMatch(/## 1\.0\.0[\s\S]*flash the SYSTEM disk only/);
    expect(git('log', '-1', '--format=%s')).toBe('chore(release): 1.0.0 [skip ci]');
  });

  it('a fix: is a patch and moves v1; nothing releasable gives no stable version', async () => {
    commit('docs: explain pinning');
    expect(await nextVersion('--channel', 'stable')).toBe('version=');
    expect(await nextVersion('--channel', 'nightly', '--build', '8', '--date', '20261124')).toBe('version=1.0.1-nightly.20261124.8');
    commit('fix: refuse a DATA disk');
    await release();
    expect(remoteTags()).toEqual(['v1', 'v1.0.0', 'v1.0.1']);
    expect(remoteRev('v1')).toBe(remoteRev('v1.0.1'));
  });

  it('refuses to release a version other than the one the image was built with', async () => {
    git('pull', '-q', '--tags', 'origin', 'main');
    commit('feat: pull on the device');
    const error = await release({ EXPECTED_VERSION: '1.0.2' }).catch((e: { stderr: string; stdout: string }) => e);
    expect(`${(error as { stdout: string }).stdout}${(error as { stderr: string }).stderr}`).toMatch(
      /would release 1\.1\.0, but the image was built as 1\.0\.2/,
    );
    expect(remoteTags()).not.toContain('v1.1.0');
    await release({ EXPECTED_VERSION: '1.1.0' });
    expect(remoteTags()).toContain('v1.1.0');
  });

  it('a breaking change is a major release with its own major tag; v1 stays', async () => {
    git('pull', '-q', '--tags', 'origin', 'main');
    commit('feat!: the manifest schema v2');
    await release();
    expect(remoteTags()).toEqual(['v1', 'v1.0.0', 'v1.0.1', 'v1.1.0', 'v2', 'v2.0.0']);
    expect(remoteRev('v1')).toBe(remoteRev('v1.1.0'));
    expect(remoteRev('v2')).toBe(remoteRev('v2.0.0'));
  });
});
