import { identityTokenSource } from '../../lib/signing/identity-token';
import { PUBLIC_FULCIO_URL, PUBLIC_REKOR_URL, signRelease } from '../../lib/signing/sign';
import { summariseSigner } from '../../lib/signing/signer-certificate';
import type { CliCommand } from '../command';
import { usageError } from '../command';

export const signCommand: CliCommand = {
  name: 'sign',
  summary: 'sign a release directory with Sigstore (keyless), adding the bundle to it',
  usage: 'pi-image sign RELEASE_DIR [options]',
  help: `Checks every file against manifest.json, then signs an in-toto statement whose
subjects are manifest.json and every file it lists (with a SLSA provenance
predicate) through Fulcio and Rekor, and writes NAME.sigstore.json beside the
manifest. From then on the manifest is sealed: the signature covers its bytes.

The identity token comes from SIGSTORE_ID_TOKEN, or in GitHub Actions from the
job's OIDC token (permissions: id-token: write).

Options:
  --fulcio-url URL          Fulcio (default: ${PUBLIC_FULCIO_URL})
  --rekor-url URL           Rekor (default: ${PUBLIC_REKOR_URL})
  --tsa-url URL             also get an RFC 3161 timestamp from this authority
  --pigen-commit SHA        the pi-gen commit built with, recorded as a resolved dependency
  --builder-id ID           the builder recorded in the provenance (default: the workflow that
                            runs the job, from the identity token; else "pi-image CLI")
  --json                    print the result as JSON`,
  options: {
    'fulcio-url': { type: 'string' },
    'rekor-url': { type: 'string' },
    'tsa-url': { type: 'string' },
    'pigen-commit': { type: 'string' },
    'builder-id': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length !== 1) throw usageError('sign needs exactly one RELEASE_DIR');
    const str = (k: string): string | undefined => values[k] as string | undefined;
    const result = await signRelease({
      releaseDir: positionals[0]!,
      identityToken: identityTokenSource(env),
      serverUrl: env.GITHUB_SERVER_URL,
      fulcioUrl: str('fulcio-url'),
      rekorUrl: str('rekor-url'),
      tsaUrl: str('tsa-url'),
      pigenCommit: str('pigen-commit'),
      builderId: str('builder-id'),
      logger,
    });
    stdout(
      values.json
        ? `${JSON.stringify({ bundle: result.bundlePath, subjects: result.statement.subject.length, signer: summariseSigner(result.signer) }, null, 2)}\n`
        : `${result.bundlePath}\n`,
    );
    return 0;
  },
};
