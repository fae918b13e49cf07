/**
 * The committed sign action bundle, run as the runner runs it (INPUT_*,
 * GITHUB_OUTPUT), against Sigstore's mock services on loopback, with an
 * identity token in SIGSTORE_ID_TOKEN standing in for GitHub's OIDC token
 * and a loopback server standing in for GitHub's attestation API.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { packageRelease } from '../../src/lib/release/package';
import { verifyRelease } from '../../src/lib/signing/verify';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { GITHUB_ISSUER, startSigstoreMock } from '../support/sigstore-mock';
import { REPO_ROOT } from '../support/test-image';
import { missingTools, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz']);
if (missing.length > 0) skipReason('sign action test', `missing tools: ${missing.join(', ')}`);
const run = promisify(execFile);

describe.skipIf(missing.length > 0)('actions/sign bundle', () => {
  const work = mkdtempSync(join(tmpdir(), 'sign-action-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('signs the release, sets its outputs and records the attestation', async () => {
    const mock = await startSigstoreMock();
    const posted: { url: string; auth: string; body: string }[] = [];
    const api = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        posted.push({ url: req.url ?? '', auth: req.headers.authorization ?? '', body });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"id": 4242}');
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    try {
      const deploy = join(work, 'deploy');
      mkdirSync(deploy);
      makeSmallImage(join(deploy, '2026-01-19-appliance.img'));
      writeFileSync(join(deploy, '2026-01-19-appliance.info'), makeInfo(2));
      await packageRelease({ deployDir: deploy, outDir: join(work, 'release'), version: '1.0.0', compressionLevel: 0, logger: new MemoryLogger() });
      const outputFile = join(work, 'output');
      writeFileSync(outputFile, '');
      const workflow = 'acme/appliance/.github/workflows/release.yml@refs/tags/v1.0.0';
      const r = await run(process.execPath, [join(REPO_ROOT, 'actions/sign/dist/index.cjs')], {
        cwd: work,
        env: {
          PATH: process.env.PATH,
          GITHUB_OUTPUT: outputFile,
          'INPUT_RELEASE-DIR': 'release',
          'INPUT_FULCIO-URL': mock.url,
          'INPUT_REKOR-URL': mock.url,
          INPUT_ATTEST: 'true',
          'INPUT_GITHUB-TOKEN': 'ghs_secret',
          SIGSTORE_ID_TOKEN: mock.githubToken({ repository: 'acme/appliance', ref: 'refs/tags/v1.0.0', jobWorkflowRef: workflow }),
          // What the environment says is not what the action reports: the certificate is.
          GITHUB_WORKFLOW_REF: 'acme/appliance/.github/workflows/not-the-signer.yml@refs/heads/elsewhere',
          GITHUB_REPOSITORY: 'acme/appliance',
          GITHUB_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        },
      }).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
      expect(r.stdout).not.toMatch(/::error/);
      expect(r.stdout).toContain('::add-mask::ghs_secret');
      const outputs = readFileSync(outputFile, 'utf8');
      expect(outputs).toMatch(/bundle-path<<\S+\nrelease\/appliance\.sigstore\.json\n/);
      expect(outputs).toMatch(/attestation-id<<\S+\n4242\n/);
      expect(outputs).toMatch(new RegExp(`identity<<\\S+\nhttps://github.com/${workflow}\n`));
      expect(outputs).toMatch(/source-repository<<\S+\nhttps:\/\/github\.com\/acme\/appliance\n/);
      expect(outputs).toMatch(new RegExp(`signer-workflow<<\\S+\nhttps://github.com/${workflow}\n`));
      expect(posted).toHaveLength(1);
      expect(posted[0]!.url).toBe('/repos/acme/appliance/attestations');
      expect(posted[0]!.auth).toBe('Bearer ghs_secret');
      expect(JSON.parse(posted[0]!.body).bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      const verified = await verifyRelease({
        releaseDir: join(work, 'release'),
        policy: {
          issuer: GITHUB_ISSUER,
          repository: 'https://github.com/acme/appliance',
          signerWorkflow: 'https://github.com/acme/appliance/.github/workflows/release.yml',
        },
        trustedRoot: mock.trustedRoot,
        logger: new MemoryLogger(),
      });
      expect(verified.identity).toBe(`https://github.com/${workflow}`);
    } finally {
      await mock.close();
      await new Promise<void>((r) => api.close(() => r()));
    }
  });
});
