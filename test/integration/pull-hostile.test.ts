/**
 * Hostile content in a real registry: blobs whose stored bytes no longer match
 * their digest (corrupted in the registry's own storage), manifests that name
 * files outside the release, tar layers with `../`, absolute paths, symbolic
 * and hard links out, devices, and files manifest.json does not list. Each
 * pull is refused with its own code, and nothing is written: not OUT_DIR, not
 * a staging directory, not a file outside.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PiImageError } from '../../src/lib/core/errors';
import { MemoryLogger } from '../../src/lib/core/logger';
import { OCI_MANIFEST } from '../../src/lib/oci/media-types';
import { publishRelease } from '../../src/lib/publishing/publish';
import { pullRelease } from '../../src/lib/publishing/pull';
import { parseReference } from '../../src/lib/oci/reference';
import { bytesBlobSource, EMPTY_DESCRIPTOR } from '../../src/lib/oci/blob-source';
import { imageConfig, imageManifest } from '../../src/lib/publishing/release-image';
import { OciLayout } from '../../src/lib/oci/layout';
import { RegistryStore } from '../../src/lib/oci/registry-store';
import { TAR_END, tarHeader, tarPadding, ustarBlock } from '../../src/lib/oci/tar-format';
import { startRegistry, type TestRegistry } from '../support/registry';
import { makeRelease } from '../support/release-fixture';
import { SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'docker-registry']);
if (missing.length > 0) skipReason('hostile registry tests', `missing: ${missing.join(', ')}`);

interface Entry {
  name: string;
  typeflag: string;
  data?: Buffer;
  linkname?: string;
}

function tar(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    parts.push(
      ustarBlock({ name: e.name, typeflag: e.typeflag, size: data.length, mode: 0o644, mtime: 0, linkname: e.linkname ?? '' }),
      data,
      tarPadding(data.length),
    );
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

describe.skipIf(missing.length > 0)('pulling from a hostile registry', () => {
  let work: string;
  let release: string;
  let registry: TestRegistry;
  const logger = new MemoryLogger();
  const store = (repo: string) => new RegistryStore(parseReference(`${registry.host}/${repo}`), logger);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'hostile-'));
    release = await makeRelease(work, 'release');
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** Pushes a one-layer image whose layer is `layer`, returns its digest. */
  async function pushImage(repo: string, layer: Buffer): Promise<string> {
    const s = store(repo);
    const layerSource = bytesBlobSource(layer);
    await s.putBlob(layerSource);
    const config = bytesBlobSource(imageConfig(layerSource.descriptor.digest, '2026-01-19T00:00:00Z', {}));
    await s.putBlob(config);
    const manifest = imageManifest({ mediaType: '', ...config.descriptor }, { mediaType: '', ...layerSource.descriptor }, {});
    return (await s.putManifest(manifest, OCI_MANIFEST, 'evil')).digest;
  }

  async function refused(repo: string, code: string, message: RegExp): Promise<void> {
    const out = join(work, 'out');
    const error = await pullRelease({ store: store(repo), reference: 'evil', outDir: out, logger }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(message);
    expect((error as PiImageError).code).toBe(code);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((n) => n.includes('.partial-'))).toEqual([]);
    expect(existsSync(join(work, 'evil'))).toBe(false);
    expect(existsSync('/tmp/pi-image-evil')).toBe(false);
  }

  const manifestJson = () => readFileSync(join(release, 'manifest.json'));

  it('refuses a blob whose stored bytes do not match its digest (corrupted in the registry)', async () => {
    const dir = join(work, 'for-corruption');
    cpSync(release, dir, { recursive: true });
    const published = await publishRelease({ releaseDir: dir, store: store('acme/corrupt'), format: 'image', logger });
    const manifest = JSON.parse((await store('acme/corrupt').getManifest(published.digest)).bytes.toString());
    const hex = manifest.layers[0].digest.slice(7);
    const data = join(registry.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const bytes = readFileSync(data);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff; // inside the image's bytes (the largest file), same size
    writeFileSync(data, bytes);
    await store('acme/corrupt').putManifest(Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST, 'evil');
    await refused('acme/corrupt', 'DIGEST_MISMATCH', /has digest sha256:[0-9a-f]{64}: refused/);
  });

  it('refuses an artifact whose manifest names files outside the release', async () => {
    for (const title of ['../evil', '/tmp/pi-image-evil', 'sub/dir', '.hidden']) {
      const s = store('acme/titles');
      const blob = bytesBlobSource(Buffer.from('payload'));
      await s.putBlob(blob);
      await s.putBlob(bytesBlobSource(Buffer.from('{}')));
      const manifest = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/vnd.pi-image.release.v1',
        config: EMPTY_DESCRIPTOR,
        layers: [{ mediaType: 'text/plain', ...blob.descriptor, annotations: { 'org.opencontainers.image.title': title } }],
      };
      await s.putManifest(Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST, 'evil');
      await refused('acme/titles', 'UNSAFE_ARCHIVE', /not a plain file name: refused/);
    }
  });

  it('refuses a manifest whose descriptors are not sha256 digests (served by a hostile store), writing nothing', async () => {
    // Distribution refuses to store such a manifest; an OCI layout on disk serves whatever it holds.
    const layout = await OciLayout.open(join(work, 'bad-layout'), { create: true });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: EMPTY_DESCRIPTOR,
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: 'sha256:../../../../etc/passwd', size: 1 }],
      }),
    );
    const digest = await layout.putBlobBytes(manifest);
    await layout.tag({ mediaType: OCI_MANIFEST, digest, size: manifest.length }, 'evil');
    const out = join(work, 'out');
    const error = await pullRelease({ store: layout, reference: 'evil', outDir: out, logger }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DIGEST_MISMATCH', message: expect.stringMatching(/: a layer is not a valid descriptor/) });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  const cases: [string, Entry[], RegExp][] = [
    ['a ../ entry', [{ name: 'artifact/../../evil', typeflag: '0', data: Buffer.from('x') }], /climbs out with "\.\."/],
    ['an absolute path', [{ name: '/tmp/pi-image-evil', typeflag: '0', data: Buffer.from('x') }], /absolute path/],
    ['a symbolic link out', [{ name: 'artifact/evil', typeflag: '2', linkname: '/etc/passwd' }], /symbolic link/],
    [
      'a symbolic link inside',
      [
        { name: 'artifact/a', typeflag: '0', data: Buffer.from('x') },
        { name: 'artifact/b', typeflag: '2', linkname: 'a' },
      ],
      /symbolic link/,
    ],
    ['a hard link out', [{ name: 'artifact/evil', typeflag: '1', linkname: '../etc/passwd' }], /climbs out/],
    ['a hard link to a file not extracted', [{ name: 'artifact/evil', typeflag: '1', linkname: 'etc/passwd' }], /outside the release files/],
    ['a device', [{ name: 'artifact/sda', typeflag: '3' }], /device/],
    ['a FIFO', [{ name: 'artifact/fifo', typeflag: '6' }], /FIFO/],
  ];
  it.each(cases)('refuses a tar layer with %s', async (_what, entries, message) => {
    await pushImage('acme/tar', tar(entries));
    await refused('acme/tar', 'UNSAFE_ARCHIVE', message);
  });

  it('refuses a file that manifest.json does not list, and a file that does not match it', async () => {
    const spine = manifestJson();
    await pushImage(
      'acme/extra',
      tar([
        { name: 'artifact/manifest.json', typeflag: '0', data: spine },
        { name: 'artifact/payload.sh', typeflag: '0', data: Buffer.from('#!/bin/sh\n') },
      ]),
    );
    await refused('acme/extra', 'UNSAFE_ARCHIVE', /holds payload\.sh, which manifest\.json does not list/);

    const m = JSON.parse(spine.toString());
    const notes = m.files.find((f: { role: string }) => f.role === 'release-notes');
    const entries: Entry[] = [{ name: 'artifact/manifest.json', typeflag: '0', data: spine }];
    for (const f of m.files) {
      const data = readFileSync(join(release, f.path));
      entries.push({ name: `artifact/${f.path}`, typeflag: '0', data: f.path === notes.path ? Buffer.concat([data, Buffer.from('evil')]) : data });
    }
    await pushImage('acme/changed', tar(entries));
    await refused('acme/changed', 'FILE_MODIFIED', new RegExp(`${notes.path} in .* does not match manifest\\.json`));
  });

  it('says plainly when an image is not a pi-image release (a FROM scratch image with os.img.xz only)', async () => {
    const xz = readFileSync(join(release, 'appliance.img.xz'));
    await pushImage(
      'acme/legacy',
      Buffer.concat([
        tarHeader({ name: 'artifact', type: 'dir', mtime: 0 }),
        tarHeader({ name: 'artifact/os.img.xz', type: 'file', size: xz.length, mtime: 0 }),
        xz,
        tarPadding(xz.length),
        TAR_END,
      ]),
    );
    await refused('acme/legacy', 'INPUT_INVALID', /not a pi-image release: it has no manifest\.json \(it has os\.img\.xz\)/);
  });

  it('names a missing tag', async () => {
    const error = await pullRelease({ store: store('acme/none'), reference: 'nope', outDir: join(work, 'out'), logger }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/has no tag "nope"/);
    expect(existsSync(join(work, 'out'))).toBe(false);
  });
});
