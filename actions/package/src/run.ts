/** What the package action does with its parsed inputs. Imported by tests; runs nothing on import. */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../../src/lib/core/logger';
import { packageRelease, type PackageResult } from '../../../src/lib/release/package';
import { parseSourceDateEpoch } from '../../../src/lib/core/values';
import { provenanceFromEnv } from '../../../src/lib/release/provenance';
import type { PackageInputs } from './inputs';

export interface ActionIo {
  logger: Logger;
  env: Record<string, string | undefined>;
  setOutput(name: string, value: string): void;
  summary(markdown: string): Promise<void>;
}

export async function runPackage(inputs: PackageInputs, io: ActionIo): Promise<PackageResult> {
  const result = await packageRelease({
    deployDir: inputs.deployDir,
    outDir: inputs.outputDir,
    name: inputs.name,
    version: inputs.version,
    channel: inputs.channel,
    image: inputs.image,
    info: inputs.info,
    buildLog: inputs.buildLog,
    compressionLevel: inputs.compressionLevel,
    threads: inputs.threads,
    productReleaseFile: inputs.productReleaseFile,
    force: inputs.force,
    sourceDateEpoch: parseSourceDateEpoch(io.env.SOURCE_DATE_EPOCH),
    provenance: provenanceFromEnv(io.env),
    logger: io.logger,
  });
  io.setOutput('release-dir', result.releaseDir);
  io.setOutput('image-path', result.paths.image);
  io.setOutput('image-sha256', result.metadata.image.compressed.sha256);
  io.setOutput('raw-image-sha256', result.metadata.image.raw.sha256);
  io.setOutput('raw-image-size', String(result.metadata.image.raw.size));
  io.setOutput('bmap-path', result.paths.bmap);
  io.setOutput('manifest-path', result.paths.manifest);
  io.setOutput('metadata-path', result.paths.metadata);
  io.setOutput('name', result.manifest.name);
  io.setOutput('version', result.manifest.version);
  await io.summary(await readFile(result.paths.releaseNotes, 'utf8'));
  return result;
}
