/**
 * A real release directory written as an OCI artifact into an OCI image
 * layout on disk, read and copied to a real registry by skopeo (an
 * independent client), then pulled back blob by blob, every digest checked.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { EMPTY_CONFIG } from '../../src/lib/oci/media-types';
import { OciLayout } from '../../src/lib/oci/layout';
import { RegistryClient } from '../../src/lib/oci/registry-client';
import { buildArtifactManifest, releaseAnnotations } from '../../src/lib/oci/release-artifact';
import { readManifest } from '../../src/lib/release/manifest';
import { packageRelease } from '../../src/lib/release/package';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { startRegistry } from '../support/registry';
import { missingTools, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'skopeo', 'docker-registry']);
if (missing.length > 0) skipReason('OCI artifact layout test', `missing: ${missing.join(', ')}`);

describe.skipIf(missing.length > 0)('a release as an OCI artifact in an image layout', () => {
  const work = mkdtempSync(join(tmpdir(), 'oci-artifact-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('skopeo reads the layout and copies it to a registry; pulling it back gives the same files', async () => {
    const deploy = join(work, 'deploy');
    mkdirSync(deploy);
    makeSmallImage(join(deploy, '2026-01-19-appliance.img'));
    writeFileSync(join(deploy, '2026-01-19-appliance.info'), makeInfo(3));
    const releaseDir = join(work, 'release');
    await packageRelease({ deployDir: deploy, outDir: releaseDir, version: '1.2.3', compressionLevel: 0, logger: new MemoryLogger() });
    const release = await readManifest(releaseDir);

    const artifact = await buildArtifactManifest(releaseDir, release, releaseAnnotations(release, { 'org.opencontainers.image.source': 'https://github.com/acme/appliance' }));
    const layout = await OciLayout.open(join(work, 'layout'));
    for (const b of artifact.blobs) await layout.putBlobFile(b.file, b.descriptor.digest);
    await layout.putBlobBytes(EMPTY_CONFIG);
    expect(await layout.putBlobBytes(artifact.bytes)).toBe(artifact.digest);
    await layout.tag(artifact.descriptor, '1.2.3');

    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${join(work, 'layout')}:1.2.3`], { encoding: 'utf8' }));
    expect(inspected.artifactType).toBe('application/vnd.pi-image.release.v1');
    expect(inspected.layers.map((l: { annotations: Record<string, string> }) => l.annotations['org.opencontainers.image.title'])).toContain('appliance.img.xz');

    const registry = await startRegistry();
    try {
      execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${join(work, 'layout')}:1.2.3`, `docker://${registry.host}/acme/appliance:1.2.3`], { stdio: 'ignore' });
      const client = new RegistryClient({ registry: registry.host, logger: new MemoryLogger() });
      const pulled = await client.getManifest('acme/appliance', artifact.digest, ['application/vnd.oci.image.manifest.v1+json']);
      expect(pulled.bytes.equals(artifact.bytes)).toBe(true);
      const manifest = JSON.parse(pulled.bytes.toString());
      const out = join(work, 'pulled');
      mkdirSync(out);
      for (const layer of manifest.layers) {
        const name = layer.annotations['org.opencontainers.image.title'];
        await client.downloadBlob('acme/appliance', layer.digest, join(out, name), layer.size);
        expect(readFileSync(join(out, name)).equals(readFileSync(join(releaseDir, name))), name).toBe(true);
      }
    } finally {
      await registry.close();
    }
  });
});
