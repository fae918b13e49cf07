/**
 * Bad input files and values that once got a generic error (a RangeError,
 * "Invalid string length", "Invalid time value", a signature failure): each
 * must get a clear one naming the input, exit 2, within bounds, with nothing
 * written and nothing of the input's content echoed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';
import { expectBounded, runBounded, type BoundedRun } from './support/bounded-cli';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', '/usr/bin/time']);
if (missing.length > 0) skipReason('hostile inputs', `missing tools: ${missing.join(', ')}`);

const work = mkdtempSync(join(tmpdir(), 'hostile-inputs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Checks a refused run: exit 2, bounded, the input named, the code given, no output. */
function refusedInput(run: BoundedRun, input: string, code: string, message: RegExp, out?: string): void {
  expect(expectBounded(run, 20)).toEqual([]);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toContain(input);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).toContain(`[${code}]`);
  if (out) expect(existsSync(out)).toBe(false);
  expect(readdirSync(work).filter((n) => n.includes('.partial-'))).toEqual([]);
}

describe.skipIf(missing.length > 0)('hostile input files and values', () => {
  let deploy: string;
  beforeAll(() => {
    deploy = join(work, 'deploy');
    mkdirSync(deploy);
    makeSmallImage(join(deploy, '2026-01-19-hostile.img'));
    writeFileSync(join(deploy, '2026-01-19-hostile.info'), makeInfo(2));
  });

  /** A copy of the good deploy directory with one file changed. */
  const variant = (name: string, change: (dir: string) => void): string => {
    const dir = join(work, `deploy-${name}`);
    execFileSync('cp', ['-a', deploy, dir]);
    change(dir);
    return dir;
  };

  it('a zip whose ZIP64 locator points 2^64 bytes in (once a generic error)', async () => {
    const dir = variant('zip64', (d) => {
      rmSync(join(d, '2026-01-19-hostile.img'));
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(0xffffffffffffffffn, 8);
      locator.writeUInt32LE(1, 16);
      const eocd = Buffer.alloc(22);
      eocd.writeUInt32LE(0x06054b50, 0);
      eocd.writeUInt16LE(0xffff, 8);
      eocd.writeUInt16LE(0xffff, 10);
      eocd.writeUInt32LE(0xffffffff, 12);
      eocd.writeUInt32LE(0xffffffff, 16);
      writeFileSync(join(d, 'image_2026-01-19-hostile.zip'), Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(60), locator, eocd]));
    });
    const out = join(work, 'out-zip64');
    const run = await runBounded(['package', dir, '--out', out], { timeoutMs: 30_000 });
    refusedInput(run, 'image_2026-01-19-hostile.zip', 'IMAGE_CORRUPT', /the ZIP64 end record offset \(18446744073709551615\) is larger than the archive/, out);
  });

  it('a 600 MB build.log (once "Invalid string length"): refused by its size, never read', async () => {
    const dir = variant('log', (d) => {
      writeFileSync(join(d, 'build.log'), '');
      truncateSync(join(d, 'build.log'), 600 * 1024 * 1024);
    });
    const out = join(work, 'out-log');
    const run = await runBounded(['package', dir, '--out', out], { timeoutMs: 30_000 });
    refusedInput(run, join(dir, 'build.log'), 'INPUT_INVALID', /is 629145600 bytes, more than the 67108864 a file of its kind may have/, out);
    expect(run.peakMiB).toBeLessThan(300);
  });

  it('SOURCE_DATE_EPOCH=99999999999999999 (once "Invalid time value")', async () => {
    const out = join(work, 'out-epoch');
    const run = await runBounded(['package', deploy, '--out', out], { env: { SOURCE_DATE_EPOCH: '99999999999999999' }, timeoutMs: 30_000 });
    refusedInput(
      run,
      'SOURCE_DATE_EPOCH "99999999999999999"',
      'INPUT_INVALID',
      /must be a whole number of seconds since 1970-01-01, at most 253402300799/,
      out,
    );
  });

  it('a password file given as --info: refused without a character of it in the message', async () => {
    const shadow = join(work, 'shadow');
    writeFileSync(shadow, 'root:$y$j9T$Hunter2SaltAndHash$abcdefghijklmnopqrstuvwxyz012345:19000:0:99999:7:::\n');
    const out = join(work, 'out-shadow');
    const run = await runBounded(['package', deploy, '--out', out, '--info', shadow], { timeoutMs: 30_000 });
    refusedInput(run, shadow, 'INFO_INVALID', /line 1 is not "<PI_GEN_RELEASE> <YYYY-MM-DD>": not a pi-gen \.info file/, out);
    expect(run.stderr).not.toContain('Hunter2');
    expect(run.stderr).not.toContain('root:');
  });

  it("a 5-byte junk *.sbom.xz is not shipped as pi-gen's SBOM", async () => {
    const dir = variant('sbom', (d) => writeFileSync(join(d, '2026-01-19-hostile.sbom.xz'), 'junk!'));
    const out = join(work, 'out-sbom');
    const run = await runBounded(['package', dir, '--out', out], { timeoutMs: 30_000 });
    refusedInput(
      run,
      '2026-01-19-hostile.sbom.xz',
      'INPUT_INVALID',
      /pi-gen's SBOM .* is not a readable \.xz file \(remove it from the deploy directory to package without it\)/,
      out,
    );
    // A real .xz that is not an SPDX document: refused too, after reading only its head.
    const other = variant('sbom2', (d) => {
      writeFileSync(join(d, '2026-01-19-hostile.sbom'), JSON.stringify({ hello: 'world' }));
      execFileSync('xz', [join(d, '2026-01-19-hostile.sbom')]);
    });
    const run2 = await runBounded(['package', other, '--out', out], { timeoutMs: 30_000 });
    refusedInput(run2, '2026-01-19-hostile.sbom.xz', 'INPUT_INVALID', /is not an SPDX JSON document/, out);
  });

  it('an oci: layout whose index.json is corrupt', async () => {
    const layout = join(work, 'layout');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(layout, 'index.json'), '{"manifests": [{"digest": "sha256:../../etc/passwd"');
    const out = join(work, 'out-layout');
    const run = await runBounded(['pull', `oci:${layout}:1.0.0`, out], { timeoutMs: 30_000 });
    refusedInput(run, join(layout, 'index.json'), 'INPUT_INVALID', /is not an OCI image index/, out);
    writeFileSync(join(layout, 'index.json'), '{"manifests": [{"digest": "sha256:../../etc/passwd", "size": 1}]}');
    const run2 = await runBounded(['pull', `oci:${layout}:1.0.0`, out], { timeoutMs: 30_000 });
    refusedInput(run2, join(layout, 'index.json'), 'INPUT_INVALID', /lists a manifest without a sha256 digest and a size/, out);
  });

  it('an OCI layout with a FIFO, a link out or a huge file where its blobs belong: refused at once, nothing read past its size', async () => {
    const release = join(work, 'release-for-layout');
    const made = await runBounded(['package', deploy, '--out', release, '--compression-level', '0', '-q'], { timeoutMs: 60_000 });
    expect(made.code, made.stderr).toBe(0);
    const layout = join(work, 'blob-layout');
    const published = await runBounded(['publish', release, `oci:${layout}`, '--format', 'artifact', '--json'], { timeoutMs: 60_000 });
    expect(published.code, published.stderr).toBe(0);
    const digest = (JSON.parse(published.stdout) as { digest: string }).digest;
    const blobs = join(layout, 'blobs', 'sha256');
    const manifest = JSON.parse(readFileSync(join(blobs, digest.slice(7)), 'utf8')) as { layers: { digest: string; size: number }[] };
    const layer = join(blobs, [...manifest.layers].sort((a, b) => b.size - a.size)[0]!.digest.slice(7));
    const saved = readFileSync(layer);
    const out = join(work, 'out-blob-layout');
    const restore = (): void => {
      rmSync(layer, { force: true });
      writeFileSync(layer, saved);
    };

    rmSync(layer);
    execFileSync('mkfifo', [layer]);
    refusedInput(
      await runBounded(['pull', `oci:${layout}@${digest}`, out], { timeoutMs: 30_000 }),
      layer,
      'INPUT_INVALID',
      /is not a regular file \(a FIFO\)/,
      out,
    );
    // Copying the layout on reads the same blobs: refused the same way, no tag written where it was going.
    const copy = join(work, 'copy-layout');
    refusedInput(
      await runBounded(['publish', `oci:${layout}`, `oci:${copy}`], { timeoutMs: 30_000 }),
      layer,
      'INPUT_INVALID',
      /is not a regular file \(a FIFO\)/,
    );
    expect(existsSync(join(copy, 'index.json')) ? readFileSync(join(copy, 'index.json'), 'utf8') : '').not.toContain('stable');

    rmSync(layer);
    symlinkSync('/etc/passwd', layer);
    const link = await runBounded(['pull', `oci:${layout}@${digest}`, out], { timeoutMs: 30_000 });
    refusedInput(link, layer, 'INPUT_INVALID', /is not a regular file \(a symbolic link\)/, out);
    expect(link.stderr).not.toContain('root:');
    restore();

    // A manifest blob swapped for a sparse 2 GiB file: refused by its size, never read whole.
    const manifestBlob = join(blobs, digest.slice(7));
    truncateSync(manifestBlob, 2 * 1024 ** 3);
    const huge = await runBounded(['pull', `oci:${layout}@${digest}`, out], { timeoutMs: 30_000 });
    expect(expectBounded(huge, 20)).toEqual([]);
    expect(huge.code, huge.stderr).toBe(1);
    expect(huge.stderr).toMatch(
      new RegExp(`manifest ${digest} in ${layout}: .* is 2147483648 bytes, more than the \\d+ a file of its kind may have \\[DIGEST_MISMATCH\\]`),
    );
    expect(existsSync(out)).toBe(false);
  });

  it('publish creates no layout for a release or a layout that is not there', async () => {
    const target = join(work, 'never-layout');
    const missingRelease = await runBounded(['publish', join(work, 'no-such-release'), `oci:${target}`], { timeoutMs: 30_000 });
    expect(missingRelease.code, missingRelease.stderr).toBe(2);
    expect(existsSync(target)).toBe(false);
    const typo = join(work, 'layuot');
    const missingLayout = await runBounded(['publish', `oci:${typo}:1.0.0`, `oci:${target}`], { timeoutMs: 30_000 });
    refusedInput(missingLayout, typo, 'INPUT_INVALID', /is not an OCI image layout \(no oci-layout file\)/);
    expect(existsSync(typo)).toBe(false);
    expect(existsSync(target)).toBe(false);
  });

  it('a garbage trusted root is a bad input (exit 2), not a bad signature', async () => {
    const release = join(work, 'release');
    const made = await runBounded(['package', deploy, '--out', release, '--compression-level', '0', '-q'], { timeoutMs: 60_000 });
    expect(made.code, made.stderr).toBe(0);
    for (const text of ['{}', '{"certificateAuthorities": "x"}', 'not json']) {
      const root = join(work, 'root.json');
      writeFileSync(root, text);
      const run = await runBounded(['verify', release, '--repository', 'acme/appliance', '--trusted-root', root], { timeoutMs: 30_000 });
      refusedInput(run, root, 'INPUT_INVALID', /trusted root/);
      expect(run.stderr).not.toMatch(/SIGNATURE_INVALID|SIGNATURE_MISSING/);
    }
  });
});
