/** What the publish action does with its parsed inputs. Imported by tests; runs nothing on import. */
import { join } from 'node:path';
import { mdCode, mdText } from '../../../src/lib/core/markdown-text';
import type { Logger } from '../../../src/lib/core/logger';
import { storeOptionsFor } from '../../../src/lib/oci/registry-access';
import { openStore } from '../../../src/lib/oci/open-store';
import { copyLayoutReleases, type CopiedRelease } from '../../../src/lib/publishing/copy-layout';
import { publishRelease, type PublishResult } from '../../../src/lib/publishing/publish';
import type { OciStore } from '../../../src/lib/oci/store';
import { OCI_REF_FILE } from '../../../src/lib/release/release-dir';
import type { PublishInputs } from './inputs';

export interface PublishActionIo {
  logger: Logger;
  env: Record<string, string | undefined>;
  setOutput(name: string, value: string): void;
  summary?(markdown: string): Promise<void>;
}

export async function runPublish(inputs: PublishInputs, io: PublishActionIo): Promise<PublishResult | CopiedRelease[]> {
  const { store } = await openStore(inputs.target, { ...storeOptionsFor(inputs.target, inputs.access, io.env, io.logger, true), mountFrom: inputs.mountFrom });
  if (inputs.source.kind === 'layout') return copyFromLayout(inputs.source, inputs.force, store, io);
  const releaseDir = inputs.source.dir;
  const result = await publishRelease({
    releaseDir,
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
  io.setOutput('ref-file', join(releaseDir, OCI_REF_FILE));
  if (result.signature) io.setOutput('signature-digest', result.signature.digest);
  await io.summary?.(
    [
      `### Published ${result.format === 'image' ? 'image' : 'artifact'}`,
      '',
      mdCode(result.reference),
      '',
      `Tags: ${result.tags.map(mdCode).join(', ')}`,
      result.signature ? `Signature attached: ${mdCode(result.signature.digest)} (${result.signature.via})` : 'Not signed: no signature attached.',
      '',
    ].join('\n'),
  );
  return result;
}

async function copyFromLayout(
  source: { dir: string; tag?: string | undefined },
  force: boolean,
  store: OciStore,
  io: PublishActionIo,
): Promise<CopiedRelease[]> {
  const copied = await copyLayoutReleases({ layoutDir: source.dir, tag: source.tag, sink: store, force, logger: io.logger });
  const last = copied[copied.length - 1]!;
  io.setOutput('digest', last.digest);
  io.setOutput('reference', last.reference);
  io.setOutput('tags', copied.flatMap((c) => c.tags).join(','));
  io.setOutput('copied', JSON.stringify(copied));
  await io.summary?.(
    [
      `### Copied ${copied.length} release${copied.length === 1 ? '' : 's'} from ${mdText(source.dir)}`,
      '',
      ...copied.map((c) => `- ${mdCode(c.reference)} (${c.tags.map(mdCode).join(', ')})`),
      '',
    ].join('\n'),
  );
  return copied;
}
