/** The package action's inputs, parsed by a pure function of a getter. */
import { checkIntegerInRange } from '../../../src/lib/core/values';
import { checkChannel, DEFAULT_CHANNEL, DEFAULT_COMPRESSION_LEVEL, DEFAULT_VERSION } from '../../../src/lib/release/package-options';
import type { Channel } from '../../../src/lib/release/manifest';
import { PiImageError } from '../../../src/lib/core/errors';
import { parseBoolean } from '../../../src/lib/core/values';

export interface PackageInputs {
  deployDir: string;
  outputDir: string;
  name: string | undefined;
  version: string;
  channel: Channel;
  image: string | undefined;
  info: string | undefined;
  buildLog: string | undefined;
  compressionLevel: number;
  threads: number;
  productReleaseFile: string | undefined;
  force: boolean;
}

export function parsePackageInputs(get: (name: string) => string): PackageInputs {
  const optional = (name: string): string | undefined => get(name) || undefined;
  const deployDir = get('deploy-dir');
  if (!deployDir) throw new PiImageError('INPUT_INVALID', 'input deploy-dir is required');
  return {
    deployDir,
    outputDir: get('output-dir') || 'release',
    name: optional('name'),
    version: get('version') || DEFAULT_VERSION,
    channel: checkChannel(get('channel') || DEFAULT_CHANNEL, 'input channel'),
    image: optional('image'),
    info: optional('info'),
    buildLog: optional('build-log'),
    compressionLevel: checkIntegerInRange(get('compression-level') || String(DEFAULT_COMPRESSION_LEVEL), 0, 9, 'input compression-level'),
    threads: checkIntegerInRange(get('threads') || '0', 0, 1024, 'input threads'),
    productReleaseFile: optional('product-release-file'),
    force: parseBoolean(get('force'), 'input force'),
  };
}
