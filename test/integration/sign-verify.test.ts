/**
 * A real Sigstore round trip on loopback: Sigstore's own mock Fulcio and Rekor
 * with a matching trusted root; a real release directory (packaged from a real
 * small image) signed, then verified by sigstore-js's verifier, then each way
 * a release can be tampered with must fail with its own code.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, appendFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { packageRelease } from '../../src/lib/release/package';
import { signRelease } from '../../src/lib/signing/sign';
import { verifyRelease } from '../../src/lib/signing/verify';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { GITHUB_ISSUER, startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock';
import { missingTools, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz']);
if (missing.length > 0) skipReason('sign and verify round trip', `missing tools: ${missing.join(', ')}`);

const WORKFLOW = 'https://github.com/acme/appliance/.github/workflows/release.yml@refs/tags/v1.2.3';

describe.skipIf(missing.length > 0)('sign and verify a release (Sigstore mock services on loopback)', () => {
  let mock: SigstoreMock;
  let work: string;
  let signed: string;

  async function release(dir: string, version = '1.2.3'): Promise<void> {
    const deploy = join(work, `deploy-${version}`);
    mkdirSync(deploy, { recursive: true });
    makeSmallImage(join(deploy, '2026-01-19-appliance.img'));
    writeFileSync(join(deploy, '2026-01-19-appliance.info'), makeInfo(4));
    await packageRelease({ deployDir: deploy, outDir: dir, version, channel: 'stable', compressionLevel: 0, logger: new MemoryLogger(), sourceDateEpoch: 1768780800 });
  }

  const sign = (dir: string, sub = WORKFLOW, iss = GITHUB_ISSUER) =>
    signRelease({ releaseDir: dir, identityToken: async () => mock.token(sub, iss), fulcioUrl: mock.url, rekorUrl: mock.url, builderId: sub, pigenCommit: 'ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5', logger: new MemoryLogger() });
  const verify = (dir: string, policy: { identity: string; regexp: boolean; issuer: string } = { identity: WORKFLOW, regexp: false, issuer: GITHUB_ISSUER }) =>
    verifyRelease({ releaseDir: dir, policy, trustedRoot: mock.trustedRoot, logger: new MemoryLogger() });
  /** A fresh copy of the signed release to tamper with. */
  const copy = (): string => {
    const dir = join(work, `copy-${Math.random().toString(36).slice(2)}`);
    cpSync(signed, dir, { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    mock = await startSigstoreMock();
    work = mkdtempSync(join(tmpdir(), 'sign-'));
    signed = join(work, 'release');
    await release(signed);
    await sign(signed);
  });
  afterAll(async () => {
    await mock?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('signs every file of the manifest and adds the bundle to it', () => {
    const manifest = JSON.parse(readFileSync(join(signed, 'manifest.json'), 'utf8'));
    const sig = manifest.files.find((f: { role: string }) => f.role === 'signature');
    expect(sig.path).toBe('appliance.sigstore.json');
    const bundle = JSON.parse(readFileSync(join(signed, sig.path), 'utf8'));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    expect(statement.subject.map((s: { name: string }) => s.name).sort()).toEqual(
      manifest.files.filter((f: { role: string }) => f.role !== 'signature').map((f: { path: string }) => f.path).sort(),
    );
    expect(statement.predicate.buildDefinition.resolvedDependencies).toContainEqual({
      name: 'pi-gen',
      uri: 'git+https://github.com/RPi-Distro/pi-gen',
      digest: { gitCommit: 'ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5' },
    });
    expect(mock.requests).toEqual(['POST /api/v2/signingCert', 'POST /api/v1/log/entries']);
  });

  it('verifies with sigstore-js: certificate, transparency log, signature, identity, every file', async () => {
    const r = await verify(signed);
    const manifest = JSON.parse(readFileSync(join(signed, 'manifest.json'), 'utf8'));
    expect(r).toMatchObject({ identity: WORKFLOW, issuer: GITHUB_ISSUER, files: manifest.files.length - 1 });
  });

  it('accepts an anchored identity pattern, and refuses longer or look-alike identities', async () => {
    await expect(verify(signed, { identity: 'https://github\\.com/acme/appliance/\\.github/workflows/release\\.yml@refs/tags/v.*', regexp: true, issuer: GITHUB_ISSUER })).resolves.toBeDefined();
    await expect(verify(signed, { identity: 'https://github\\.com/acme/appliance/\\.github/workflows/release\\.yml', regexp: true, issuer: GITHUB_ISSUER })).rejects.toMatchObject({ code: 'IDENTITY_MISMATCH' });
    await expect(verify(signed, { identity: 'https://github.com/acme/app', regexp: true, issuer: GITHUB_ISSUER })).rejects.toMatchObject({ code: 'IDENTITY_MISMATCH' });
  });

  it.each([
    ['a modified file', 'FILE_MODIFIED', /appliance\.img\.xz was modified after signing/, (d: string) => appendFileSync(join(d, 'appliance.img.xz'), 'x')],
    ['a missing file', 'FILE_MISSING', /appliance\.bmap is signed but missing/, (d: string) => unlinkSync(join(d, 'appliance.bmap'))],
    ['an extra unsigned file', 'FILE_UNSIGNED', /evil\.sh is in .* but not covered by the signature/, (d: string) => writeFileSync(join(d, 'evil.sh'), 'rm -rf /')],
    ['a corrupt bundle', 'BUNDLE_CORRUPT', /appliance\.sigstore\.json is not a readable Sigstore bundle/, (d: string) => writeFileSync(join(d, 'appliance.sigstore.json'), '{"mediaType": "nope"')],
    ['a bundle whose signature was altered', 'SIGNATURE_INVALID', /does not verify/, (d: string) => {
      const p = join(d, 'appliance.sigstore.json');
      const b = JSON.parse(readFileSync(p, 'utf8'));
      const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
      sig[sig.length - 5] ^= 0xff;
      b.dsseEnvelope.signatures[0].sig = sig.toString('base64');
      writeFileSync(p, JSON.stringify(b));
    }],
  ])('fails on %s with its own code', async (_label, code, message, tamper) => {
    const dir = copy();
    tamper(dir);
    const error = await verify(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
  });

  it('fails on a wrong identity and on a wrong issuer, each with its own code', async () => {
    await expect(verify(signed, { identity: 'https://github.com/acme/other/.github/workflows/release.yml@refs/tags/v1.2.3', regexp: false, issuer: GITHUB_ISSUER })).rejects.toMatchObject({
      code: 'IDENTITY_MISMATCH',
    });
    await expect(verify(signed, { identity: WORKFLOW, regexp: false, issuer: 'https://accounts.google.com' })).rejects.toMatchObject({ code: 'ISSUER_MISMATCH' });
  });

  it("fails on a bundle from another release", async () => {
    const other = join(work, 'other');
    await release(other, '9.9.9');
    await sign(other);
    const dir = copy();
    copyFileSync(join(other, 'appliance.sigstore.json'), join(dir, 'appliance.sigstore.json'));
    await expect(verify(dir)).rejects.toMatchObject({ code: 'RELEASE_MISMATCH' });
  });

  it('adds an RFC 3161 timestamp when a timestamp authority is given, and still verifies', async () => {
    const dir = join(work, 'with-tsa');
    await release(dir, '3.0.0');
    await signRelease({ releaseDir: dir, identityToken: async () => mock.token(WORKFLOW), fulcioUrl: mock.url, rekorUrl: mock.url, tsaUrl: mock.url, builderId: WORKFLOW, logger: new MemoryLogger() });
    const bundle = JSON.parse(readFileSync(join(dir, 'appliance.sigstore.json'), 'utf8'));
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    await expect(verify(dir)).resolves.toMatchObject({ identity: WORKFLOW });
  });

  it('refuses to sign a directory whose files do not match its manifest', async () => {
    const dir = copy();
    appendFileSync(join(dir, 'RELEASE_NOTES.md'), 'edited');
    await expect(sign(dir)).rejects.toMatchObject({ code: 'FILE_MODIFIED' });
  });
});

describe.skipIf(missing.length > 0)('pi-image sign and verify from the command line', () => {
  it('signs with SIGSTORE_ID_TOKEN and verifies offline with a trusted root file, on Node 20 where present', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { CLI, findNode20 } = await import('../support/cli');
    const run = promisify(execFile);
    const mock = await startSigstoreMock();
    const work = mkdtempSync(join(tmpdir(), 'sign-cli-'));
    try {
      const deploy = join(work, 'deploy');
      mkdirSync(deploy);
      makeSmallImage(join(deploy, '2026-01-19-appliance.img'));
      writeFileSync(join(deploy, '2026-01-19-appliance.info'), makeInfo(2));
      const out = join(work, 'release');
      await run(process.execPath, [CLI, 'package', deploy, '--out', out, '--version', '2.0.0', '--compression-level', '0', '-q']);
      // Signing talks to the mock in this process: the CLI must run asynchronously.
      const signed = await run(process.execPath, [CLI, 'sign', out, '--fulcio-url', mock.url, '--rekor-url', mock.url, '-q'], {
        env: { ...process.env, SIGSTORE_ID_TOKEN: mock.token(WORKFLOW) },
      });
      expect(signed.stdout.trim()).toBe(join(out, 'appliance.sigstore.json'));
      const root = join(work, 'trusted_root.json');
      writeFileSync(root, JSON.stringify(mock.trustedRoot));

      const node20 = findNode20();
      const node = node20 ?? process.execPath;
      if (!node20) skipReason('verify on Node 20', 'no Node 20 binary; verifying with this Node instead');
      const args = ['verify', out, '--certificate-identity-regexp', 'https://github\\.com/acme/appliance/\\.github/workflows/release\\.yml@refs/tags/v.+', '--certificate-oidc-issuer', GITHUB_ISSUER, '--trusted-root', root];
      const ok = await run(node, [CLI, ...args]);
      expect(ok.stdout).toMatch(/^verified: \d+ files signed by https:\/\/github\.com\/acme\/appliance/);

      appendFileSync(join(out, 'RELEASE_NOTES.md'), 'tampered');
      const bad = await run(node, [CLI, ...args]).catch((e: { code: number; stderr: string }) => e);
      expect(bad).toMatchObject({ code: 1 });
      expect((bad as { stderr: string }).stderr).toMatch(/RELEASE_NOTES\.md was modified after signing.*\[FILE_MODIFIED\]/);
    } finally {
      await mock.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
