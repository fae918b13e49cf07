/** The publish action's inputs, parsed by a pure function of a getter. */
import { PiImageError } from '../../../src/lib/core/errors';
import { parseBoolean } from '../../../src/lib/core/values';
import { registryAccessInputs } from '../../../src/github/registry-inputs';
import type { RegistryAccess } from '../../../src/lib/oci/registry-access';
import { FORMATS, type PublishFormat } from '../../../src/lib/publishing/publish';
import { checkTag } from '../../../src/lib/publishing/tags';
import { parseTarget, type Target } from '../../../src/lib/oci/target';

export interface PublishInputs {
  releaseDir: string;
  target: Target;
  format: PublishFormat;
  tags: string[];
  annotations: Record<string, string>;
  force: boolean;
  attachSignature: boolean;
  mountFrom: string[];
  access: RegistryAccess;
}

export function splitList(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** GHCR repository of the workflow's repository: OWNER/REPO lowercased, as GHCR requires. */
export function defaultTarget(env: Record<string, string | undefined>): string {
  if (!env.GITHUB_REPOSITORY)
    throw new PiImageError('INPUT_INVALID', 'input target is empty and GITHUB_REPOSITORY is not set: name a registry repository or oci:DIR');
  return `ghcr.io/${env.GITHUB_REPOSITORY.toLowerCase()}`;
}

export function parsePublishInputs(get: (name: string) => string, env: Record<string, string | undefined>): PublishInputs {
  const releaseDir = get('release-dir');
  if (!releaseDir) throw new PiImageError('INPUT_INVALID', 'input release-dir is required');
  const target = parseTarget(get('target') || defaultTarget(env), 'input target');
  if (target.kind === 'registry' && (target.ref.tag || target.ref.digest)) {
    throw new PiImageError('INPUT_INVALID', 'input target names a repository, without a tag or digest: tags come from the release (add more with tags)');
  }
  const format = get('format') || 'image';
  if (!(FORMATS as readonly string[]).includes(format)) throw new PiImageError('INPUT_INVALID', `input format "${format}": use ${FORMATS.join(' or ')}`);
  const annotations: Record<string, string> = {};
  for (const line of get('annotations')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new PiImageError('INPUT_INVALID', `input annotations: "${line}" is not KEY=VALUE`);
    annotations[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return {
    releaseDir,
    target,
    format: format as PublishFormat,
    tags: splitList(get('tags')).map((t) => checkTag(t, 'input tags:')),
    annotations,
    force: parseBoolean(get('force'), 'force'),
    attachSignature: parseBoolean(get('attach-signature'), 'attach-signature'),
    mountFrom: splitList(get('mount-from')),
    access: registryAccessInputs(get),
  };
}
