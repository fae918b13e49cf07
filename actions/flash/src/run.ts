/** What the flash action does with its parsed inputs. Imported by tests; runs nothing on import. */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { writeFileAtomic } from '../../../src/lib/core/atomic-file';
import { PiImageError } from '../../../src/lib/core/errors';
import type { Logger } from '../../../src/lib/core/logger';
import { mdCode } from '../../../src/lib/core/markdown-text';
import { describeDisk } from '../../../src/lib/device/disk-policy';
import { flash, type FlashReceipt } from '../../../src/lib/device/flash';
import { flashRules, loadFlashPolicy } from '../../../src/lib/device/flash-policy';
import { describePlan } from '../../../src/lib/device/flash-report';
import { openFlashSource } from '../../../src/lib/device/flash-source';
import { loadTrustedRoot } from '../../../src/lib/signing/trusted-root';
import type { FlashInputs } from './inputs';

export interface FlashActionIo {
  logger: Logger;
  env: Record<string, string | undefined>;
  setOutput(name: string, value: string): void;
  summary?(markdown: string): Promise<void>;
}

export async function runFlash(inputs: FlashInputs, io: FlashActionIo): Promise<FlashReceipt> {
  const rules = flashRules(
    await loadFlashPolicy(inputs.policyFile),
    {
      signer: inputs.signer,
      trustedRoot: inputs.trustedRoot,
      protectLabels: inputs.protectLabels,
      protectSerials: inputs.protectSerials,
      requireSignature: inputs.requireSignature,
    },
    (option) => `input ${option}`,
  );
  const source = await openFlashSource(inputs.source, {
    logger: io.logger,
    verify: rules.signer ? { policy: rules.signer, trustedRoot: await loadTrustedRoot(rules.trustedRoot) } : undefined,
    requireSignature: rules.requireSignature,
  });
  try {
    const receipt = await flash({
      source,
      target: inputs.target,
      policy: { protectedLabels: rules.protectedLabels, protectedSerials: rules.protectedSerials },
      confirm: (plan) => {
        io.logger.info(describePlan(plan));
        if (!inputs.yes) throw new PiImageError('CONFIRMATION_REQUIRED', `input yes is not true: ${describeDisk(plan.device)} was not written`);
        return Promise.resolve();
      },
      verify: inputs.verify,
      zeroUnmapped: inputs.zeroUnmapped,
      logger: io.logger,
    });
    const path = inputs.receipt ?? join(io.env.RUNNER_TEMP ?? tmpdir(), 'flash-receipt.json');
    await writeFileAtomic(path, `${JSON.stringify(receipt, null, 2)}\n`);
    io.setOutput('receipt', path);
    io.setOutput('device', receipt.target.path);
    io.setOutput('serial', receipt.target.serial ?? '');
    io.setOutput('read-back', receipt.verification.readBack);
    await io.summary?.(
      [
        `### Flashed ${receipt.source.release ? mdCode(`${receipt.source.release.name} ${receipt.source.release.version}`) : mdCode(receipt.source.image)}`,
        '',
        `onto ${mdCode(receipt.target.path)} (serial ${mdCode(receipt.target.serial ?? 'none')}): ${receipt.written.bytes} bytes in ${receipt.written.ranges} ranges; read back ${receipt.verification.readBack}`,
        `checked against its ${receipt.source.checkedAgainst}${receipt.source.signer ? `, signed by ${mdCode(receipt.source.signer.identity)}` : ''}`,
        '',
      ].join('\n'),
    );
    return receipt;
  } finally {
    await source.cleanup();
  }
}
