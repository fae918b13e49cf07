/** SOURCE_DATE_EPOCH: packaging the same input twice gives byte-identical files. */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPiImage } from '../support/cli';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { REPO_ROOT } from '../support/test-image';
import { missingTools, sh, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'zip', 'xz']);
if (missing.length > 0) skipReason('reproducibility test', `missing tools: ${missing.join(', ')}`);

describe.skipIf(missing.length > 0)('reproducible packaging', () => {
  const work = mkdtempSync(join(tmpdir(), 'package-repro-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('gives byte-identical release directories with SOURCE_DATE_EPOCH, whatever the xz thread count', () => {
    const deploy = join(work, 'deploy');
    mkdirSync(deploy);
    const raw = join(deploy, '2026-01-19-small.img');
    makeSmallImage(raw, {
      rootMiB: 48,
      rootFiles: {
        'opt/noise.bin': readFileSync(process.execPath)
          .subarray(0, 8 << 20)
          .toString('base64'),
      },
    });
    sh('zip', ['-q', '-1', '-j', join(deploy, 'image_2026-01-19-small.zip'), raw]);
    rmSync(raw);
    writeFileSync(join(deploy, '2026-01-19-small.info'), makeInfo(12));
    copyFileSync(join(REPO_ROOT, 'test/fixtures/pigen-ourbox-mini-2026-01-19/build.log'), join(deploy, 'build.log'));

    const env = { SOURCE_DATE_EPOCH: '1768780800' };
    const a = runPiImage(['package', deploy, '--out', join(work, 'a'), '--version', '2.0.0', '--compression-level', '1', '--threads', '1', '-q'], { env });
    const b = runPiImage(['package', deploy, '--out', join(work, 'b'), '--version', '2.0.0', '--compression-level', '1', '--threads', '2', '-q'], { env });
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, '', 0, '']);
    const files = readdirSync(join(work, 'a')).sort();
    expect(readdirSync(join(work, 'b')).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(join(work, 'b', f)).equals(readFileSync(join(work, 'a', f))), f).toBe(true);
    const manifest = JSON.parse(readFileSync(join(work, 'a', 'manifest.json'), 'utf8'));
    expect(manifest.created).toBe('2026-01-19T00:00:00Z');

    // Without SOURCE_DATE_EPOCH the time differs, so the test above can fail.
    const c = runPiImage(['package', deploy, '--out', join(work, 'c'), '--version', '2.0.0', '--compression-level', '1', '-q'], {
      env: { SOURCE_DATE_EPOCH: '' },
    });
    expect(c.code).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 'c', 'manifest.json'), 'utf8')).created).not.toBe('2026-01-19T00:00:00Z');
  });
});
