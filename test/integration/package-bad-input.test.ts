/**
 * Bad input gets a clear error naming the file, exit code 2 (user error), and
 * leaves no release directory, complete-looking or partial. Real small images,
 * real compressors, the committed CLI bundle.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPiImage } from '../support/cli';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { REPO_ROOT } from '../support/test-image';
import { missingTools, sh, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'gzip', 'zip']);
if (missing.length > 0) skipReason('bad-input tests', `missing tools: ${missing.join(', ')}`);

const FIXTURE_LOG = readFileSync(join(REPO_ROOT, 'test/fixtures/pigen-ourbox-mini-2026-01-19/build.log'), 'utf8');
const BASE = '2026-01-19-small';

describe.skipIf(missing.length > 0)('pi-image package refuses bad input cleanly', () => {
  let work: string;
  let good: string;
  let n = 0;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'package-bad-'));
    good = join(work, 'good.img');
    makeSmallImage(good);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** A deploy dir with one image file made by `make`, plus a good .info and build.log unless replaced. */
  function deploy(make: (dir: string) => void, extra: { info?: string | null; log?: string | null } = {}): string {
    const dir = join(work, `deploy-${++n}`);
    mkdirSync(dir);
    make(dir);
    if (extra.info !== null) writeFileSync(join(dir, `${BASE}.info`), extra.info ?? makeInfo(5));
    if (extra.log !== null) writeFileSync(join(dir, 'build.log'), extra.log ?? FIXTURE_LOG);
    return dir;
  }

  function expectRefused(dir: string, message: RegExp, exitCode = 2): void {
    const out = join(work, `out-${n}`);
    const r = runPiImage(['package', dir, '--out', out, '--compression-level', '0', '--quiet']);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(exitCode);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes('.partial-'))).toEqual([]);
  }

  const xzOf = (dir: string): string => {
    const path = join(dir, `image_${BASE}.img.xz`);
    sh('sh', ['-c', 'xz -0 -T0 -c "$1" > "$2"', 'sh', good, path]);
    return path;
  };
  const gzOf = (dir: string): string => {
    const path = join(dir, `image_${BASE}.img.gz`);
    sh('sh', ['-c', 'gzip -1 -c "$1" > "$2"', 'sh', good, path]);
    return path;
  };
  const zipOf = (dir: string): string => {
    const raw = join(dir, `${BASE}.img`);
    copyFileSync(good, raw);
    const path = join(dir, `image_${BASE}.zip`);
    sh('zip', ['-q', '-1', '-j', path, raw]);
    rmSync(raw);
    return path;
  };
  const cutInHalf = (path: string): void => truncateSync(path, Math.floor(statSync(path).size / 2));

  it('a truncated .img.xz', () => {
    expectRefused(
      deploy((d) => cutInHalf(xzOf(d))),
      /image_2026-01-19-small\.img\.xz: not a readable \.xz file/,
    );
  });

  it('a truncated .img.gz', () => {
    expectRefused(
      deploy((d) => cutInHalf(gzOf(d))),
      /image_2026-01-19-small\.img\.gz: cannot be read to the end: unexpected end of file/,
    );
  });

  it('a truncated .zip', () => {
    expectRefused(
      deploy((d) => cutInHalf(zipOf(d))),
      /image_2026-01-19-small\.zip: not a readable zip archive: no end-of-central-directory/,
    );
  });

  it('a .zip whose data is damaged (CRC-32 or inflate fails)', () => {
    const dir = deploy((d) => {
      const path = zipOf(d);
      const bytes = readFileSync(path);
      for (let i = 200; i < 260; i++) bytes[i] = bytes[i]! ^ 0xff;
      writeFileSync(path, bytes);
    });
    expectRefused(dir, /image_2026-01-19-small\.zip: .*(CRC-32|invalid|incorrect|not a readable zip)/);
  });

  it('a zero-byte image', () => {
    expectRefused(
      deploy((d) => writeFileSync(join(d, `${BASE}.img`), '')),
      /2026-01-19-small\.img: the image is empty \(0 bytes\)/,
    );
  });

  it('a file that is not a disk image', () => {
    expectRefused(
      deploy((d) => writeFileSync(join(d, `${BASE}.img`), Buffer.alloc(200_000, 0x5a))),
      /2026-01-19-small\.img: not a disk image/,
    );
  });

  it('a garbage build.log', () => {
    expectRefused(
      deploy((d) => copyFileSync(good, join(d, `${BASE}.img`)), { log: 'this is not\na pi-gen log\n' }),
      /build\.log is not a pi-gen build log/,
    );
  });

  it('an .info without a package table', () => {
    expectRefused(
      deploy((d) => copyFileSync(good, join(d, `${BASE}.img`)), { info: makeInfo(3).split('Packages:')[0] }),
      /2026-01-19-small\.info: no package table/,
    );
  });

  it('a deploy/ with two images, listing both', () => {
    const dir = deploy((d) => {
      copyFileSync(good, join(d, `${BASE}.img`));
      xzOf(d);
    });
    expectRefused(dir, /2 images in .*: 2026-01-19-small\.img, image_2026-01-19-small\.img\.xz; choose one with --image/);
  });

  it('a deploy/ with no image, listing what it holds', () => {
    expectRefused(
      deploy(() => {}),
      /no pi-gen image in .*; it holds: 2026-01-19-small\.info, build\.log/,
    );
  });

  it('an output directory that already exists', () => {
    const dir = deploy((d) => copyFileSync(good, join(d, `${BASE}.img`)));
    const out = join(work, 'taken');
    mkdirSync(out);
    writeFileSync(join(out, 'keep-me'), 'x');
    const r = runPiImage(['package', dir, '--out', out, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists and is not empty; .* --force/);
    expect(readdirSync(out)).toEqual(['keep-me']);
    // --force replaces a release, never a directory of something else.
    const notRelease = runPiImage(['package', dir, '--out', out, '--quiet', '--force', '--compression-level', '0']);
    expect(notRelease.code).toBe(2);
    expect(notRelease.stderr).toMatch(/is not empty and is not a release directory \(no manifest\.json\): --force replaces only a release/);
    expect(readdirSync(out)).toEqual(['keep-me']);
    rmSync(join(out, 'keep-me'));
    expect(runPiImage(['package', dir, '--out', out, '--quiet', '--compression-level', '0']).code).toBe(0);
    const forced = runPiImage(['package', dir, '--out', out, '--quiet', '--force', '--compression-level', '0', '--version', '2.0.0']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toContain('"version": "2.0.0"');
  });

  it('bad option values, naming the option', () => {
    const dir = deploy((d) => copyFileSync(good, join(d, `${BASE}.img`)));
    const out = join(work, 'never');
    expect(runPiImage(['package', dir, '--out', out, '--channel', 'beta']).stderr).toMatch(/channel "beta" is not one of: nightly, stable/);
    expect(runPiImage(['package', dir, '--out', out, '--compression-level', '11']).stderr).toMatch(/compression-level "11" must be a whole number from 0 to 9/);
    expect(runPiImage(['package', dir, '--out', out, '--name', '../evil']).stderr).toMatch(/name "\.\.\/evil" cannot be used in file names/);
    expect(runPiImage(['package', dir, '--out', out, '--version', 'v1 2']).code).toBe(2);
    expect(runPiImage(['package', dir, '--out', out], { env: { SOURCE_DATE_EPOCH: 'yesterday' } }).stderr).toMatch(/SOURCE_DATE_EPOCH "yesterday"/);
    expect(runPiImage(['package', dir]).stderr).toMatch(/package needs --out RELEASE_DIR/);
    expect(runPiImage(['package', dir, '--out', out, '--bogus']).code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});
