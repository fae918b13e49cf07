/**
 * A real Sigstore round trip on loopback: a Fulcio of the tests' own that
 * issues certificates as Fulcio does for GitHub Actions (subject and GitHub
 * extensions from the token's claims), Sigstore's mock Rekor and timestamp
 * authority, and a matching trusted root. A real release directory (packaged
 * from a real small image) is signed, then verified by sigstore-js's
 * verifier and pi-image's policy; each way a release or its signer can be
 * wrong must fail with its own code.
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  cpSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness } from '@sigstore/sign';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { packageRelease } from '../../src/lib/release/package';
import { signRelease } from '../../src/lib/signing/sign';
import { parseSignerPolicy, SIGNER_OPTION_NAMES, type SignerOptionValues, type SignerPolicy } from '../../src/lib/signing/signer-policy';
import { verifyRelease } from '../../src/lib/signing/verify';
import { ACME_POLICY, ACME_RUN, WORKFLOW_IDENTITY } from '../support/release-fixture';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { GITHUB_ISSUER, startSigstoreMock, type GithubRun, type SigstoreMock } from '../support/sigstore-mock';
import { missingTools, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'openssl', 'sha256sum', 'mkfifo']);
if (missing.length > 0) skipReason('sign and verify round trip', `missing tools: ${missing.join(', ')}`);

/** The reusable pipeline of pi-image-release, as another organisation's repository calls it. */
const PIPELINE = 'pi-org/pi-image-release/.github/workflows/pipeline.yml';
/** acme/appliance's release workflow on main calling the pipeline at v1. */
const PRODUCT_THROUGH_PIPELINE: GithubRun = {
  repository: 'acme/appliance',
  ref: 'refs/heads/main',
  workflowRef: 'acme/appliance/.github/workflows/release.yml@refs/heads/main',
  jobWorkflowRef: `${PIPELINE}@refs/tags/v1`,
};
/** The CLI's parsing of signer options, so the policies below are what a user's flags give. */
const policyOf = (values: SignerOptionValues): SignerPolicy => parseSignerPolicy(values, (k) => `--${SIGNER_OPTION_NAMES[k]}`)!;

