/** What the publish action does with its parsed inputs. Imported by tests; runs nothing on import. */
import { join } from 'node:path';
import type { Logger } from '../../../src/lib/core/logger';
import { storeOptionsFor } from '../../../src/lib/oci/registry-access';
import { openStore } from '../../../src/lib/oci/open-store';
import { publishRelease, type PublishResult } from '../../../src/lib/publishing/publish';
import { OCI_REF_FILE } from '../../../src/lib/release/release-dir';
import type { PublishInputs } from './inputs';

export interface PublishActionIo {
  logger: Logger;
  env: Record<string, string | undefined>;
  setOutput(name: string, value: string): void;
  summary?(markdown: string): Promise<void>;
}

export async function runPublish(inputs: PublishInputs, io: PublishActionIo): Promise<PublishResult> {
  const { store } = await openStore(inputs.target, { ...storeOptionsFor(inputs.target, inputs.access, io.env, io.logger, true), mountFrom: inputs.mountFrom });
  const result = await publishRelease({
    releaseDir: inputs.releaseDir,
    store,
    format: inputs.format,
    extraTags: inputs.tags,
    annotations: inputs.annotations,
    force: inputs.force,
    attachSignature: inputs.attachSignature,
    logger: io.logger,
  });
  io.setOutput('digest', result.digest);
  io.setOutput('reference', result.reference);
  io.setOutput('tags', result.tags.join(','));
  io.setOutput('ref-file', join(inputs.releaseDir, OCI_REF_FILE));
  if (result.signature) io.setOutput('signature-digest', result.signature.digest);
  await io.summary?.(
    [
      `### Published ${result.format === 'image' ? 'image' : 'artifact'}`,
      '',
      `\`${result.reference}\``,
      '',
      `Tags: ${result.tags.map((t) => `\`${t}\``).join(', ')}`,
      result.signature ? `Signature attached: \`${result.signature.digest}\` (${result.signature.via})` : 'Not signed: no signature attached.',
      '',
    ].join('\n'),
  );
  return result;
}
