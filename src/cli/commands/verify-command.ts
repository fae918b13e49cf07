import { loadTrustedRoot } from '../../lib/signing/trusted-root';
import { verifyRelease } from '../../lib/signing/verify';
import type { CliCommand } from '../command';
import { usageError } from '../command';
import { SIGNER_HELP, SIGNER_OPTIONS, signerPolicyFromFlags } from '../signer-options';
import { summariseSigner } from '../../lib/signing/signer-certificate';

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'verify a signed release directory: who signed it, and that every file is what was signed',
  usage: 'pi-image verify RELEASE_DIR --repository OWNER/NAME [--signer-workflow WORKFLOW] [options]',
  help: `Verifies the release's Sigstore bundle with sigstore-js (certificate chain to
Fulcio, transparency log entry, signature), checks the signer against the
options below, then checks what was signed: manifest.json's exact bytes and
every file it lists. Fails, each with its own code, on: a modified file or
manifest, a missing file, an extra unsigned file, a bundle for another
release, a corrupt bundle, and a signer from another repository, ref,
workflow, runner, identity or issuer.

${SIGNER_HELP}

Options:
  --json                            print the result as JSON`,
  options: { ...SIGNER_OPTIONS, json: { type: 'boolean' } },
  async run({ values, positionals, logger, stdout }) {
    if (positionals.length !== 1) throw usageError('verify needs exactly one RELEASE_DIR');
    const policy = signerPolicyFromFlags(values);
    if (!policy) throw usageError('say whose signature to accept: --repository OWNER/NAME (and --signer-workflow), or --certificate-identity');
    const result = await verifyRelease({
      releaseDir: positionals[0]!,
      policy,
      trustedRoot: await loadTrustedRoot(values['trusted-root'] as string | undefined),
      logger,
    });
    stdout(
      values.json
        ? `${JSON.stringify({ verified: true, ...summariseSigner(result.signer), files: result.files }, null, 2)}\n`
        : `verified: ${result.release.manifest.name} ${result.release.manifest.version} (${result.release.manifest.channel}), ${result.files} files, signed by ${result.signer.subject}\n`,
    );
    return 0;
  },
};
