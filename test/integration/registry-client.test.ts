/**
 * The OCI client against a real registry (Debian's docker-registry on
 * loopback), open and with Basic auth, checked by an independent client
 * (skopeo).
 */
import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { fileBlobSource } from '../../src/lib/oci/blob-source';
import { RegistryClient } from '../../src/lib/oci/registry-client';
import { startRegistry } from '../support/registry';
import { missingTools, skipReason } from '../support/tools';

/** A blob's bytes, read through the client's verified, resuming reader. */
async function blobBytes(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

const missing = missingTools(['docker-registry', 'skopeo', 'htpasswd']);
if (missing.length > 0) skipReason('registry client tests', `missing: ${missing.join(', ')}`);

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe.skipIf(missing.length > 0)('registry client against a real registry', () => {
  const work = mkdtempSync(join(tmpdir(), 'oci-client-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  async function pushImage(client: RegistryClient, repository: string, tag: string) {
    const layer = Buffer.from(createHash('sha512').update(tag).digest('hex').repeat(4000));
    const layerFile = join(work, `layer-${tag}`);
    writeFileSync(layerFile, layer);
    const config = Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const configFile = join(work, `config-${tag}`);
    writeFileSync(configFile, config);
    expect(await client.uploadBlob(repository, fileBlobSource(layerFile, { digest: sha(layer), size: layer.length }))).toBe('uploaded');
    expect(await client.uploadBlob(repository, fileBlobSource(layerFile, { digest: sha(layer), size: layer.length }))).toBe('exists');
    await client.uploadBlob(repository, fileBlobSource(configFile, { digest: sha(config), size: config.length }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
      }),
    );
    const digest = await client.putManifest(repository, tag, 'application/vnd.oci.image.manifest.v1+json', manifest);
    return { layer, digest, manifest };
  }

  it('pushes blobs and a manifest that skopeo reads back, and pulls them verified', async () => {
    const registry = await startRegistry();
    try {
      const client = new RegistryClient({ registry: registry.host, logger: new MemoryLogger() });
      const { layer, digest, manifest } = await pushImage(client, 'acme/appliance', 'v1');
      const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/appliance:v1`]);
      expect(raw.equals(manifest)).toBe(true);
      const got = await client.getManifest('acme/appliance', digest, ['application/vnd.oci.image.manifest.v1+json']);
      expect(got.digest).toBe(digest);
      const out = join(work, 'pulled');
      writeFileSync(out, await blobBytes(client.readBlob('acme/appliance', { digest: sha(layer), size: layer.length })));
      expect(readFileSync(out).equals(layer)).toBe(true);
    } finally {
      await registry.close();
    }
  });

  it('authenticates with Basic credentials, and names the registry when they are wrong', async () => {
    const registry = await startRegistry({ basic: { username: 'ci', password: 's3cret' } });
    try {
      const good = new RegistryClient({ registry: registry.host, credentials: { username: 'ci', password: 's3cret' }, logger: new MemoryLogger() });
      await pushImage(good, 'acme/private', 'v1');
      const inspected = execFileSync(
        'skopeo',
        ['inspect', '--raw', '--tls-verify=false', '--creds', 'ci:s3cret', `docker://${registry.host}/acme/private:v1`],
        { encoding: 'utf8' },
      );
      expect(JSON.parse(inspected).schemaVersion).toBe(2);
      const bad = new RegistryClient({ registry: registry.host, credentials: { username: 'ci', password: 'wrong' }, logger: new MemoryLogger() });
      await expect(bad.blobExists('acme/private', `sha256:${'0'.repeat(64)}`)).rejects.toThrow(new RegExp(`on ${registry.host}: 401`));
    } finally {
      await registry.close();
    }
  });

  it('gets Bearer tokens per scope from the token server, caches them, and renews them when they expire', async () => {
    const registry = await startRegistry({ token: { username: 'ci', password: 's3cret', expiresIn: 12 } });
    try {
      // The token server is another origin over plain http: credentials go there only when allowed.
      const withheld = new MemoryLogger();
      const cautious = new RegistryClient({ registry: registry.host, credentials: { username: 'ci', password: 's3cret' }, logger: withheld });
      await expect(pushImage(cautious, 'acme/tokened', 'v0')).rejects.toMatchObject({ code: 'INPUT_INVALID', details: { status: 401 } });
      expect(registry.tokenRequests.every((r) => r.startsWith('anonymous '))).toBe(true);
      expect(withheld.warnings().join('\n')).toMatch(
        /token service http:\/\/127\.0\.0\.1:\d+ is on another origin over plain http: credentials are not sent there/,
      );
      registry.tokenRequests.length = 0;
      const client = new RegistryClient({
        registry: registry.host,
        credentials: { username: 'ci', password: 's3cret' },
        allowedRealms: [registry.tokenRealm!],
        logger: new MemoryLogger(),
      });
      await pushImage(client, 'acme/tokened', 'v1');
      expect(registry.tokenRequests).toEqual(['ci repository:acme/tokened:pull', 'ci repository:acme/tokened:pull,push']);
      // skopeo fetches its own token from the token server in this process: run it asynchronously.
      const inspected = await promisify(execFile)(
        'skopeo',
        ['inspect', '--raw', '--tls-verify=false', '--creds', 'ci:s3cret', `docker://${registry.host}/acme/tokened:v1`],
        { encoding: 'utf8' },
      );
      expect(JSON.parse(inspected.stdout).schemaVersion).toBe(2);
      // Tokens live 12 s and are renewed 10 s early: the next request asks again.
      await new Promise((r) => setTimeout(r, 2500));
      await client.getManifest('acme/tokened', 'v1', ['application/vnd.oci.image.manifest.v1+json']);
      expect(registry.tokenRequests.filter((r) => r === 'ci repository:acme/tokened:pull').length).toBe(2);
      const anonymous = new RegistryClient({ registry: registry.host, logger: new MemoryLogger() });
      await expect(pushImage(anonymous, 'acme/tokened', 'v2')).rejects.toThrow(/401|403/);
    } finally {
      await registry.close();
    }
  });

  it('refuses a blob whose bytes do not match its digest, leaving nothing behind', async () => {
    const registry = await startRegistry();
    try {
      const client = new RegistryClient({ registry: registry.host, logger: new MemoryLogger() });
      const { layer } = await pushImage(client, 'acme/x', 'v2');
      const out = join(work, 'never');
      // Ask for the blob under a digest it does not have by serving it as another size.
      await expect(blobBytes(client.readBlob('acme/x', { digest: sha(layer), size: layer.length - 1 }))).rejects.toThrow(
        /larger than the .* bytes the manifest says/,
      );
      expect(existsSync(out)).toBe(false);
    } finally {
      await registry.close();
    }
  });
});
