/** What the sign action does with its parsed inputs. Imported by tests; runs nothing on import. */
import type { Logger } from '../../../src/lib/core/logger';
import { PiImageError } from '../../../src/lib/core/errors';
import { identityTokenSource } from '../../../src/lib/signing/identity-token';
import { summariseSigner } from '../../../src/lib/signing/signer-certificate';
import { signRelease, type SignResult } from '../../../src/lib/signing/sign';
import type { SignInputs } from './inputs';

export interface SignActionIo {
  logger: Logger;
  env: Record<string, string | undefined>;
  setOutput(name: string, value: string): void;
  /** Records a bundle as a GitHub attestation; returns its id. */
  attest(bundle: unknown, token: string): Promise<string>;
}

export async function runSign(inputs: SignInputs, io: SignActionIo): Promise<SignResult> {
  const { env } = io;
  const result = await signRelease({
    releaseDir: inputs.releaseDir,
    identityToken: identityTokenSource(env),
    serverUrl: env.GITHUB_SERVER_URL,
    fulcioUrl: inputs.fulcioUrl,
    rekorUrl: inputs.rekorUrl,
    tsaUrl: inputs.tsaUrl,
    pigenCommit: inputs.pigenCommit,
    logger: io.logger,
  });
  io.setOutput('bundle-path', result.bundlePath);
  const signer = summariseSigner(result.signer);
  io.setOutput('identity', signer.identity);
  io.setOutput('source-repository', signer.sourceRepository ?? '');
  io.setOutput('signer-workflow', signer.signerWorkflow ?? '');
  if (inputs.attest) {
    if (!inputs.githubToken) throw new PiImageError('INPUT_INVALID', 'input attest needs github-token');
    const id = await io.attest(result.bundle, inputs.githubToken);
    io.logger.info(`GitHub attestation ${id} recorded`);
    io.setOutput('attestation-id', id);
  }
  return result;
}
