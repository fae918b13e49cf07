/**
 * The tags a release is published under: its version (immutable), its
 * channel (`nightly` or `stable`, moved to every new release) and a build tag
 * (UTC date of the release and the recipe's short commit; immutable).
 */
import { PiImageError } from '../core/errors';
import { TAG } from '../oci/reference';
import { isReferrersTag } from '../oci/store';
import type { ReleaseContent } from './release-content';

export interface ReleaseTag {
  tag: string;
  /** An immutable tag is never moved to another manifest (unless forced). */
  immutable: boolean;
}

export function checkTag(tag: string, input = 'tag'): string {
  if (!TAG.test(tag))
    throw new PiImageError('INPUT_INVALID', `${input} "${tag}" is not a valid OCI tag (letters, digits, _ . -; at most 128; not starting with . or -)`);
  if (isReferrersTag(tag)) throw new PiImageError('INPUT_INVALID', `${input} "${tag}" is reserved for attached signatures`);
  return tag;
}

/** A semantic version as a tag: `+` (build metadata) is not allowed in tags and becomes `_`, as Helm and others do. */
export function versionTag(version: string): string {
  return checkTag(version.replace(/\+/g, '_'), `version "${version}" as a tag`);
}

export function buildTag(created: string, commit: string | null | undefined): string {
  const t = new Date(created);
  if (Number.isNaN(t.getTime())) throw new PiImageError('INPUT_INVALID', `the release's created time "${created}" is not a date`);
  const iso = t.toISOString();
  const date = iso.slice(0, 10).replace(/-/g, '');
  if (commit && /^[0-9a-f]{7,64}$/i.test(commit)) return `${date}-${commit.slice(0, 7).toLowerCase()}`;
  return `${date}T${iso.slice(11, 19).replace(/:/g, '')}Z`;
}

export function releaseTags(content: Pick<ReleaseContent, 'manifest' | 'metadata'>, extra: readonly string[] = []): ReleaseTag[] {
  const tags: ReleaseTag[] = [
    { tag: versionTag(content.manifest.version), immutable: true },
    { tag: content.manifest.channel, immutable: false },
    { tag: buildTag(content.manifest.created, content.metadata?.recipe.commit), immutable: true },
  ];
  for (const t of extra) tags.push({ tag: checkTag(t), immutable: false });
  const seen = new Set<string>();
  return tags.filter((t) => !seen.has(t.tag) && (seen.add(t.tag), true));
}
