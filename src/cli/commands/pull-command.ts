import { PiImageError } from '../../lib/core/errors';
import { openStore } from '../../lib/oci/open-store';
import { pullRelease } from '../../lib/oci/pull';
import { parseTarget } from '../../lib/oci/target';
import { loadTrustedRoot } from '../../lib/signing/trusted-root';
import type { CliCommand } from '../command';
import { usageError } from '../command';
import { REGISTRY_HELP, REGISTRY_OPTIONS, storeOptions } from './registry-options';

export const pullCommand: CliCommand = {
  name: 'pull',
  summary: 'pull a published release into a directory, every digest checked (and its signature, with --verify)',
  usage: 'pi-image pull REF OUT_DIR [--verify (--certificate-identity ID | --certificate-identity-regexp RE) --certificate-oidc-issuer URL] [options]',
  help: `Pulls a release published by pi-image publish (either format) into OUT_DIR: every
blob is checked against its digest while it streams, every file against
manifest.json; tar entries that would escape (absolute paths, "..", links,
devices) are refused. With --verify, the Sigstore bundle attached to the
manifest is verified too (signer identity and issuer, every file) before
OUT_DIR appears. Nothing is left behind on failure. os-artifact.ref records
the pinned reference pulled.

REF: ghcr.io/OWNER/NAME:TAG or ...@sha256:DIGEST, or oci:DIR:TAG for a layout.

Options:
  --verify                          verify the attached signature (implied by the options below)
  --certificate-identity ID         the exact signer identity
  --certificate-identity-regexp RE  a pattern for it (anchored at both ends)
  --certificate-oidc-issuer URL     the identity's issuer
  --trusted-root FILE               a Sigstore TrustedRoot JSON (default: public-good through TUF)
  --force                           replace OUT_DIR if it exists
  --json                            print the result as JSON
${REGISTRY_HELP}`,
  options: {
    verify: { type: 'boolean' },
    'certificate-identity': { type: 'string' },
    'certificate-identity-regexp': { type: 'string' },
    'certificate-oidc-issuer': { type: 'string' },
    'trusted-root': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length !== 2) throw usageError('pull needs REF and OUT_DIR');
    const target = parseTarget(positionals[0]!, 'REF');
    const exact = values['certificate-identity'] as string | undefined;
    const pattern = values['certificate-identity-regexp'] as string | undefined;
    const issuer = values['certificate-oidc-issuer'] as string | undefined;
    const verifying = values.verify === true || exact !== undefined || pattern !== undefined || issuer !== undefined;
    if (verifying) {
      if ((exact === undefined) === (pattern === undefined)) throw usageError('--verify needs one of --certificate-identity or --certificate-identity-regexp');
      if (!issuer) throw usageError('--verify needs --certificate-oidc-issuer');
    }
    const { store, reference } = await openStore(target, storeOptions(target, values, env, logger, false));
    if (!reference) throw new PiImageError('USAGE', `REF "${positionals[0]}" names no tag or digest (add :TAG or @sha256:...)`);
    const result = await pullRelease({
      store,
      reference,
      outDir: positionals[1]!,
      force: values.force === true,
      verify: verifying ? { policy: { identity: exact ?? pattern!, regexp: pattern !== undefined, issuer: issuer! }, trustedRoot: await loadTrustedRoot(values['trusted-root'] as string | undefined) } : undefined,
      logger,
    });
    const summary = { reference: result.reference, digest: result.digest, format: result.format, name: result.name, version: result.version, files: result.files, verified: result.verified ? { identity: result.verified.identity, issuer: result.verified.issuer } : null };
    stdout(values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${result.name} ${result.version} from ${result.reference}${result.verified ? `, signed by ${result.verified.identity}` : ''}\n`);
    return 0;
  },
};