describe.skipIf(missing.length > 0)('sign and verify a release (GitHub-shaped Fulcio and Sigstore mocks on loopback)', () => {
  let mock: SigstoreMock;
  let work: string;
  let signed: string;

  async function release(dir: string, version = '1.2.3', channel: 'stable' | 'nightly' = 'stable'): Promise<void> {
    const deploy = join(work, `deploy-${version}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(deploy, { recursive: true });
    makeSmallImage(join(deploy, '2026-01-19-appliance.img'));
    writeFileSync(join(deploy, '2026-01-19-appliance.info'), makeInfo(4));
    await packageRelease({ deployDir: deploy, outDir: dir, version, channel, compressionLevel: 0, logger: new MemoryLogger(), sourceDateEpoch: 1768780800 });
  }

  const sign = (dir: string, run: GithubRun = ACME_RUN, tsa = false) =>
    signRelease({
      releaseDir: dir,
      identityToken: async () => mock.githubToken(run),
      fulcioUrl: mock.url,
      rekorUrl: mock.url,
      ...(tsa ? { tsaUrl: mock.url } : {}),
      pigenCommit: 'ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5',
      logger: new MemoryLogger(),
    });
  const verify = (dir: string, policy: SignerPolicy = ACME_POLICY) =>
    verifyRelease({ releaseDir: dir, policy, trustedRoot: mock.trustedRoot, logger: new MemoryLogger() });
  const failure = async (dir: string, policy?: SignerPolicy): Promise<{ code?: string; message: string }> => {
    const e = await verify(dir, policy).then(
      () => new Error('verified'),
      (x: unknown) => x as Error,
    );
    return e;
  };
  /** A fresh copy of a signed release to tamper with. */
  const copy = (from = signed): string => {
    const dir = join(work, `copy-${Math.random().toString(36).slice(2)}`);
    cpSync(from, dir, { recursive: true });
    return dir;
  };
  const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const writeManifest = (dir: string, m: unknown) => writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);

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

  it('signs manifest.json (its exact bytes, as sha256sum sees them) and every file it lists; the bundle lies beside the manifest', () => {
    const manifest = manifestOf(signed);
    expect(manifest.files.map((f: { path: string }) => f.path)).not.toContain('appliance.sigstore.json');
    const bundle = JSON.parse(readFileSync(join(signed, 'appliance.sigstore.json'), 'utf8'));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    const subjects = new Map(statement.subject.map((s: { name: string; digest: { sha256: string } }) => [s.name, s.digest.sha256]));
    const sha256sum = execFileSync('sha256sum', ['manifest.json', ...manifest.files.map((f: { path: string }) => f.path)], { cwd: signed, encoding: 'utf8' });
    for (const line of sha256sum.trim().split('\n')) {
      const [digest, name] = line.split(/ +/);
      expect(subjects.get(name!), name).toBe(digest);
    }
    expect(subjects.size).toBe((manifest.files as unknown[]).length + 1);
    expect(statement.predicate.buildDefinition.externalParameters.release).toEqual({ name: 'appliance', version: '1.2.3', channel: 'stable' });
    expect(statement.predicate.runDetails.builder.id).toBe(WORKFLOW_IDENTITY);
    expect(statement.predicate.buildDefinition.resolvedDependencies).toContainEqual({
      name: 'pi-gen',
      uri: 'git+https://github.com/RPi-Distro/pi-gen',
      digest: { gitCommit: 'ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5' },
    });
  });

  it("issues certificates as Fulcio does for GitHub: openssl reads the subject and the caller's repository in the extensions", async () => {
    const dir = join(work, 'through-pipeline');
    await release(dir);
    const result = await sign(dir, PRODUCT_THROUGH_PIPELINE);
    const bundle = JSON.parse(readFileSync(join(dir, 'appliance.sigstore.json'), 'utf8'));
    const pem = `-----BEGIN CERTIFICATE-----\n${bundle.verificationMaterial.certificate.rawBytes}\n-----END CERTIFICATE-----\n`;
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
    expect(text).toContain(`URI:https://github.com/${PIPELINE}@refs/tags/v1`);
    expect(text).toMatch(/1\.3\.6\.1\.4\.1\.57264\.1\.12:\s*\n\s*.*https:\/\/github\.com\/acme\/appliance\s*\n/);
    expect(text).toMatch(
      /1\.3\.6\.1\.4\.1\.57264\.1\.18:\s*\n\s*.*https:\/\/github\.com\/acme\/appliance\/\.github\/workflows\/release\.yml@refs\/heads\/main/,
    );
    // What the sign step reports is what the certificate says, not what the environment says.
    expect(result.signer).toMatchObject({
      subject: `https://github.com/${PIPELINE}@refs/tags/v1`,
      issuer: GITHUB_ISSUER,
      extensions: {
        buildSignerUri: `https://github.com/${PIPELINE}@refs/tags/v1`,
        sourceRepositoryUri: 'https://github.com/acme/appliance',
        sourceRepositoryRef: 'refs/heads/main',
        buildConfigUri: 'https://github.com/acme/appliance/.github/workflows/release.yml@refs/heads/main',
        runnerEnvironment: 'github-hosted',
      },
    });
  });

  it('verifies with sigstore-js, then the signer, the manifest and every file', async () => {
    const r = await verify(signed);
    expect(r).toMatchObject({ identity: WORKFLOW_IDENTITY, issuer: GITHUB_ISSUER, files: manifestOf(signed).files.length });
    expect(r.signer.extensions.sourceRepositoryUri).toBe('https://github.com/acme/appliance');
  });

  describe('a release built by a product repository through the reusable pipeline', () => {
    let viaPipeline: string;
    beforeAll(async () => {
      viaPipeline = join(work, 'via-pipeline');
      await release(viaPipeline);
      await sign(viaPipeline, PRODUCT_THROUGH_PIPELINE);
    });

    it('verifies with two options: the repository and the pipeline as signer workflow', async () => {
      const policy = policyOf({ repository: 'acme/appliance', signerWorkflow: PIPELINE });
      expect(policy).toEqual({
        issuer: GITHUB_ISSUER,
        repository: 'https://github.com/acme/appliance',
        signerWorkflow: `https://github.com/${PIPELINE}`,
        sourceRef: undefined,
        githubHosted: false,
      });
      await expect(verify(viaPipeline, policy)).resolves.toMatchObject({ identity: `https://github.com/${PIPELINE}@refs/tags/v1` });
      await expect(
        verify(
          viaPipeline,
          policyOf({ repository: 'acme/appliance', signerWorkflow: `${PIPELINE}@refs/tags/v*`, sourceRef: 'refs/heads/main', requireGithubHosted: true }),
        ),
      ).resolves.toBeDefined();
    });

    it('refuses the same pipeline called from another repository (REPOSITORY_MISMATCH), even when only the subject was pinned', async () => {
      const stranger = join(work, 'stranger');
      await release(stranger);
      await sign(stranger, { ...PRODUCT_THROUGH_PIPELINE, repository: 'evil/fork', workflowRef: 'evil/fork/.github/workflows/release.yml@refs/heads/main' });
      const byRepo = await failure(stranger, policyOf({ repository: 'acme/appliance', signerWorkflow: PIPELINE }));
      expect(byRepo).toMatchObject({ code: 'REPOSITORY_MISMATCH' });
      expect(byRepo.message).toMatch(/built from https:\/\/github\.com\/evil\/fork, not https:\/\/github\.com\/acme\/appliance/);
      // The certificate subject is identical to the product's: a subject-only policy would accept it.
      // Without --repository, the pinned repository defaults to the signer workflow's own.
      const bySubject = policyOf({ certificateIdentity: `https://github.com/${PIPELINE}@refs/tags/v1` });
      expect(bySubject.repository).toBe('https://github.com/pi-org/pi-image-release');
      expect(await failure(stranger, bySubject)).toMatchObject({ code: 'REPOSITORY_MISMATCH' });
      expect(() => policyOf({ certificateIdentityRegexp: 'https://github\\.com/pi-org/.*', certificateOidcIssuer: GITHUB_ISSUER })).toThrow(
        /--repository is required/,
      );
    });

    it('refuses a wrong source ref, another signer workflow, and a self-hosted runner when GitHub-hosted is required, each with its own code', async () => {
      expect(await failure(viaPipeline, policyOf({ repository: 'acme/appliance', signerWorkflow: PIPELINE, sourceRef: 'refs/tags/v*' }))).toMatchObject({
        code: 'SOURCE_REF_MISMATCH',
      });
      expect(
        await failure(viaPipeline, policyOf({ repository: 'acme/appliance', signerWorkflow: 'acme/appliance/.github/workflows/release.yml' })),
      ).toMatchObject({ code: 'SIGNER_WORKFLOW_MISMATCH' });
      expect(await failure(viaPipeline, policyOf({ repository: 'acme/appliance', signerWorkflow: `${PIPELINE}@refs/tags/v2` }))).toMatchObject({
        code: 'SIGNER_WORKFLOW_MISMATCH',
      });
      const selfHosted = join(work, 'self-hosted');
      await release(selfHosted);
      await sign(selfHosted, { ...PRODUCT_THROUGH_PIPELINE, runnerEnvironment: 'self-hosted' });
      await expect(verify(selfHosted, policyOf({ repository: 'acme/appliance', signerWorkflow: PIPELINE }))).resolves.toBeDefined();
      const e = await failure(selfHosted, policyOf({ repository: 'acme/appliance', signerWorkflow: PIPELINE, requireGithubHosted: true }));
      expect(e).toMatchObject({ code: 'RUNNER_MISMATCH' });
      expect(e.message).toMatch(/self-hosted/);
    });
  });

  it("verifies this project's own release (release.yml calling pipeline.yml on main)", async () => {
    const own = join(work, 'own');
    await release(own);
    await sign(own, {
      repository: 'pi-org/pi-image-release',
      ref: 'refs/heads/main',
      workflowRef: 'pi-org/pi-image-release/.github/workflows/release.yml@refs/heads/main',
      jobWorkflowRef: 'pi-org/pi-image-release/.github/workflows/pipeline.yml@refs/heads/main',
    });
    await expect(
      verify(own, policyOf({ repository: 'pi-org/pi-image-release', signerWorkflow: PIPELINE, sourceRef: 'refs/heads/main' })),
    ).resolves.toBeDefined();
    // The old documented pattern (release.yml at a tag) cannot match a real release: the signer is pipeline.yml on main.
    const old = policyOf({
      repository: 'pi-org/pi-image-release',
      certificateIdentityRegexp: 'https://github\\.com/pi-org/pi-image-release/\\.github/workflows/release\\.yml@refs/tags/v.*',
    });
    expect(await failure(own, old)).toMatchObject({ code: 'IDENTITY_MISMATCH' });
  });

  it('accepts an anchored identity pattern, and refuses longer or look-alike identities', async () => {
    const pattern = (p: string): SignerPolicy => ({ ...ACME_POLICY, signerWorkflow: undefined, subject: { pattern: p } });
    const acme = 'https://github\\.com/acme/appliance/\\.github/workflows/release\\.yml@refs/tags/v.*';
    await expect(verify(signed, pattern(acme))).resolves.toBeDefined();
    expect(await failure(signed, pattern('https://github\\.com/acme/appliance/\\.github/workflows/release\\.yml'))).toMatchObject({
      code: 'IDENTITY_MISMATCH',
    });
    expect(await failure(signed, pattern('https://github.com/acme/app'))).toMatchObject({ code: 'IDENTITY_MISMATCH' });
    // A look-alike repository whose name starts with the product's: a real certificate for it, refused by the anchored pattern.
    const lookalike = join(work, 'lookalike');
    await release(lookalike);
    await sign(lookalike, {
      repository: 'acme/appliance-evil',
      ref: 'refs/tags/v1.2.3',
      workflowRef: 'acme/appliance-evil/.github/workflows/release.yml@refs/tags/v1.2.3',
    });
    const e = await failure(lookalike, { ...pattern(acme), repository: 'https://github.com/acme/appliance-evil' });
    expect(e).toMatchObject({ code: 'IDENTITY_MISMATCH' });
    expect(e.message).toMatch(/signed by https:\/\/github\.com\/acme\/appliance-evil\//);
    expect(await failure(lookalike, pattern(acme))).toMatchObject({ code: 'IDENTITY_MISMATCH' });
  });

  it('pins the repository by its numeric id too, when asked', async () => {
    const run = await verify(signed);
    const id = run.signer.extensions.sourceRepositoryIdentifier!;
    expect(id).toMatch(/^\d+$/);
    await expect(verify(signed, { ...ACME_POLICY, repositoryId: id })).resolves.toBeDefined();
    expect(await failure(signed, { ...ACME_POLICY, repositoryId: '1' })).toMatchObject({
      code: 'REPOSITORY_MISMATCH',
      message: expect.stringMatching(/re-created under the same name has a new id/),
    });
  });

  it.each([
    [
      'a modified file',
      'FILE_MODIFIED',
      /appliance\.img\.xz in .* was modified after signing/,
      (d: string) => appendFileSync(join(d, 'appliance.img.xz'), 'x'),
    ],
    ['a missing file', 'FILE_MISSING', /appliance\.bmap is signed but missing/, (d: string) => unlinkSync(join(d, 'appliance.bmap'))],
    [
      'an extra unsigned file',
      'FILE_UNSIGNED',
      /evil\.sh is in .* but not covered by the signature/,
      (d: string) => writeFileSync(join(d, 'evil.sh'), 'rm -rf /'),
    ],
    [
      'a symbolic link in place of a signed file',
      'FILE_MODIFIED',
      /appliance\.bmap.*not a regular file \(a symbolic link\)/,
      (d: string) => {
        renameSync(join(d, 'appliance.bmap'), join(d, 'bmap-elsewhere'));
        symlinkSync('bmap-elsewhere', join(d, 'appliance.bmap'));
        unlinkSync(join(d, 'bmap-elsewhere'));
      },
    ],
    [
      'a 1 TiB sparse file in place of a small one (refused by its size, not read)',
      'FILE_MODIFIED',
      /appliance\.bmap in .* was modified after signing: 1099511627776 bytes, signed \d+/,
      (d: string) => {
        unlinkSync(join(d, 'appliance.bmap'));
        const fd = openSync(join(d, 'appliance.bmap'), 'w');
        ftruncateSync(fd, 2 ** 40);
        closeSync(fd);
      },
    ],
    [
      'a symbolic link as the bundle',
      'BUNDLE_CORRUPT',
      /appliance\.sigstore\.json cannot be read as a Sigstore bundle: .*a symbolic link/,
      (d: string) => {
        renameSync(join(d, 'appliance.sigstore.json'), join(d, 'elsewhere.json'));
        symlinkSync('elsewhere.json', join(d, 'appliance.sigstore.json'));
      },
    ],
    [
      'the right bundle under another name',
      'BUNDLE_CORRUPT',
      /the signature is in other\.sigstore\.json; a release named appliance keeps it in appliance\.sigstore\.json/,
      (d: string) => renameSync(join(d, 'appliance.sigstore.json'), join(d, 'other.sigstore.json')),
    ],
    [
      'a second bundle',
      'BUNDLE_CORRUPT',
      /several signatures \(appliance\.sigstore\.json, other\.sigstore\.json\)/,
      (d: string) => copyFileSync(join(d, 'appliance.sigstore.json'), join(d, 'other.sigstore.json')),
    ],
    [
      'a FIFO in place of a signed file (no hang)',
      'FILE_MODIFIED',
      /appliance\.bmap.*not a regular file \(a FIFO\)/,
      (d: string) => {
        unlinkSync(join(d, 'appliance.bmap'));
        execFileSync('mkfifo', [join(d, 'appliance.bmap')]);
      },
    ],
    [
      'a corrupt bundle',
      'BUNDLE_CORRUPT',
      /appliance\.sigstore\.json is not a readable Sigstore bundle/,
      (d: string) => writeFileSync(join(d, 'appliance.sigstore.json'), '{"mediaType": "nope"'),
    ],
    [
      'a bundle whose signature was altered',
      'SIGNATURE_INVALID',
      /does not verify/,
      (d: string) => {
        const p = join(d, 'appliance.sigstore.json');
        const b = JSON.parse(readFileSync(p, 'utf8'));
        const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
        sig[sig.length - 5] = sig[sig.length - 5]! ^ 0xff;
        b.dsseEnvelope.signatures[0].sig = sig.toString('base64');
        writeFileSync(p, JSON.stringify(b));
      },
    ],
    ['no signature at all', 'SIGNATURE_MISSING', /is not signed/, (d: string) => unlinkSync(join(d, 'appliance.sigstore.json'))],
  ])('fails on %s with its own code', async (_label, code, message, tamper) => {
    const dir = copy();
    tamper(dir);
    const error = await failure(dir);
    expect(error).toMatchObject({ code });
    expect(error.message).toMatch(message);
  });

  describe('the signed statement, not the unsigned manifest, is the truth', () => {
    it.each([
      [
        "a file's entry removed from manifest.json and the file replaced",
        /no longer lists appliance\.bmap/,
        (d: string) => {
          const m = manifestOf(d);
          m.files = m.files.filter((f: { path: string }) => f.path !== 'appliance.bmap');
          writeManifest(d, m);
          unlinkSync(join(d, 'appliance.bmap'));
        },
      ],
      [
        'manifest.json reduced to nothing and every file replaced',
        /no longer lists .*appliance\.img\.xz/,
        (d: string) => {
          const m = manifestOf(d);
          for (const f of m.files) writeFileSync(join(d, f.path), 'replaced');
          m.files = [];
          writeManifest(d, m);
        },
      ],
      ['the channel edited', /channel "nightly", signed "stable"/, (d: string) => writeManifest(d, { ...manifestOf(d), channel: 'nightly' })],
      [
        "the raw image's digest edited",
        /other fields were edited/,
        (d: string) => {
          const m = manifestOf(d);
          m.image.raw.sha256 = 'f'.repeat(64);
          writeManifest(d, m);
        },
      ],
      ['the creation time edited', /other fields were edited/, (d: string) => writeManifest(d, { ...manifestOf(d), created: '2030-01-01T00:00:00Z' })],
      ['manifest.json replaced by null', /it is not a JSON object/, (d: string) => writeFileSync(join(d, 'manifest.json'), 'null')],
      [
        'manifest.json replaced by text that is not JSON',
        /it is not a JSON object/,
        (d: string) => writeFileSync(join(d, 'manifest.json'), '{"schemaVersion": 1,'),
      ],
      [
        'manifest.json replaced by a FIFO (no hang)',
        /manifest\.json is not a regular file \(a FIFO\)/,
        (d: string) => {
          unlinkSync(join(d, 'manifest.json'));
          execFileSync('mkfifo', [join(d, 'manifest.json')]);
        },
      ],
      [
        'manifest.json replaced by a symbolic link to the signed bytes',
        /manifest\.json is not a regular file \(a symbolic link\)/,
        (d: string) => {
          renameSync(join(d, 'manifest.json'), join(d, 'real.json'));
          symlinkSync('real.json', join(d, 'manifest.json'));
        },
      ],
      [
        "a file's digest changed in the manifest to match a replaced file",
        /lists other digests for RELEASE_NOTES\.md/,
        (d: string) => {
          writeFileSync(join(d, 'RELEASE_NOTES.md'), 'all good, flash me\n');
          const m = manifestOf(d);
          const notes = m.files.find((f: { path: string }) => f.path === 'RELEASE_NOTES.md');
          notes.sha256 = execFileSync('sha256sum', [join(d, 'RELEASE_NOTES.md')], { encoding: 'utf8' }).slice(0, 64);
          notes.size = 19;
          writeManifest(d, m);
        },
      ],
    ])('refuses %s (MANIFEST_MODIFIED)', async (_label, message, tamper) => {
      const dir = copy();
      tamper(dir);
      const error = await failure(dir);
      expect(error).toMatchObject({ code: 'MANIFEST_MODIFIED' });
      expect(error.message).toMatch(message);
    });

    it('refuses a manifest whose version was edited, naming both releases (RELEASE_MISMATCH)', async () => {
      const dir = copy();
      writeManifest(dir, { ...manifestOf(dir), version: '1.2.4' });
      const e = await failure(dir);
      expect(e).toMatchObject({ code: 'RELEASE_MISMATCH' });
      expect(e.message).toMatch(/the signature is for release appliance 1\.2\.3; manifest\.json in .* names appliance 1\.2\.4/);
    });

    it('refuses a nightly relabelled stable', async () => {
      const nightly = join(work, 'nightly');
      await release(nightly, '1.2.4-nightly.20261123.1', 'nightly');
      await sign(nightly);
      await expect(verify(nightly)).resolves.toBeDefined();
      writeManifest(nightly, { ...manifestOf(nightly), channel: 'stable' });
      const e = await failure(nightly);
      expect(e).toMatchObject({ code: 'MANIFEST_MODIFIED' });
      expect(e.message).toMatch(/channel "stable", signed "nightly"/);
    });

    it('refuses a signature over a statement that does not cover manifest.json, or covers no file (STATEMENT_INVALID)', async () => {
      const signStatement = async (dir: string, subject: { name: string; digest: { sha256: string } }[]): Promise<void> => {
        const statement = {
          _type: 'https://in-toto.io/Statement/v1',
          subject,
          predicateType: 'https://slsa.dev/provenance/v1',
          predicate: {
            buildDefinition: { buildType: 'x', externalParameters: { release: { name: 'appliance', version: '1.2.3', channel: 'stable' } } },
            runDetails: { builder: { id: 'x' } },
          },
        };
        const builder = new DSSEBundleBuilder({
          signer: new FulcioSigner({ fulcioBaseURL: mock.url, identityProvider: { getToken: async () => mock.githubToken(ACME_RUN) } }),
          witnesses: [new RekorWitness({ rekorBaseURL: mock.url, entryType: 'intoto' })],
        });
        const bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: 'application/vnd.in-toto+json' });
        writeFileSync(join(dir, 'appliance.sigstore.json'), JSON.stringify(bundleToJSON(bundle)));
      };
      const filesOnly = copy();
      await signStatement(
        filesOnly,
        manifestOf(filesOnly).files.map((f: { path: string; sha256: string }) => ({ name: f.path, digest: { sha256: f.sha256 } })),
      );
      const e1 = await failure(filesOnly);
      expect(e1).toMatchObject({ code: 'STATEMENT_INVALID' });
      expect(e1.message).toMatch(/does not cover manifest\.json/);
      const empty = copy();
      await signStatement(empty, []);
      expect(await failure(empty)).toMatchObject({ code: 'STATEMENT_INVALID', message: expect.stringMatching(/does not cover manifest\.json/) });
      const manifestSha = (d: string) => execFileSync('sha256sum', [join(d, 'manifest.json')], { encoding: 'utf8' }).slice(0, 64);
      const manifestOnly = copy();
      await signStatement(manifestOnly, [{ name: 'manifest.json', digest: { sha256: manifestSha(manifestOnly) } }]);
      expect(await failure(manifestOnly)).toMatchObject({ code: 'STATEMENT_INVALID', message: expect.stringMatching(/covers no release file/) });
      // The right manifest, but files the manifest does not list (or with other digests): the two must agree.
      const disagree = copy();
      await signStatement(disagree, [
        { name: 'manifest.json', digest: { sha256: manifestSha(disagree) } },
        { name: 'appliance.img.xz', digest: { sha256: 'e'.repeat(64) } },
      ]);
      expect(await failure(disagree)).toMatchObject({ code: 'STATEMENT_INVALID', message: expect.stringMatching(/disagree about appliance\.img\.xz/) });
    });

    it('refuses a statement that names another release than its own signed manifest (STATEMENT_INVALID)', async () => {
      const dir = copy();
      const m = manifestOf(dir);
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [
          { name: 'manifest.json', digest: { sha256: execFileSync('sha256sum', [join(dir, 'manifest.json')], { encoding: 'utf8' }).slice(0, 64) } },
          ...m.files.map((f: { path: string; sha256: string }) => ({ name: f.path, digest: { sha256: f.sha256 } })),
        ],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {
          buildDefinition: { buildType: 'x', externalParameters: { release: { name: 'appliance', version: '1.2.3', channel: 'nightly' } } },
          runDetails: { builder: { id: 'x' } },
        },
      };
      const builder = new DSSEBundleBuilder({
        signer: new FulcioSigner({ fulcioBaseURL: mock.url, identityProvider: { getToken: async () => mock.githubToken(ACME_RUN) } }),
        witnesses: [new RekorWitness({ rekorBaseURL: mock.url, entryType: 'intoto' })],
      });
      const bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: 'application/vnd.in-toto+json' });
      writeFileSync(join(dir, 'appliance.sigstore.json'), JSON.stringify(bundleToJSON(bundle)));
      expect(await failure(dir)).toMatchObject({
        code: 'STATEMENT_INVALID',
        message: expect.stringMatching(/names appliance 1\.2\.3 \(nightly\), the signed manifest\.json appliance 1\.2\.3 \(stable\)/),
      });
    });
  });

  it('fails on a wrong identity and on a wrong issuer, each with its own code', async () => {
    expect(
      await failure(signed, { ...ACME_POLICY, subject: { exact: 'https://github.com/acme/other/.github/workflows/release.yml@refs/tags/v1.2.3' } }),
    ).toMatchObject({ code: 'IDENTITY_MISMATCH' });
    expect(await failure(signed, { ...ACME_POLICY, issuer: 'https://accounts.google.com' })).toMatchObject({ code: 'ISSUER_MISMATCH' });
  });

  it('fails on a bundle from another release', async () => {
    const other = join(work, 'other');
    await release(other, '9.9.9');
    await sign(other);
    const dir = copy();
    copyFileSync(join(other, 'appliance.sigstore.json'), join(dir, 'appliance.sigstore.json'));
    const e = await failure(dir);
    expect(e).toMatchObject({ code: 'RELEASE_MISMATCH' });
    expect(e.message).toMatch(/the signature is for release appliance 9\.9\.9/);
  });

  it('adds an RFC 3161 timestamp when a timestamp authority is given, and still verifies', async () => {
    const dir = join(work, 'with-tsa');
    await release(dir, '3.0.0');
    await sign(dir, ACME_RUN, true);
    const bundle = JSON.parse(readFileSync(join(dir, 'appliance.sigstore.json'), 'utf8'));
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    await expect(verify(dir)).resolves.toMatchObject({ identity: WORKFLOW_IDENTITY });
  });

  it('refuses to sign a directory whose files do not match its manifest', async () => {
    const dir = copy();
    appendFileSync(join(dir, 'RELEASE_NOTES.md'), 'edited');
    await expect(sign(dir)).rejects.toMatchObject({ code: 'FILE_MODIFIED' });
  });
});

