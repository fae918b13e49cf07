/**
 * The client through a proxy that breaks requests on purpose, in front of a
 * real registry: pushes survive dropped connections and 500/429 answers (a
 * chunked upload resumes where the registry says it stands); a download cut
 * off halfway fails clearly and leaves nothing behind. skopeo checks the
 * result independently.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { fileBlobSource } from '../../src/lib/oci/blob-source';
import { RegistryClient } from '../../src/lib/oci/registry-client';
import { startFaultProxy } from '../support/fault-proxy';
import { startRegistry } from '../support/registry';
import { missingTools, skipReason } from '../support/tools';

/** A blob's bytes, read through the client's verified, resuming reader. */
async function blobBytes(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

const missing = missingTools(['docker-registry', 'skopeo']);
if (missing.length > 0) skipReason('registry fault tests', `missing: ${missing.join(', ')}`);

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe.skipIf(missing.length > 0)('registry client through a fault-injecting proxy', () => {
  const work = mkdtempSync(join(tmpdir(), 'oci-faults-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const blob = Buffer.concat(
    Array.from({ length: 16 }, (_, i) => createHash('sha512').update(String(i)).digest().toString('hex').repeat(1000).slice(0, 65536)).map((s) =>
      Buffer.from(s),
    ),
  );
  const blobFile = join(work, 'blob');
  writeFileSync(blobFile, blob);

  it('a chunked push resumes after a dropped chunk, and retries 500 and 429', async () => {
    const registry = await startRegistry();
    const proxy = await startFaultProxy(registry.host, [
      { method: 'HEAD', path: /\/blobs\//, fault: 'status-500' },
      { method: 'PATCH', path: /\/blobs\/uploads\//, fault: 'drop-request', nth: 3 },
      { method: 'PATCH', path: /\/blobs\/uploads\//, fault: 'status-500', nth: 6 },
      { method: 'PUT', path: /\/manifests\//, fault: 'status-429' },
    ]);
    try {
      const logger = new MemoryLogger();
      const client = new RegistryClient({ registry: proxy.host, logger, chunkSize: 128 * 1024, backoffMs: 10 });
      expect(await client.uploadBlob('acme/faulty', fileBlobSource(blobFile, { digest: sha(blob), size: blob.length }))).toBe('uploaded');
      const config = Buffer.from('{}');
      writeFileSync(join(work, 'config'), config);
      await client.uploadBlob('acme/faulty', fileBlobSource(join(work, 'config'), { digest: sha(config), size: config.length }));
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha(config), size: config.length },
          layers: [{ mediaType: 'application/octet-stream', digest: sha(blob), size: blob.length }],
        }),
      );
      await client.putManifest('acme/faulty', 'v1', 'application/vnd.oci.image.manifest.v1+json', manifest);
      expect(proxy.injected).toHaveLength(4);
      expect(logger.warnings().some((w) => w.includes('retrying'))).toBe(true);
      // An independent client reads back exactly what was pushed, straight from the registry.
      const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/faulty:v1`]);
      expect(raw.equals(manifest)).toBe(true);
      const out = join(work, 'roundtrip');
      writeFileSync(
        out,
        await blobBytes(new RegistryClient({ registry: registry.host, logger }).readBlob('acme/faulty', { digest: sha(blob), size: blob.length })),
      );
      expect(readFileSync(out).equals(blob)).toBe(true);
    } finally {
      await proxy.close();
      await registry.close();
    }
  });

  it('falls back to chunks when the registry refuses a whole blob as too large (as GHCR does past 4 MiB)', async () => {
    const registry = await startRegistry();
    const proxy = await startFaultProxy(registry.host, [{ method: 'PUT', path: /\/blobs\/uploads\/.*digest=/, fault: 'status-413' }]);
    try {
      const logger = new MemoryLogger();
      const client = new RegistryClient({ registry: proxy.host, logger, backoffMs: 10 });
      expect(await client.uploadBlob('acme/big', fileBlobSource(blobFile, { digest: sha(blob), size: blob.length }))).toBe('uploaded');
      expect(logger.warnings().join('\n')).toMatch(/refused a \d+-byte upload as too large; uploading in 4 MiB chunks/);
      const out = join(work, 'big');
      writeFileSync(
        out,
        await blobBytes(new RegistryClient({ registry: registry.host, logger }).readBlob('acme/big', { digest: sha(blob), size: blob.length })),
      );
      expect(readFileSync(out).equals(blob)).toBe(true);
    } finally {
      await proxy.close();
      await registry.close();
    }
  });

  it('a download cut off halfway resumes from where it broke (Range) and is verified', async () => {
    const registry = await startRegistry();
    const direct = new RegistryClient({ registry: registry.host, logger: new MemoryLogger() });
    await direct.uploadBlob('acme/cut', fileBlobSource(blobFile, { digest: sha(blob), size: blob.length }));
    const proxy = await startFaultProxy(registry.host, [{ method: 'GET', path: /\/blobs\/sha256:/, fault: 'drop-response' }]);
    try {
      const out = join(work, 'resumed');
      const logger = new MemoryLogger();
      writeFileSync(
        out,
        await blobBytes(new RegistryClient({ registry: proxy.host, logger, backoffMs: 10 }).readBlob('acme/cut', { digest: sha(blob), size: blob.length })),
      );
      expect(proxy.injected).toHaveLength(1);
      expect(logger.warnings().join('\n')).toMatch(/broke off at byte [1-9]/);
      expect(readFileSync(out).equals(blob)).toBe(true);
    } finally {
      await proxy.close();
      await registry.close();
    }
  });

  it('a download that keeps breaking off fails clearly, naming the byte it broke at', async () => {
    const registry = await startRegistry();
    const direct = new RegistryClient({ registry: registry.host, logger: new MemoryLogger() });
    await direct.uploadBlob('acme/cut', fileBlobSource(blobFile, { digest: sha(blob), size: blob.length }));
    const proxy = await startFaultProxy(registry.host, [{ method: 'GET', path: /\/blobs\/sha256:/, fault: 'drop-response', nth: 'every' }]);
    try {
      const client = new RegistryClient({ registry: proxy.host, logger: new MemoryLogger(), backoffMs: 10, retries: 2 });
      await expect(blobBytes(client.readBlob('acme/cut', { digest: sha(blob), size: blob.length }))).rejects.toThrow(/broke off at byte/);
    } finally {
      await proxy.close();
      await registry.close();
    }
  });
});
