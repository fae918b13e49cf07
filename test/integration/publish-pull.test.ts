/**
 * Publish and pull against Debian's docker-registry on loopback (open, Basic,
 * Bearer tokens) and OCI layouts on disk, with skopeo and GNU tar as the
 * independent readers; signatures from Sigstore's mock services attached and
 * verified on pull.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PiImageError } from '../../src/lib/core/errors';
import { MemoryLogger } from '../../src/lib/core/logger';
import { copyRelease } from '../../src/lib/oci/copy';
import { OciLayout } from '../../src/lib/oci/layout';
import { publishRelease, type PublishFormat } from '../../src/lib/publishing/publish';
import { pullRelease } from '../../src/lib/publishing/pull';
import { RegistryStore } from '../../src/lib/oci/registry-store';
import { parseReference } from '../../src/lib/oci/reference';
import { startRegistry, type TestRegistry } from '../support/registry';
import { ACME_POLICY, makeRelease, signWithMock, WORKFLOW_IDENTITY } from '../support/release-fixture';
import { startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock';
import { SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';

const run = promisify(execFile);
const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'skopeo', 'docker-registry', 'htpasswd', 'tar']);
if (missing.length > 0) skipReason('publish and pull tests', `missing: ${missing.join(', ')}`);

const skopeo = async (...args: string[]): Promise<string> => (await run('skopeo', args, { maxBuffer: 64 << 20 })).stdout;

/** The release's files as published: everything (manifest.json byte for byte) but os-artifact.ref, which names the artifact. */
function sameFiles(a: string, b: string, ignore: string[] = []): void {
  const skip = new Set(['os-artifact.ref', ...ignore]);
  const names = (d: string) =>
    readdirSync(d)
      .filter((n) => !skip.has(n))
      .sort();
  expect(names(b)).toEqual(names(a));
  for (const n of names(a)) expect(readFileSync(join(b, n)).equals(readFileSync(join(a, n))), n).toBe(true);
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.includes('.partial-'));
}

