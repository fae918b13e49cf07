import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PiImageError } from '../core/errors';
import { silentLogger } from '../core/logger';
import { parseExportSettings } from '../export/layouts';
import { imageNames } from '../pigen/image-names';
import { buildConfigEntries, runBuild, type BuildOptions } from './build';

const options = (over: Partial<BuildOptions> = {}): BuildOptions => ({
  pigenDir: '/pi-gen',
  pigenCommit: 'ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5',
  baseDir: '/repo',
  workDir: '/work',
  runtime: 'native',
  settings: { imgName: 'ourbox-mini', firstUserPass: 's3cret' },
  stages: ['stage0'],
  version: '1.4.0',
  recipeGitHash: 'a'.repeat(40),
  sourceDateEpoch: 1768780800,
  containerName: 'pigen-x',
  isRoot: true,
  arch: 'x64',
  logger: silentLogger,
  ...over,
});
const stage = [{ name: 'stage0', hostPath: '/pi-gen/stage0', buildPath: '/pi-gen/stage0', upstream: true, mount: false, overridden: [] }];
const value = (entries: { name: string; value: string }[], name: string) => entries.find((e) => e.name === name)?.value;

describe('build config', () => {
  it('names files after the version, not the build date', () => {
    expect(imageNames('ourbox-mini', '1.4.0', new Date('2026-01-19T12:00:00Z'))).toEqual({
      IMG_DATE: '2026-01-19',
      IMG_FILENAME: 'ourbox-mini-1.4.0',
      ARCHIVE_FILENAME: 'image_ourbox-mini-1.4.0',
    });
    const a = buildConfigEntries(options({ sourceDateEpoch: 1768780800 }), stage, true, '/work');
    const b = buildConfigEntries(options({ sourceDateEpoch: 1768780800 + 86400 * 30 }), stage, true, '/work');
    expect(value(a, 'IMG_FILENAME')).toBe(value(b, 'IMG_FILENAME'));
    expect(value(a, 'IMG_DATE')).not.toBe(value(b, 'IMG_DATE'));
    expect(() => imageNames('x', '1.0 rc', new Date())).toThrow(/version "1.0 rc" cannot be used in file names/);
  });

  it('passes the version and the recipe commit to pi-gen and the stages', () => {
    const e = buildConfigEntries(options(), stage, true, '/work');
    expect(value(e, 'PI_IMAGE_VERSION')).toBe('1.4.0');
    expect(value(e, 'GIT_HASH')).toBe('a'.repeat(40));
    expect(value(e, 'PI_IMAGE_RECIPE_GIT_HASH')).toBe('a'.repeat(40));
    expect(value(e, 'STAGE_LIST')).toBe('/pi-gen/stage0');
    expect(e.find((x) => x.name === 'FIRST_USER_PASS')!.comment).toMatch(/secret, masked/);
  });

  it('keeps pi-gen from asking git inside its own tree when the recipe commit is unknown', () => {
    const e = buildConfigEntries(options({ recipeGitHash: undefined }), stage, true, '/work');
    expect(value(e, 'GIT_HASH')).toBe('unknown');
    expect(value(e, 'PI_IMAGE_RECIPE_GIT_HASH')).toBeUndefined();
  });

  it('sets WORK_DIR and DEPLOY_DIR for native builds only (build-docker.sh copies /pi-gen/deploy)', () => {
    expect(value(buildConfigEntries(options(), stage, true, '/work'), 'DEPLOY_DIR')).toBe('/work/deploy');
    expect(value(buildConfigEntries(options(), stage, false, '/work'), 'DEPLOY_DIR')).toBeUndefined();
    expect(value(buildConfigEntries(options(), stage, false, '/work'), 'WORK_DIR')).toBeUndefined();
  });
});

describe('EXPORT=rootless needs root on this host', () => {
  it('refuses a container build by a user who is not root and has no passwordless sudo, before anything is written', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'rootless-refusal-'));
    const asked: string[] = [];
    try {
      const probe = async (cmd: string, args: readonly string[]): Promise<boolean> => {
        asked.push([cmd, ...args].join(' '));
        return cmd === 'docker';
      };
      const refused = runBuild(options({ runtime: 'docker', isRoot: false, workDir, probe, exportSettings: parseExportSettings({ EXPORT: 'rootless' }) }));
      await expect(refused).rejects.toThrow(PiImageError);
      await expect(refused).rejects.toMatchObject({
        code: 'INPUT_INVALID',
        message: expect.stringMatching(/EXPORT=rootless with the docker runtime .* passwordless sudo, or use EXPORT=export-image/),
      });
      expect(asked).toEqual(['docker info', 'sudo -n true']);
      expect(readdirSync(workDir)).toEqual([]);
      // With upstream's export nothing needs root here, and sudo is not asked (a refusal is logged as an incident).
      asked.length = 0;
      await expect(runBuild(options({ runtime: 'docker', isRoot: false, workDir, probe }))).rejects.toMatchObject({
        code: 'INPUT_INVALID',
        message: expect.stringMatching(/is not a pi-gen checkout/),
      });
      expect(asked).toEqual(['docker info']);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
