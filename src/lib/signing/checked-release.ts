/**
 * A release directory opened for a command that publishes what it says (a
 * feed, a netboot tree): verified against its signature when a signer policy
 * is given, else at least every file checked against manifest.json, with a
 * warning that nothing says who made it.
 */
import type { Logger } from '../core/logger';
import { MANIFEST_FILE } from '../release/manifest';
import { checkFiles, diskDigests, openReleaseDir, type ReleaseDir } from '../release/release-dir';
import type { SignerPolicy } from './signer-policy';
import { verifyRelease } from './verify';

export interface CheckedRelease {
  release: ReleaseDir;
  /** What the files were checked against. */
  checkedAgainst: 'signature' | 'manifest';
  /** The signer's certificate subject, when verified. */
  signer?: string;
}

export interface CheckReleaseOptions {
  policy?: SignerPolicy | undefined;
  trustedRoot?: unknown;
  logger: Logger;
}

export async function openCheckedRelease(dir: string, options: CheckReleaseOptions): Promise<CheckedRelease> {
  if (options.policy) {
    const verified = await verifyRelease({ releaseDir: dir, policy: options.policy, trustedRoot: options.trustedRoot, logger: options.logger });
    return { release: verified.release, checkedAgainst: 'signature', signer: verified.signer.subject };
  }
  const release = await openReleaseDir(dir);
  const files = await checkFiles(release.manifest.files, diskDigests(dir), dir, 'manifest');
  options.logger.warn(
    `${dir}: ${files} files match ${MANIFEST_FILE}, but its signature was not checked (give the signer: --repository OWNER/NAME, or --certificate-identity)`,
  );
  return { release, checkedAgainst: 'manifest' };
}