describe.skipIf(missing.length > 0)('pi-image sign and verify from the command line', () => {
  it('signs with SIGSTORE_ID_TOKEN; verifies offline with --repository and --signer-workflow, on Node 20 where present', async () => {
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
      const signedOut = await run(process.execPath, [CLI, 'sign', out, '--fulcio-url', mock.url, '--rekor-url', mock.url, '--json', '-q'], {
        env: { ...process.env, SIGSTORE_ID_TOKEN: mock.githubToken(PRODUCT_THROUGH_PIPELINE) },
      });
      expect(JSON.parse(signedOut.stdout)).toMatchObject({
        bundle: join(out, 'appliance.sigstore.json'),
        signer: {
          identity: `https://github.com/${PIPELINE}@refs/tags/v1`,
          sourceRepository: 'https://github.com/acme/appliance',
          sourceRef: 'refs/heads/main',
          runner: 'github-hosted',
        },
      });
      const root = join(work, 'trusted_root.json');
      writeFileSync(root, JSON.stringify(mock.trustedRoot));

      const node20 = findNode20();
      const node = node20 ?? process.execPath;
      if (!node20) skipReason('verify on Node 20', 'no Node 20 binary; verifying with this Node instead');
      const help = await run(node, [CLI, 'verify', '--help']);
      for (const flag of ['--repository', '--signer-workflow', '--source-ref', '--require-github-hosted']) expect(help.stdout).toContain(flag);

      const args = ['verify', out, '--repository', 'acme/appliance', '--signer-workflow', PIPELINE, '--trusted-root', root];
      const ok = await run(node, [CLI, ...args]);
      const listed = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).files.length;
      expect(ok.stdout).toBe(`verified: appliance 2.0.0 (nightly), ${listed} files, signed by https://github.com/${PIPELINE}@refs/tags/v1\n`);

      const stranger = await run(node, [CLI, 'verify', out, '--repository', 'evil/fork', '--signer-workflow', PIPELINE, '--trusted-root', root]).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect(stranger).toMatchObject({ code: 1 });
      expect((stranger as { stderr: string }).stderr).toMatch(/\[REPOSITORY_MISMATCH\]/);

      const usage = await run(node, [CLI, 'verify', out, '--certificate-identity-regexp', '.*', '--trusted-root', root]).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect(usage).toMatchObject({ code: 2 });
      expect((usage as { stderr: string }).stderr).toMatch(/--certificate-oidc-issuer is required/);

      appendFileSync(join(out, 'RELEASE_NOTES.md'), 'tampered');
      const bad = await run(node, [CLI, ...args]).catch((e: { code: number; stderr: string }) => e);
      expect(bad).toMatchObject({ code: 1 });
      expect((bad as { stderr: string }).stderr).toMatch(/RELEASE_NOTES\.md in .* was modified after signing.*\[FILE_MODIFIED\]/);
    } finally {
      await mock.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
