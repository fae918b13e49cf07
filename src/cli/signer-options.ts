/**
 * The signer options every verifying command takes (verify and pull):
 * one definition of the flags, their help, and their parsing.
 */
import type { ParseArgsConfig } from 'node:util';
import { GITHUB_ISSUER, parseSignerPolicy, readSignerOptions, SIGNER_OPTION_NAMES, type SignerPolicy } from '../lib/signing/signer-policy';

export const SIGNER_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  repository: { type: 'string' },
  'repository-id': { type: 'string' },
  'signer-workflow': { type: 'string' },
  'source-ref': { type: 'string' },
  'require-github-hosted': { type: 'boolean' },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'trusted-root': { type: 'string' },
};

export const SIGNER_HELP = `Signer (whose signature to accept):
  --repository OWNER/NAME           the repository whose commit was built (the certificate's
                                    source repository). For GitHub's issuer a repository is
                                    always checked: this one, or else the signer workflow's own
  --repository-id N                 also the repository's numeric id (it survives renames; a
                                    repository deleted and re-created under the name gets a new one)
  --signer-workflow OWNER/REPO/.github/workflows/FILE.yml[@REF]
                                    the workflow that signed: a reusable workflow such as
                                    pi-image-release's pipeline.yml, or your own workflow file;
                                    without @REF any ref ('*' in REF matches any characters)
  --source-ref REF                  the ref that was built: refs/heads/main, refs/tags/v*
  --require-github-hosted           refuse signatures made on self-hosted runners
  --certificate-identity ID         the exact certificate subject (the signing workflow at its ref)
  --certificate-identity-regexp RE  a pattern for it, anchored at both ends
  --certificate-oidc-issuer URL     the identity's issuer; with the GitHub options above it
                                    defaults to ${GITHUB_ISSUER}
  --trusted-root FILE               a Sigstore TrustedRoot JSON (offline, or a private Sigstore);
                                    default: the public-good root, fetched through TUF

  A release built by a repository through pi-image-release's reusable pipeline:
    --repository acme/appliance --signer-workflow OWNER/pi-image-release/.github/workflows/pipeline.yml`;

/** The policy the flags describe, or undefined when none is given. */
export function signerPolicyFromFlags(values: Record<string, unknown>): SignerPolicy | undefined {
  const options = readSignerOptions((name) => values[name] as string | boolean | undefined);
  return parseSignerPolicy(options, (key) => `--${SIGNER_OPTION_NAMES[key]}`);
}
