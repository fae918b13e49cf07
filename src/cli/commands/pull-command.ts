import { PiImageError } from '../../lib/core/errors';
import { openStore } from '../../lib/oci/open-store';
import { pullRelease } from '../../lib/publishing/pull';
import { parseTarget } from '../../lib/oci/target';
import { summariseSigner } from '../../lib/signing/signer-certificate';
import { loadTrustedRoot } from '../../lib/signing/trusted-root';
import type { CliCommand } from '../command';
import { usageError } from '../command';
import { SIGNER_HELP, SIGNER_OPTIONS, signerPolicyFromFlags } from '../signer-options';
import { REGISTRY_HELP, REGISTRY_OPTIONS, storeOptions } from './registry-options';

export const pullCommand: CliCommand = {
  name: 'pull',
  summary: 'pull a published release into a directory, every digest checked (and its signature, with --verify)',
  usage: 'pi-image pull REF OUT_DIR [--repository OWNER/NAME --signer-workflow WORKFLOW] [options]',
  help: `Pulls a release published by pi-image publish (either format) into OUT_DIR: every
blob is checked against its digest while it streams, every file against
manifest.json; tar entries that would escape (absolute paths, "..", links,
devices) are refused. With any signer option (or --verify), the Sigstore
bundle attached to the manifest is verified as pi-image verify does (signer,
manifest.json, every file) before OUT_DIR appears. Nothing is left behind on
failure. os-artifact.ref records the pinned reference pulled.

REF: ghcr.io/OWNER/NAME:TAG or ...@sha256:DIGEST, or oci:DIR:TAG for a layout.

${SIGNER_HELP}

Options:
  --verify                          require a signature (the signer options say whose)
  --force                           replace OUT_DIR if it exists
  --json                            print the result as JSON
${REGISTRY_HELP}`,
  options: {
    verify: { type: 'boolean' },
    ...SIGNER_OPTIONS,
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length !== 2) throw usageError('pull needs REF and OUT_DIR');
    const target = parseTarget(positionals[0]!, 'REF');
    const policy = signerPolicyFromFlags(values);
    if (values.verify === true && !policy)
      throw usageError('--verify needs to know whose signature to accept: --repository OWNER/NAME (and --signer-workflow), or --certificate-identity');
    if (!policy && values['trusted-root'] !== undefined) throw usageError('--trusted-root is used to verify: add the signer options');
    const { store, reference } = await openStore(target, storeOptions(target, values, env, logger, false));
    if (!reference) throw new PiImageError('USAGE', `REF "${positionals[0]}" names no tag or digest (add :TAG or @sha256:...)`);
    const result = await pullRelease({
      store,
      reference,
      outDir: positionals[1]!,
      force: values.force === true,
      verify: policy ? { policy, trustedRoot: await loadTrustedRoot(values['trusted-root'] as string | undefined) } : undefined,
      logger,
    });
    const summary = {
      reference: result.reference,
      digest: result.digest,
      format: result.format,
      name: result.name,
      version: result.version,
      files: result.files,
      verified: result.verified ? summariseSigner(result.verified.signer) : null,
    };
    stdout(
      values.json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `${result.name} ${result.version} from ${result.reference}${result.verified ? `, signed by ${result.verified.signer.subject}` : ''}\n`,
    );
    return 0;
  },
};
