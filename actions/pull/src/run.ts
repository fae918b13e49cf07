/** What the pull action does with its parsed inputs. Imported by tests; runs nothing on import. */
import type { Logger } from '../../../src/lib/core/logger';
import { storeOptionsFor } from '../../../src/lib/oci/registry-access';
import { openStore } from '../../../src/lib/oci/open-store';
import { pullRelease, type PullResult } from '../../../src/lib/publishing/pull';
import { summariseSigner } from '../../../src/lib/signing/signer-certificate';
import { loadTrustedRoot } from '../../../src/lib/signing/trusted-root';
import type { PullInputs } from './inputs';

export interface PullActionIo {
  logger: Logger;
  env: Record<string, string | undefined>;
  setOutput(name: string, value: string): void;
}

export async function runPull(inputs: PullInputs, io: PullActionIo): Promise<PullResult> {
  const { store } = await openStore(inputs.target, storeOptionsFor(inputs.target, inputs.access, io.env, io.logger, false));
  const result = await pullRelease({
    store,
    reference: inputs.reference,
    outDir: inputs.outDir,
    force: inputs.force,
    verify: inputs.policy ? { policy: inputs.policy, trustedRoot: await loadTrustedRoot(inputs.trustedRoot) } : undefined,
    logger: io.logger,
  });
  io.setOutput('release-dir', inputs.outDir);
  io.setOutput('digest', result.digest);
  io.setOutput('reference', result.reference);
  io.setOutput('version', result.version);
  if (result.verified) {
    const signer = summariseSigner(result.verified.signer);
    io.setOutput('identity', signer.identity);
    io.setOutput('source-repository', signer.sourceRepository ?? '');
  }
  return result;
}
