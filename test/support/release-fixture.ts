/**
 * Release directories for the publish and pull tests: packaged by the real
 * package step from a real small disk image, optionally signed against the
 * Sigstore mock.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger } from '../../src/lib/core/logger';
import { packageRelease } from '../../src/lib/release/package';
import { signRelease } from '../../src/lib/signing/sign';
import type { SignerPolicy } from '../../src/lib/signing/signer-policy';
import type { GithubRun, SigstoreMock } from './sigstore-mock';
import { GITHUB_ISSUER, startSigstoreMock } from './sigstore-mock';
import { makeInfo, makeSmallImage } from './small-image';

/** acme/appliance's own release workflow, run for the tag v1.2.3 on a GitHub-hosted runner. */
export const ACME_RUN: GithubRun = { repository: 'acme/appliance', ref: 'refs/tags/v1.2.3' };
/** The certificate subject that run gets. */
export const WORKFLOW_IDENTITY = 'https://github.com/acme/appliance/.github/workflows/release.yml@refs/tags/v1.2.3';
/** What a consumer of acme/appliance's releases accepts: that repository, that workflow, any ref. */
export const ACME_POLICY: SignerPolicy = {
  issuer: GITHUB_ISSUER,
  repository: 'https://github.com/acme/appliance',
  signerWorkflow: 'https://github.com/acme/appliance/.github/workflows/release.yml',
};

export async function makeRelease(
  work: string,
  name: string,
  options: {
    version?: string;
    channel?: 'stable' | 'nightly';
    files?: number;
    epoch?: number;
    rootMiB?: number;
    randomMiB?: number;
    /** More files in the image's root file system, path → content. */
    rootFiles?: Record<string, string>;
    /** Edits the root tree before the file system is made (small-image.ts). */
    prepareRoot?: (root: string) => void;
    patchBoot?: (fsImage: string) => void;
    patchRoot?: (fsImage: string) => void;
  } = {},
): Promise<string> {
  const deploy = join(work, `deploy-${name}`);
  mkdirSync(deploy, { recursive: true });
  makeSmallImage(join(deploy, '2026-01-19-appliance.img'), {
    ...(options.rootMiB ? { rootMiB: options.rootMiB } : {}),
    ...(options.prepareRoot ? { prepareRoot: options.prepareRoot } : {}),
    ...(options.patchBoot ? { patchBoot: options.patchBoot } : {}),
    ...(options.patchRoot ? { patchRoot: options.patchRoot } : {}),
    rootFiles: {
      'etc/ourbox/release': 'OURBOX_PRODUCT=ourbox\nOURBOX_DEVICE=mini\nOURBOX_TARGET=rpi5\nOURBOX_SKU=OBX-MINI-1\nOURBOX_VARIANT=dev\n',
      'etc/which-release': `${name}\n`,
      // Bytes xz cannot shrink much, for tests that need a layer of some size.
      ...(options.randomMiB ? { 'var/random.txt': randomBytes(options.randomMiB * 786432).toString('base64') } : {}),
      ...options.rootFiles,
    },
  });
  writeFileSync(join(deploy, '2026-01-19-appliance.info'), makeInfo(options.files ?? 3));
  const outDir = join(work, name);
  await packageRelease({
    deployDir: deploy,
    outDir,
    version: options.version ?? '1.2.3',
    channel: options.channel ?? 'stable',
    compressionLevel: 0,
    logger: new MemoryLogger(),
    sourceDateEpoch: options.epoch ?? 1768780800,
    provenance: { recipe: { repository: 'https://github.com/acme/appliance', commit: '0123456789abcdef0123456789abcdef01234567', ref: 'refs/heads/main' } },
  });
  return outDir;
}

export async function signWithMock(dir: string, mock: SigstoreMock, run: GithubRun = ACME_RUN): Promise<void> {
  await signRelease({
    releaseDir: dir,
    identityToken: async () => mock.githubToken(run),
    fulcioUrl: mock.url,
    rekorUrl: mock.url,
    logger: new MemoryLogger(),
  });
}

/**
 * A release signed by a mock Sigstore that is gone afterwards, and the trusted
 * root to verify it offline (written to WORK/trusted-root.json): what a device
 * pulling from a registry has.
 */
export async function makeSignedRelease(work: string, name: string): Promise<{ release: string; trustedRoot: string }> {
  const mock = await startSigstoreMock();
  try {
    const release = await makeRelease(work, name);
    await signWithMock(release, mock);
    const trustedRoot = join(work, 'trusted-root.json');
    writeFileSync(trustedRoot, JSON.stringify(mock.trustedRoot));
    return { release, trustedRoot };
  } finally {
    await mock.close();
  }
}
