/** The publish action's inputs, parsed by a pure function of a getter. */
import { PiImageError } from '../../../src/lib/core/errors';
import { parseBoolean, parseKeyValueList } from '../../../src/lib/core/values';
import { registryAccessInputs } from '../../../src/github/registry-inputs';
import type { RegistryAccess } from '../../../src/lib/oci/registry-access';
import { FORMATS, type PublishFormat } from '../../../src/lib/publishing/publish';
import { checkTag } from '../../../src/lib/publishing/tags';
import { parseTarget, type Target } from '../../../src/lib/oci/target';

export interface PublishInputs {
  /** What is published: a release directory, or the releases of an OCI layout copied unchanged. */
  source: { kind: 'release'; dir: string } | { kind: 'layout'; dir: string; tag?: string | undefined };
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
  const fromLayout = get('from-layout');
  if (releaseDir !== '' && fromLayout !== '') throw new PiImageError('INPUT_INVALID', 'inputs release-dir and from-layout are both set: give one');
  if (releaseDir === '' && fromLayout === '') throw new PiImageError('INPUT_INVALID', 'input release-dir (or from-layout) is required');
  let source: PublishInputs['source'] = { kind: 'release', dir: releaseDir };
  if (fromLayout !== '') {
    const layout = parseTarget(fromLayout.startsWith('oci:') ? fromLayout : `oci:${fromLayout}`, 'input from-layout');
    if (layout.kind !== 'layout' || layout.digest !== undefined)
      throw new PiImageError('INPUT_INVALID', `input from-layout "${fromLayout}": give DIR or oci:DIR[:TAG]`);
    source = { kind: 'layout', dir: layout.dir, tag: layout.tag };
    const notForCopies = ['tags', 'annotations'].filter((name) => get(name).trim() !== '');
    if (notForCopies.length > 0) {
      throw new PiImageError(
        'INPUT_INVALID',
        `input${notForCopies.length > 1 ? 's' : ''} ${notForCopies.join(', ')}: a layout's releases are copied as they are, with their own tags and annotations`,
      );
    }
  }
  const target = parseTarget(get('target') || defaultTarget(env), 'input target');
  if (target.kind === 'registry' && (target.ref.tag || target.ref.digest)) {
    throw new PiImageError('INPUT_INVALID', 'input target names a repository, without a tag or digest: tags come from the release (add more with tags)');
  }
  const format = get('format') || 'image';
  if (!(FORMATS as readonly string[]).includes(format)) throw new PiImageError('INPUT_INVALID', `input format "${format}": use ${FORMATS.join(' or ')}`);
  const annotations = parseKeyValueList(get('annotations').split('\n'), 'input annotations');
  return {
    source,
    target,
    format: format as PublishFormat,
    tags: splitList(get('tags')).map((t) => checkTag(t, 'input tags:')),
    annotations,
    force: parseBoolean(get('force'), 'input force'),
    attachSignature: parseBoolean(get('attach-signature'), 'input attach-signature'),
    mountFrom: splitList(get('mount-from')),
    access: registryAccessInputs(get),
  };
}
