/**
 * The tags a release is published under: its version (immutable), its
 * channel (`nightly` or `stable`, moved to every new release) and a build tag
 * (UTC date of the release and the recipe's short commit; immutable).
 */
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { ANNOTATION } from '../oci/media-types';
import { TAG } from '../oci/reference';
import { isReferrersTag, type OciStore } from '../oci/store';
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

/**
 * Refuses to move an immutable tag (a version or build tag) that points at
 * another release in `store`, unless forced; a forced move is logged.
 */
export async function checkTagMoves(store: OciStore, tags: readonly ReleaseTag[], digest: string, force: boolean, logger: Logger): Promise<void> {
  for (const t of tags.filter((x) => x.immutable)) {
    const existing = await store.resolveTag(t.tag);
    if (!existing || existing === digest) continue;
    if (!force) {
      throw new PiImageError(
        'OUTPUT_EXISTS',
        `${store.label}:${t.tag} already points at ${existing}, another release; a version or build tag is published once (publish a new version, or pass --force to move it)`,
      );
    }
    logger.warn(`moving ${store.label}:${t.tag} from ${existing} to ${digest} (forced)`);
  }
}

/**
 * The tags a published release carries in a store, as they are copied on:
 * each checked as a tag, and immutable when it is the release's version or
 * build tag (read from the manifest's annotations).
 */
export function copiedTags(tags: readonly string[], annotations: Record<string, string> | undefined, where: string): ReleaseTag[] {
  const immutable = new Set<string>();
  const version = annotations?.[ANNOTATION.version];
  const created = annotations?.[ANNOTATION.created];
  if (version) immutable.add(version.replace(/\+/g, '_'));
  if (created && !Number.isNaN(Date.parse(created))) immutable.add(buildTag(created, annotations[ANNOTATION.revision]));
  return tags.map((t) => ({ tag: checkTag(t, `${where}: tag`), immutable: immutable.has(t) }));
}
