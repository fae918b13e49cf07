import { loadTrustedRoot } from '../../lib/signing/trusted-root';
import { verifyRelease } from '../../lib/signing/verify';
import type { CliCommand } from '../command';
import { usageError } from '../command';

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'verify a signed release directory: who signed it, and that every file is what was signed',
  usage: 'pi-image verify RELEASE_DIR (--certificate-identity ID | --certificate-identity-regexp RE) --certificate-oidc-issuer URL [options]',
  help: `Verifies the release's Sigstore bundle with sigstore-js (certificate chain to
Fulcio, transparency log entry, signature), checks the signer against the
identity and issuer given, then checks every file on disk against the signed
digests. Fails, each with its own code, on: a modified file, a missing file,
an extra unsigned file, a wrong identity, a wrong issuer, a bundle for another
release, a corrupt bundle.

For a GitHub workflow the identity is the workflow file at a ref, e.g.
  --certificate-identity https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/v1.2.3
  --certificate-oidc-issuer https://token.actions.githubusercontent.com
A regexp is anchored at both ends: it must match the whole identity.

Options:
  --certificate-identity ID         the exact signer identity
  --certificate-identity-regexp RE  a pattern for it (anchored)
  --certificate-oidc-issuer URL     the identity's issuer (required)
  --trusted-root FILE               a Sigstore TrustedRoot JSON (offline, or a private
                                    instance); default: the public-good root through TUF
  --json                            print the result as JSON`,
  options: {
    'certificate-identity': { type: 'string' },
    'certificate-identity-regexp': { type: 'string' },
    'certificate-oidc-issuer': { type: 'string' },
    'trusted-root': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals, logger, stdout }) {
    if (positionals.length !== 1) throw usageError('verify needs exactly one RELEASE_DIR');
    const exact = values['certificate-identity'] as string | undefined;
    const pattern = values['certificate-identity-regexp'] as string | undefined;
    const issuer = values['certificate-oidc-issuer'] as string | undefined;
    if ((exact === undefined) === (pattern === undefined)) throw usageError('give one of --certificate-identity or --certificate-identity-regexp');
    if (!issuer) throw usageError('--certificate-oidc-issuer is required');
    const result = await verifyRelease({
      releaseDir: positionals[0]!,
      policy: { identity: exact ?? pattern!, regexp: pattern !== undefined, issuer },
      trustedRoot: await loadTrustedRoot(values['trusted-root'] as string | undefined),
      logger,
    });
    stdout(
      values.json
        ? `${JSON.stringify({ verified: true, identity: result.identity, issuer: result.issuer, files: result.files }, null, 2)}\n`
        : `verified: ${result.files} files signed by ${result.identity}\n`,
    );
    return 0;
  },
};
