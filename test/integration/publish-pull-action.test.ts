/**
 * The committed publish and pull action bundles, run as the runner runs them
 * (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) against Debian's
 * docker-registry with Basic auth: a signed release published, then pulled
 * with its signature verified against the mock Sigstore's trusted root.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startRegistry, type TestRegistry } from '../support/registry';
import { makeSignedRelease, WORKFLOW_IDENTITY } from '../support/release-fixture';
import { SMALL_IMAGE_TOOLS } from '../support/small-image';
import { REPO_ROOT } from '../support/test-image';
import { missingTools, skipReason } from '../support/tools';

const run = promisify(execFile);
const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'docker-registry', 'htpasswd']);
if (missing.length > 0) skipReason('publish and pull action tests', `missing: ${missing.join(', ')}`);

function outputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]!] = m[3]!;
  return out;
}

describe.skipIf(missing.length > 0)('actions/publish and actions/pull bundles', () => {
  let work: string;
  let registry: TestRegistry;
  let trustedRoot: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'publish-action-'));
    // The actions run in WORK and are given the release as the relative path 'release'.
    ({ trustedRoot } = await makeSignedRelease(work, 'release'));
    registry = await startRegistry({ basic: { username: 'ci', password: 's3cret' } });
  });
  afterAll(async () => {
    await registry?.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function action(name: string, inputs: Record<string, string>) {
    const output = join(work, `${name}-output`);
    const summary = join(work, `${name}-summary`);
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: work,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_REPOSITORY: 'acme/appliance',
      GITHUB_ACTOR: 'octocat',
    };
    // The runner passes every input: the defaults of action.yml (expressions left out), then the ones given.
    const declared = parse(readFileSync(join(REPO_ROOT, `actions/${name}/action.yml`), 'utf8')) as { inputs: Record<string, { default?: string }> };
    for (const [k, d] of Object.entries(declared.inputs)) env[`INPUT_${k.toUpperCase()}`] = d.default && !d.default.includes('${{') ? d.default : '';
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    const r = await run(process.execPath, [join(REPO_ROOT, `actions/${name}/dist/index.cjs`)], { cwd: work, env }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    return { code: 'code' in r && typeof r.code === 'number' ? r.code : 0, stdout: r.stdout, outputs: outputs(output), summary: readFileSync(summary, 'utf8') };
  }

  it('publishes, sets the outputs and a summary, masks the password; pull verifies and writes the release', async () => {
    const p = await action('publish', {
      'release-dir': 'release',
      target: `${registry.host}/acme/appliance`,
      username: 'ci',
      password: 's3cret',
      'github-token': 'gh-token',
    });
    expect(p.code, p.stdout).toBe(0);
    expect(p.stdout).not.toContain('::error');
    expect(p.stdout).toContain('signature attached');
    expect(p.stdout).toContain('::add-mask::s3cret');
    expect(p.outputs.reference).toBe(`${registry.host}/acme/appliance@${p.outputs.digest}`);
    expect(p.outputs.tags).toBe('1.2.3,stable,20260119-0123456');
    expect(p.outputs['signature-digest']).toMatch(/^sha256:/);
    expect(p.summary).toContain(p.outputs.reference);

    const pulled = await action('pull', {
      ref: `${registry.host}/acme/appliance:1.2.3`,
      'out-dir': 'pulled',
      repository: 'acme/appliance',
      'signer-workflow': 'acme/appliance/.github/workflows/release.yml',
      'trusted-root': trustedRoot,
      username: 'ci',
      password: 's3cret',
      force: 'false',
    });
    expect(pulled.code, pulled.stdout).toBe(0);
    expect(pulled.outputs).toMatchObject({
      digest: p.outputs.digest,
      version: '1.2.3',
      identity: WORKFLOW_IDENTITY,
      'source-repository': 'https://github.com/acme/appliance',
      'release-dir': 'pulled',
    });
    expect(readdirSync(join(work, 'pulled'))).toContain('appliance.img.xz');
  });

  it('copies a layout written where no registry was reachable to the registry, signature and tags with it; a missing layout is refused', async () => {
    const offline = await action('publish', { 'release-dir': 'release', target: 'oci:offline', 'github-token': '' });
    expect(offline.code, offline.stdout).toBe(0);
    const copy = await action('publish', {
      'from-layout': 'oci:offline:1.2.3',
      target: `${registry.host}/acme/copied`,
      username: 'ci',
      password: 's3cret',
    });
    expect(copy.code, copy.stdout).toBe(0);
    expect(copy.outputs.digest).toBe(offline.outputs.digest);
    expect(copy.outputs.reference).toBe(`${registry.host}/acme/copied@${offline.outputs.digest}`);
    expect(JSON.parse(copy.outputs.copied!)).toEqual([{ digest: offline.outputs.digest, reference: copy.outputs.reference, tags: ['1.2.3'] }]);
    expect(copy.summary).toContain('Copied 1 release from offline');

    const pulled = await action('pull', {
      ref: `${registry.host}/acme/copied:1.2.3`,
      'out-dir': 'pulled-copy',
      repository: 'acme/appliance',
      'signer-workflow': 'acme/appliance/.github/workflows/release.yml',
      'trusted-root': trustedRoot,
      username: 'ci',
      password: 's3cret',
      force: 'false',
    });
    expect(pulled.code, pulled.stdout).toBe(0);
    expect(pulled.outputs.digest).toBe(offline.outputs.digest);

    const typo = await action('publish', { 'from-layout': 'oci:ofline', target: 'oci:elsewhere', 'github-token': '' });
    expect(typo.code).toBe(1);
    expect(typo.stdout).toMatch(/::error::.*ofline is not an OCI image layout/);
    expect(readdirSync(work)).not.toContain('ofline');
    expect(readdirSync(work)).not.toContain('elsewhere');
  });

  it('fails the step naming the input, and a pull of a wrong identity, with nothing written', async () => {
    const bad = await action('publish', { 'release-dir': 'release', target: `${registry.host}/acme/appliance`, format: 'tarball' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/::error::.*input format "tarball": use image or artifact/);
    const wrong = await action('pull', {
      ref: `${registry.host}/acme/appliance:stable`,
      'out-dir': 'wrong',
      'certificate-identity': 'https://github.com/evil/fork/.github/workflows/release.yml@refs/heads/main',
      'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
      'trusted-root': trustedRoot,
      username: 'ci',
      password: 's3cret',
      force: 'false',
    });
    expect(wrong.stdout).toMatch(/::error::.*does not match/);
    expect(wrong.code).toBe(1);
    expect(readdirSync(work)).not.toContain('wrong');
  });
});
