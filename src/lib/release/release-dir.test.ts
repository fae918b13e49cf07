import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestBytes } from '../core/file-digest';
import { readSmallFile } from '../core/small-file';
import {
  addReleaseFiles,
  checkFiles,
  diskDigests,
  openReleaseDir,
  readReleaseMetadata,
  readSignature,
  releaseNames,
  ReleaseWriter,
  strayEntries,
  writeBeside,
} from './release-dir';

describe('the release directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'release-dir-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function write(): Promise<void> {
    const w = new ReleaseWriter(dir);
    writeFileSync(w.path('appliance.img.xz'), 'image bytes');
    w.record('appliance.img.xz', 'image', digestBytes('image bytes'));
    await w.writeText('metadata.json', 'metadata', '{"name":"appliance"}\n');
    await w.finish({
      name: 'appliance',
      version: '1.2.3',
      channel: 'stable',
      created: '2026-01-19T00:00:00Z',
      image: { path: 'appliance.img.xz', compression: 'xz', raw: { size: 1, sha256: 'c'.repeat(64) } },
    });
  }

  it('is written file by file, manifest last, and opened again with the same bytes and digests', async () => {
    await write();
    const release = await openReleaseDir(dir);
    expect(release.manifest.files.map((f) => [f.path, f.role, f.mediaType])).toEqual([
      ['appliance.img.xz', 'image', 'application/x-xz'],
      ['metadata.json', 'metadata', 'application/json'],
    ]);
    expect(release.manifestBytes.equals(readFileSync(join(dir, 'manifest.json')))).toBe(true);
    expect(release.signatureFile).toBe('appliance.sigstore.json');
    expect(await readReleaseMetadata(release)).toEqual({ name: 'appliance' });
    expect(await checkFiles(release.manifest.files, diskDigests(dir), dir, 'manifest')).toBe(2);
    expect([...releaseNames(release)].sort()).toEqual(['appliance.img.xz', 'appliance.sigstore.json', 'manifest.json', 'metadata.json', 'os-artifact.ref']);
  });

  it('checks files against digests: missing and modified files by name, against the manifest or the signature', async () => {
    await write();
    const release = await openReleaseDir(dir);
    writeFileSync(join(dir, 'appliance.img.xz'), 'other bytes');
    await expect(checkFiles(release.manifest.files, diskDigests(dir), dir, 'manifest')).rejects.toMatchObject({
      code: 'FILE_MODIFIED',
      message: expect.stringMatching(/appliance\.img\.xz in .* does not match manifest\.json/),
    });
    await expect(checkFiles(release.manifest.files, diskDigests(dir), dir, 'signature')).rejects.toMatchObject({
      code: 'FILE_MODIFIED',
      message: expect.stringMatching(/was modified after signing/),
    });
    rmSync(join(dir, 'appliance.img.xz'));
    await expect(checkFiles(release.manifest.files, diskDigests(dir), dir, 'manifest')).rejects.toMatchObject({ code: 'FILE_MISSING' });
    execFileSync('mkfifo', [join(dir, 'appliance.img.xz')]);
    await expect(checkFiles(release.manifest.files, diskDigests(dir), dir, 'manifest')).rejects.toMatchObject({
      code: 'FILE_MODIFIED',
      message: expect.stringMatching(/not a regular file \(a FIFO\)/),
    });
  });

  it('metadata is trusted only when it matches the manifest', async () => {
    await write();
    writeFileSync(join(dir, 'metadata.json'), '{"name":"evil"}\n');
    await expect(readReleaseMetadata(await openReleaseDir(dir))).rejects.toMatchObject({ code: 'FILE_MODIFIED' });
  });

  it('adds files to a release that is not signed, and refuses once it is (the signature covers the manifest)', async () => {
    await write();
    const before = await openReleaseDir(dir);
    const after = await addReleaseFiles(before, [{ name: 'smoke.txt', role: 'release-notes', content: 'booted\n' }]);
    expect(after.manifest.files.map((f) => f.path)).toEqual(['appliance.img.xz', 'metadata.json', 'smoke.txt']);
    expect((await openReleaseDir(dir)).manifestBytes.equals(after.manifestBytes)).toBe(true);
    await writeBeside(after, after.signatureFile, '{}');
    expect(await readSignature(after)).toEqual(Buffer.from('{}'));
    await expect(addReleaseFiles(after, [{ name: 'late.txt', role: 'release-notes', content: 'x' }])).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: expect.stringMatching(/is signed: adding late\.txt would break its signature/),
    });
    expect(await strayEntries(dir, releaseNames(after))).toEqual([]);
    writeFileSync(join(dir, 'evil.sh'), '');
    expect(await strayEntries(dir, releaseNames(after))).toEqual(['evil.sh']);
  });

  it('adds only plain, unreserved names, writing nothing otherwise', async () => {
    await write();
    const release = await openReleaseDir(dir);
    for (const name of ['../escape.txt', 'manifest.json', 'appliance.sigstore.json', '.hidden']) {
      await expect(addReleaseFiles(release, [{ name, role: 'release-notes', content: 'x' }])).rejects.toMatchObject({ code: 'INTERNAL' });
    }
    expect(existsSync(join(dir, '..', 'escape.txt'))).toBe(false);
    expect((await openReleaseDir(dir)).manifestBytes.equals(release.manifestBytes)).toBe(true);
  });

  it('keeps only the signature and the OCI reference beside the manifest', async () => {
    await write();
    const release = await openReleaseDir(dir);
    await expect(writeBeside(release, 'anything.txt', 'x')).rejects.toMatchObject({ code: 'INTERNAL' });
    await writeBeside(release, 'os-artifact.ref', 'r@sha256:x\n');
    expect((await openReleaseDir(dir)).manifestBytes.equals(release.manifestBytes)).toBe(true);
  });

  it('refuses a directory without a manifest, a manifest too large, and one that is a FIFO, naming it', async () => {
    await expect(openReleaseDir(dir)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringMatching(/is not a release directory: manifest\.json cannot be read/),
    });
    writeFileSync(join(dir, 'big'), Buffer.alloc(2048));
    await expect(readSmallFile(join(dir, 'big'), 1024)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringMatching(/big is 2048 bytes, more than the 1024/),
    });
    writeFileSync(join(dir, 'manifest.json'), Buffer.alloc(5 * 1024 * 1024, 0x20));
    await expect(openReleaseDir(dir)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringMatching(/manifest\.json is 5242880 bytes, more than the 4194304/),
    });
    rmSync(join(dir, 'manifest.json'));
    execFileSync('mkfifo', [join(dir, 'manifest.json')]);
    await expect(openReleaseDir(dir)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringMatching(/manifest\.json is not a regular file \(a FIFO\)/),
    });
  });
});
