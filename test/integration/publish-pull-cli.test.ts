/**
 * `pi-image publish` and `pi-image pull` as users run them (the committed CLI
 * bundle) against Debian's docker-registry with Basic auth: credentials from
 * standard input, the default OCI layout and its later copy to the registry,
 * and on Node 20 (the device side) a verified pull followed by `verify`.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNode20, runPiImage } from '../support/cli';
import { startRegistry, type TestRegistry } from '../support/registry';
import { makeSignedRelease, WORKFLOW_IDENTITY } from '../support/release-fixture';
import { SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'docker-registry', 'htpasswd']);
if (missing.length > 0) skipReason('publish and pull CLI tests', `missing: ${missing.join(', ')}`);
const node20 = findNode20();
if (!node20) skipReason('the Node 20 pull', 'no Node 20 binary found (set PI_IMAGE_NODE20)');

describe.skipIf(missing.length > 0)('pi-image publish and pull', () => {
  let work: string;
  let signed: string;
  let registry: TestRegistry;
  let trustedRoot: string;
  const creds = { input: 's3cret\n' };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'publish-cli-'));
    ({ release: signed, trustedRoot } = await makeSignedRelease(work, 'signed'));
    registry = await startRegistry({ basic: { username: 'ci', password: 's3cret' } });
  });
  afterAll(async () => {
    await registry?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('publishes with credentials from standard input and prints the pinned reference', () => {
    const dir = join(work, 'publish-me');
    cpSync(signed, dir, { recursive: true });
    const r = runPiImage(['publish', dir, `${registry.host}/acme/cli`, '--username', 'ci', '--password-stdin', '--json'], creds);
    expect(r.stderr).not.toContain('s3cret');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.reference).toMatch(new RegExp(`^${registry.host}/acme/cli@sha256:[0-9a-f]{64}$`));
    expect(result.signature.via).toBe('tag-fallback');
    expect(readFileSync(join(dir, 'os-artifact.ref'), 'utf8').trim()).toBe(result.reference);

    const bad = runPiImage(['publish', dir, `${registry.host}/acme/cli`, '--username', 'ci', '--password-stdin'], { input: 'wrong\n' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/401/);
    const anonymous = runPiImage(['publish', dir, `${registry.host}/acme/cli`]);
    expect(anonymous.code).toBe(2);
  });

  it('publishes to an OCI layout beside the release by default, then copies it to the registry unchanged', () => {
    const parent = join(work, 'offline');
    mkdirSync(parent);
    const dir = join(parent, 'release');
    cpSync(signed, dir, { recursive: true });
    const r = runPiImage(['publish', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^oci:${parent}/oci-layout@sha256:`));
    const digest = r.stdout.trim().split('@')[1];
    const copy = runPiImage(['publish', `oci:${join(parent, 'oci-layout')}`, `${registry.host}/acme/copied`, '--username', 'ci', '--password-stdin'], creds);
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stdout.trim()).toBe(`${registry.host}/acme/copied@${digest}`);
  });

  it.skipIf(!node20)('pulls and verifies on Node 20, then `verify` passes on the pulled directory', () => {
    const out = join(work, 'device');
    const args = ['--repository', 'acme/appliance', '--signer-workflow', 'acme/appliance/.github/workflows/release.yml', '--trusted-root', trustedRoot];
    const env = { PI_IMAGE_REGISTRY: registry.host, PI_IMAGE_REGISTRY_USERNAME: 'ci', PI_IMAGE_REGISTRY_PASSWORD: 's3cret' };
    const r = runPiImage(['pull', `${registry.host}/acme/cli:stable`, out, '--verify', ...args], { node: node20, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`appliance 1\\.2\\.3 from .*, signed by ${WORKFLOW_IDENTITY}`));
    expect(readdirSync(out)).toContain('appliance.sigstore.json');
    const v = runPiImage(['verify', out, ...args], { node: node20 });
    expect(v.code, v.stderr).toBe(0);

    const again = runPiImage(['pull', `${registry.host}/acme/cli:stable`, out], { node: node20, env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    const wrong = runPiImage(
      [
        'pull',
        `${registry.host}/acme/cli:stable`,
        join(work, 'wrong'),
        '--certificate-identity',
        'https://example.com/x',
        '--certificate-oidc-issuer',
        'https://accounts.example.com',
        '--trusted-root',
        trustedRoot,
      ],
      { node: node20, env },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/ISSUER_MISMATCH/);
    expect(existsSync(join(work, 'wrong'))).toBe(false);
    const stranger = runPiImage(
      [
        'pull',
        `${registry.host}/acme/cli:stable`,
        join(work, 'wrong'),
        '--repository',
        'evil/fork',
        '--signer-workflow',
        'acme/appliance/.github/workflows/release.yml',
        '--trusted-root',
        trustedRoot,
      ],
      { node: node20, env },
    );
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/REPOSITORY_MISMATCH/);
    expect(existsSync(join(work, 'wrong'))).toBe(false);
  });

  it('refuses bad usage with exit 2', () => {
    expect(runPiImage(['publish']).code).toBe(2);
    expect(runPiImage(['publish', signed, 'oci:/tmp/x', '--format', 'tarball']).stderr).toMatch(/--format "tarball": use image or artifact/);
    expect(runPiImage(['pull', `${registry.host}/acme/cli`, join(work, 'x')]).stderr).toMatch(/names no tag or digest/);
    expect(runPiImage(['pull', `${registry.host}/acme/cli:1`, join(work, 'x'), '--verify']).stderr).toMatch(/--verify needs to know whose signature to accept/);
    expect(runPiImage(['publish', signed, `${registry.host}/acme/cli`, '--username', 'ci']).stderr).toMatch(/needs --password-stdin/);
  });
});
