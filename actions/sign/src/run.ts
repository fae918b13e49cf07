/** What the sign action does with its parsed inputs. Imported by tests; runs nothing on import. */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../../src/lib/core/logger';
import { PiImageError } from '../../../src/lib/core/errors';
import { identityTokenSource } from '../../../src/lib/signing/identity-token';
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
  const workflow = env.GITHUB_WORKFLOW_REF ? `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_WORKFLOW_REF}` : 'unknown workflow';
  const result = await signRelease({
    releaseDir: inputs.releaseDir,
    identityToken: identityTokenSource(env),
    fulcioUrl: inputs.fulcioUrl,
    rekorUrl: inputs.rekorUrl,
    tsaUrl: inputs.tsaUrl,
    pigenCommit: inputs.pigenCommit,
    builderId: workflow,
    logger: io.logger,
  });
  io.setOutput('bundle-path', result.bundlePath);
  const bundle = JSON.parse(await readFile(result.bundlePath, 'utf8')) as { verificationMaterial?: { certificate?: { rawBytes?: string } } };
  io.setOutput('identity', workflow);
  if (inputs.attest) {
    if (!inputs.githubToken) throw new PiImageError('INPUT_INVALID', 'input attest needs github-token');
    const id = await io.attest(bundle, inputs.githubToken);
    io.logger.info(`GitHub attestation ${id} recorded`);
    io.setOutput('attestation-id', id);
  }
  return result;
}
