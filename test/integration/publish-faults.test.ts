/**
 * Publish and pull a real release through a fault-injecting proxy in front of
 * Debian's docker-registry: a connection dropped mid-chunk of the streamed
 * tar layer, 500s and 429s on the way, a download cut off halfway. Both
 * succeed with identical files; when the faults do not stop, the pull fails
 * clearly and leaves nothing.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { publishRelease } from '../../src/lib/publishing/publish';
import { pullRelease } from '../../src/lib/publishing/pull';
import { parseReference } from '../../src/lib/oci/reference';
import { RegistryStore } from '../../src/lib/oci/registry-store';
import { startFaultProxy } from '../support/fault-proxy';
import { startRegistry, type TestRegistry } from '../support/registry';
import { makeRelease } from '../support/release-fixture';
import { SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'docker-registry']);
if (missing.length > 0) skipReason('publish fault tests', `missing: ${missing.join(', ')}`);

describe.skipIf(missing.length > 0)('publish and pull through a faulty network', () => {
  let work: string;
  let release: string;
  let registry: TestRegistry;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'publish-faults-'));
    release = await makeRelease(work, 'release');
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('a streamed image layer survives a dropped chunk and 500/429 answers; the pull survives a cut-off download', async () => {
    const proxy = await startFaultProxy(registry.host, [
      { method: 'PATCH', path: /\/blobs\/uploads\//, fault: 'drop-request', nth: 2 },
      { method: 'PATCH', path: /\/blobs\/uploads\//, fault: 'status-500', nth: 3 },
      { method: 'HEAD', path: /\/blobs\//, fault: 'status-429' },
      { method: 'PUT', path: /\/manifests\//, fault: 'status-500' },
      { method: 'GET', path: /\/blobs\/sha256:/, fault: 'drop-response' },
    ]);
    try {
      const dir = join(work, 'to-publish');
      cpSync(release, dir, { recursive: true });
      const logger = new MemoryLogger();
      // 16 KiB chunks: the small release's layer (about 100 KiB) goes up in several PATCHes.
      const store = new RegistryStore(parseReference(`${proxy.host}/acme/faulty`), logger, { backoffMs: 10, chunkSize: 16 * 1024 });
      const published = await publishRelease({ releaseDir: dir, store, format: 'image', logger });
      const out = join(work, 'pulled');
      await pullRelease({ store, reference: published.digest, outDir: out, logger });
      expect(proxy.injected.map((i) => i.replace(/ \/v2\/.* /, ' '))).toEqual(
        expect.arrayContaining(['PATCH drop-request', 'PATCH status-500', 'HEAD status-429', 'PUT status-500', 'GET drop-response']),
      );
      expect(logger.warnings().join('\n')).toMatch(/retrying/);
      for (const f of readdirSync(release).filter((n) => n !== 'manifest.json'))
        expect(readFileSync(join(out, f)).equals(readFileSync(join(release, f))), f).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('a streamed layer cut off mid-request is sent again (distribution drops a broken upload) and arrives whole', async () => {
    const big = await makeRelease(work, 'big', { rootMiB: 48, randomMiB: 4 });
    const proxy = await startFaultProxy(registry.host, [{ method: 'PATCH', path: /\/blobs\/uploads\//, fault: 'cut-request' }]);
    try {
      const logger = new MemoryLogger();
      const store = new RegistryStore(parseReference(`${proxy.host}/acme/streamed`), logger, { backoffMs: 10 });
      const published = await publishRelease({ releaseDir: big, store, format: 'image', logger, recordReference: false });
      expect(proxy.injected).toEqual([expect.stringMatching(/^PATCH .* cut-request$/)]);
      // distribution drops an upload whose request broke off, so here the resume is a restart; a
      // registry that keeps it resumes from its offset (the chunked test above shows that path).
      expect(logger.warnings().join('\n')).toMatch(/streamed upload at byte \d+[\s\S]*dropped the interrupted upload; starting it again/);
      const out = join(work, 'pulled-streamed');
      await pullRelease({
        store: new RegistryStore(parseReference(`${registry.host}/acme/streamed`), logger),
        reference: published.digest,
        outDir: out,
        logger,
      });
      expect(readFileSync(join(out, 'appliance.img.xz')).equals(readFileSync(join(big, 'appliance.img.xz')))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('a pull whose downloads keep breaking off fails clearly and writes nothing', async () => {
    const direct = new RegistryStore(parseReference(`${registry.host}/acme/cut`), new MemoryLogger());
    const dir = join(work, 'to-cut');
    cpSync(release, dir, { recursive: true });
    const published = await publishRelease({ releaseDir: dir, store: direct, format: 'image', logger: new MemoryLogger() });
    const proxy = await startFaultProxy(registry.host, [{ method: 'GET', path: /\/blobs\/sha256:/, fault: 'drop-response', nth: 'every' }]);
    try {
      const store = new RegistryStore(parseReference(`${proxy.host}/acme/cut`), new MemoryLogger(), { backoffMs: 10, retries: 2 });
      const out = join(work, 'cut');
      await expect(pullRelease({ store, reference: published.digest, outDir: out, logger: new MemoryLogger() })).rejects.toThrow(
        /broke off at byte|socket hang up/,
      );
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(work).filter((n) => n.includes('.partial-'))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
