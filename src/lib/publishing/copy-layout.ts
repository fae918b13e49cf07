/**
 * Publishing what an earlier run left in an OCI layout (written where no
 * registry was reachable): each tagged release, or the one tag asked for,
 * copied to a store unchanged (same bytes, same digests), its tags and
 * attached signatures with it.
 */
import { PiImageError } from '../core/errors';
import { asObject } from '../core/json-value';
import type { Logger } from '../core/logger';
import { copyRelease } from '../oci/copy';
import { OciLayout } from '../oci/layout';
import { parseManifest } from '../oci/manifest-json';
import { isReferrersTag, type OciStore } from '../oci/store';
import { checkTagMoves, copiedTags, type ReleaseTag } from './tags';

export interface CopiedRelease {
  digest: string;
  reference: string;
  tags: string[];
}

/** Copies the layout's tagged releases (or the one `tag`) to `sink`; a layout that is missing or has nothing to copy is refused before anything is written. */
export async function copyLayoutReleases(options: {
  layoutDir: string;
  tag?: string | undefined;
  sink: OciStore;
  /** Move version and build tags that point at another release in the sink. */
  force?: boolean | undefined;
  logger: Logger;
}): Promise<CopiedRelease[]> {
  const layout = await OciLayout.open(options.layoutDir, { create: false });
  const all = (await layout.tags()).filter((t) => !isReferrersTag(t.tag));
  const chosen = options.tag === undefined ? all : all.filter((t) => t.tag === options.tag);
  if (chosen.length === 0) {
    throw new PiImageError('INPUT_INVALID', `${options.layoutDir} has ${options.tag === undefined ? 'no tagged releases' : `no tag "${options.tag}"`}`);
  }
  const byDigest = new Map<string, string[]>();
  for (const t of chosen) byDigest.set(t.digest, [...(byDigest.get(t.digest) ?? []), t.tag]);
  // Every tag checked, and every immutable one's move refused, before anything is copied.
  const plans: { digest: string; tags: ReleaseTag[] }[] = [];
  for (const [digest, names] of byDigest) {
    const manifest = parseManifest((await layout.getManifest(digest)).bytes, `${layout.label}@${digest}`) as { annotations?: unknown };
    const annotations = Object.fromEntries(Object.entries(asObject(manifest.annotations) ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const tags = copiedTags(names, annotations, options.layoutDir);
    await checkTagMoves(options.sink, tags, digest, options.force ?? false, options.logger);
    plans.push({ digest, tags });
  }
  const copied: CopiedRelease[] = [];
  for (const { digest, tags } of plans) {
    const names = tags.map((t) => t.tag);
    await copyRelease(layout, digest, names, options.sink, options.logger);
    copied.push({ digest, reference: options.sink.pinned(digest), tags: names });
  }
  return copied;
}