describe.skipIf(missing.length > 0)('publish and pull', () => {
  let work: string;
  let release: string;
  let other: string;
  let open: TestRegistry;
  const logger = new MemoryLogger();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'publish-'));
    release = await makeRelease(work, 'release');
    other = await makeRelease(work, 'other');
    open = await startRegistry();
  });
  afterAll(async () => {
    await open?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const registryStore = (registry: TestRegistry, repository: string, options: ConstructorParameters<typeof RegistryStore>[2] = {}) =>
    new RegistryStore(parseReference(`${registry.host}/${repository}`), logger, options);
  const copyOf = (dir: string): string => {
    const to = join(work, `copy-${Math.random().toString(36).slice(2)}`);
    cpSync(dir, to, { recursive: true });
    return to;
  };

  it('image format: a tar layer with /artifact that skopeo and GNU tar read, tagged version, channel and build', async () => {
    const dir = copyOf(release);
    const store = registryStore(open, 'acme/ourbox-mini');
    const result = await publishRelease({ releaseDir: dir, store, format: 'image', logger });
    expect(result.tags).toEqual(['1.2.3', 'stable', '20260119-0123456']);
    expect(result.reference).toBe(`${open.host}/acme/ourbox-mini@${result.digest}`);
    expect(readFileSync(join(dir, 'os-artifact.ref'), 'utf8')).toBe(`${result.reference}\n`);
    expect(readFileSync(join(dir, 'manifest.json')).equals(readFileSync(join(release, 'manifest.json'))), 'the manifest is not touched by publishing').toBe(
      true,
    );

    const tags = JSON.parse(await skopeo('list-tags', '--tls-verify=false', `docker://${open.host}/acme/ourbox-mini`)).Tags.sort();
    expect(tags).toEqual(['1.2.3', '20260119-0123456', 'stable']);
    const inspected = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${open.host}/acme/ourbox-mini:stable`));
    expect(inspected.Digest).toBe(result.digest);
    expect(inspected.Architecture).toBe('arm64');
    expect(inspected.Labels['org.opencontainers.image.version']).toBe('1.2.3');
    const raw = JSON.parse(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${open.host}/acme/ourbox-mini:1.2.3`));
    expect(raw.annotations).toMatchObject({
      'org.opencontainers.image.source': 'https://github.com/acme/appliance',
      'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567',
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.title': 'appliance',
      'dev.pi-image.product': 'ourbox',
      'dev.pi-image.device': 'mini',
      'dev.pi-image.sku': 'OBX-MINI-1',
      'dev.pi-image.variant': 'dev',
    });

    // What `docker create` + `docker cp /artifact` sees: skopeo copies the image out, GNU tar unpacks its layer.
    const copied = join(work, 'skopeo-dir');
    await skopeo('copy', '--src-tls-verify=false', `docker://${open.host}/acme/ourbox-mini:1.2.3`, `dir:${copied}`);
    const layer = join(copied, raw.layers[0].digest.slice(7));
    const listing = execFileSync('tar', ['-tvf', layer], { encoding: 'utf8' });
    expect(listing).toMatch(/^h.* artifact\/os\.img\.xz link to artifact\/appliance\.img\.xz$/m);
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xf', layer, '-C', unpacked]);
    expect(readFileSync(join(unpacked, 'artifact/os.img.xz')).equals(readFileSync(join(release, 'appliance.img.xz')))).toBe(true);
    expect(readFileSync(join(unpacked, 'artifact/os.info')).equals(readFileSync(join(release, 'appliance.info')))).toBe(true);
    sameFiles(release, join(unpacked, 'artifact'), ['os.img.xz', 'os.info']);

    const out = join(work, 'pulled-image');
    const pulled = await pullRelease({ store, reference: '1.2.3', outDir: out, logger });
    expect(pulled).toMatchObject({ digest: result.digest, format: 'image', name: 'appliance', version: '1.2.3' });
    sameFiles(release, out);
    expect(readFileSync(join(out, 'os-artifact.ref'), 'utf8')).toBe(`${result.reference}\n`);
    expect(leftovers(work)).toEqual([]);
  });

  it('publishing again gives the same digest; another release under the same version is refused unless forced', async () => {
    const store = registryStore(open, 'acme/again');
    const first = await publishRelease({ releaseDir: copyOf(release), store, format: 'image', logger });
    const second = await publishRelease({ releaseDir: copyOf(release), store, format: 'image', logger });
    expect(second.digest).toBe(first.digest);
    const error = await publishRelease({ releaseDir: copyOf(other), store, format: 'image', logger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PiImageError);
    expect((error as PiImageError).code).toBe('OUTPUT_EXISTS');
    expect((error as Error).message).toMatch(/:1\.2\.3 already points at sha256:.*pass --force/);
    expect(await store.resolveTag('1.2.3')).toBe(first.digest);
    const forced = await publishRelease({ releaseDir: copyOf(other), store, format: 'image', force: true, logger });
    expect(await store.resolveTag('1.2.3')).toBe(forced.digest);
  });

  it('artifact format with Basic auth: one titled blob per file, pulled back the same', async () => {
    const registry = await startRegistry({ basic: { username: 'ci', password: 's3cret' } });
    try {
      const store = registryStore(registry, 'acme/ourbox-mini', { credentials: { username: 'ci', password: 's3cret' } });
      const result = await publishRelease({ releaseDir: copyOf(release), store, format: 'artifact', logger });
      const raw = JSON.parse(
        await skopeo('inspect', '--raw', '--tls-verify=false', '--creds', 'ci:s3cret', `docker://${registry.host}/acme/ourbox-mini:1.2.3`),
      );
      expect(raw.artifactType).toBe('application/vnd.pi-image.release.v1');
      const titles = raw.layers.map((l: { annotations: Record<string, string> }) => l.annotations['org.opencontainers.image.title']).sort();
      expect(titles).toEqual([...readdirSync(release).filter((n) => n !== 'os-artifact.ref')].sort());
      const out = join(work, 'pulled-artifact');
      expect((await pullRelease({ store, reference: result.digest, outDir: out, logger })).format).toBe('artifact');
      sameFiles(release, out);
      const anonymous = registryStore(registry, 'acme/ourbox-mini');
      await expect(pullRelease({ store: anonymous, reference: '1.2.3', outDir: join(work, 'anon'), logger })).rejects.toThrow(/401/);
      expect(existsSync(join(work, 'anon'))).toBe(false);
    } finally {
      await registry.close();
    }
  });

  it('Bearer tokens: pushes with a push token, pulls with an anonymous pull token', async () => {
    const registry = await startRegistry({ token: { username: 'ci', password: 'tok' } });
    try {
      const pusher = registryStore(registry, 'acme/tokens', { credentials: { username: 'ci', password: 'tok' }, allowedRealms: [registry.tokenRealm!] });
      const result = await publishRelease({ releaseDir: copyOf(release), store: pusher, format: 'image', logger });
      const out = join(work, 'pulled-token');
      await pullRelease({ store: registryStore(registry, 'acme/tokens'), reference: 'stable', outDir: out, logger });
      sameFiles(release, out);
      expect(registry.tokenRequests).toContain('ci repository:acme/tokens:pull,push');
      expect(registry.tokenRequests).toContain('anonymous repository:acme/tokens:pull');
      expect(result.digest).toMatch(/^sha256:/);
    } finally {
      await registry.close();
    }
  });

  it('mounts blobs from another repository of the same registry instead of uploading them', async () => {
    await publishRelease({ releaseDir: copyOf(release), store: registryStore(open, 'acme/source'), format: 'artifact', logger });
    const log = new MemoryLogger();
    const target = new RegistryStore(parseReference(`${open.host}/acme/mounted`), log, { mountFrom: ['acme/source'] });
    await publishRelease({ releaseDir: copyOf(release), store: target, format: 'artifact', logger: log });
    const mounted = log.lines.filter((l) => l.message.includes('mounted into'));
    expect(mounted.length).toBeGreaterThanOrEqual(readdirSync(release).length - 1);
    await pullRelease({ store: target, reference: '1.2.3', outDir: join(work, 'pulled-mounted'), logger });
    sameFiles(release, join(work, 'pulled-mounted'));
  });

  it.each(['image', 'artifact'] as PublishFormat[])('%s format: a file changed after packaging is not published', async (format) => {
    const dir = copyOf(release);
    appendFileSync(join(dir, 'appliance.bmap'), '<!-- changed -->');
    const store = registryStore(open, `acme/tampered-${format}`);
    const error = await publishRelease({ releaseDir: dir, store, format, logger }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/appliance\.bmap/);
    expect((error as PiImageError).code).toBe('FILE_MODIFIED');
    expect(await store.resolveTag('1.2.3')).toBeUndefined();
    expect(existsSync(join(dir, 'os-artifact.ref'))).toBe(false);
  });

  it('an OCI layout by default, copied to a registry later unchanged', async () => {
    const layoutDir = join(work, 'layout');
    const layout = await OciLayout.open(layoutDir, { create: true });
    const result = await publishRelease({ releaseDir: copyOf(release), store: layout, format: 'image', logger });
    expect(result.reference).toBe(`oci:${layoutDir}@${result.digest}`);
    const inspected = JSON.parse(await skopeo('inspect', `oci:${layoutDir}:1.2.3`));
    expect(inspected.Digest).toBe(result.digest);

    const store = registryStore(open, 'acme/from-layout');
    await copyRelease(layout, result.digest, ['1.2.3', 'stable'], store, logger);
    expect(await store.resolveTag('1.2.3')).toBe(result.digest);
    const out = join(work, 'pulled-from-copy');
    await pullRelease({ store, reference: 'stable', outDir: out, logger });
    sameFiles(release, out);
    const fromLayout = join(work, 'pulled-from-layout');
    await pullRelease({ store: layout, reference: '1.2.3', outDir: fromLayout, logger });
    sameFiles(release, fromLayout);
  });

  describe('signed releases', () => {
    let mock: SigstoreMock;
    let signed: string;
    beforeAll(async () => {
      mock = await startSigstoreMock();
      signed = copyOf(release);
      await signWithMock(signed, mock);
    });
    afterAll(async () => mock?.close());

    const policy = ACME_POLICY;

    it('attach the bundle to the manifest digest (sha256-<hex> tag: no referrers API here) and verify it on pull', async () => {
      const store = registryStore(open, 'acme/signed');
      const result = await publishRelease({ releaseDir: copyOf(signed), store, format: 'image', logger });
      expect(result.signature?.via).toBe('tag-fallback');
      const fallback = JSON.parse(
        await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${open.host}/acme/signed:${result.digest.replace(':', '-')}`),
      );
      expect(fallback.manifests).toEqual([
        expect.objectContaining({ artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', digest: result.signature!.digest }),
      ]);
      const referrer = JSON.parse(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${open.host}/acme/signed@${result.signature!.digest}`));
      expect(referrer.subject.digest).toBe(result.digest);

      const out = join(work, 'pulled-verified');
      const pulled = await pullRelease({ store, reference: '1.2.3', outDir: out, logger, verify: { policy, trustedRoot: mock.trustedRoot } });
      expect(pulled.verified?.identity).toBe(WORKFLOW_IDENTITY);
      sameFiles(signed, out);
    });

    it('a wrong identity or a missing signature fails the pull and writes nothing', async () => {
      const store = registryStore(open, 'acme/signed');
      const out = join(work, 'pulled-wrong');
      const wrong = { ...policy, subject: { exact: 'https://github.com/evil/fork/.github/workflows/release.yml@refs/tags/v1.2.3' } };
      const e1 = await pullRelease({ store, reference: '1.2.3', outDir: out, logger, verify: { policy: wrong, trustedRoot: mock.trustedRoot } }).catch(
        (e: unknown) => e,
      );
      expect((e1 as PiImageError).code).toBe('IDENTITY_MISMATCH');
      expect(existsSync(out)).toBe(false);
      const unsigned = registryStore(open, 'acme/ourbox-mini');
      const e2 = await pullRelease({ store: unsigned, reference: '1.2.3', outDir: out, logger, verify: { policy, trustedRoot: mock.trustedRoot } }).catch(
        (e: unknown) => e,
      );
      expect((e2 as PiImageError).code).toBe('SIGNATURE_MISSING');
      expect(existsSync(out)).toBe(false);
      expect(leftovers(work)).toEqual([]);
    });

    it('a stripped or doctored release republished with the original signature is refused on a verified pull, nothing written', async () => {
      const doctored = copyOf(signed);
      const manifestPath = join(doctored, 'manifest.json');
      const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
      // Keep only the image, replaced by another one, its entry updated to match: a consistent but unsigned manifest.
      const image = m.files.find((f: { role: string }) => f.role === 'image');
      const evil = readFileSync(join(other, 'appliance.img.xz'));
      writeFileSync(join(doctored, image.path), evil);
      image.size = evil.length;
      image.sha256 = createHash('sha256').update(evil).digest('hex');
      for (const f of m.files) if (f !== image) rmSync(join(doctored, f.path));
      m.files = [image];
      writeFileSync(manifestPath, `${JSON.stringify(m, null, 2)}\n`);
      const store = registryStore(open, 'acme/doctored');
      const published = await publishRelease({ releaseDir: doctored, store, format: 'image', logger });
      expect(published.signature?.via).toBe('tag-fallback');
      // Unverified, it pulls (every file matches its manifest); verified, it does not.
      await pullRelease({ store, reference: '1.2.3', outDir: join(work, 'doctored-unverified'), logger });
      const out = join(work, 'doctored-verified');
      const e = await pullRelease({ store, reference: '1.2.3', outDir: out, logger, verify: { policy, trustedRoot: mock.trustedRoot } }).catch(
        (x: unknown) => x,
      );
      expect(e).toMatchObject({ code: 'MANIFEST_MODIFIED' });
      expect((e as Error).message).toMatch(/no longer lists .*appliance\.bmap.*lists other digests for appliance\.img\.xz/);
      expect(existsSync(out)).toBe(false);
      expect(leftovers(work)).toEqual([]);
    });

    it('travel with a layout copied to a registry (the fallback index comes along)', async () => {
      const layout = await OciLayout.open(join(work, 'signed-layout'), { create: true });
      const result = await publishRelease({ releaseDir: copyOf(signed), store: layout, format: 'artifact', logger });
      const store = registryStore(open, 'acme/signed-copy');
      await copyRelease(layout, result.digest, ['1.2.3'], store, logger);
      const out = join(work, 'pulled-signed-copy');
      const pulled = await pullRelease({ store, reference: '1.2.3', outDir: out, logger, verify: { policy, trustedRoot: mock.trustedRoot } });
      expect(pulled.verified?.files).toBeGreaterThan(5);
    });
  });
});
