/**
 * Publishing what an earlier run left in an OCI layout (written where no
 * registry was reachable): each tagged release, or the one tag asked for,
 * copied to a store unchanged (same bytes, same digests), its tags and
 * attached signatures with it.
 */
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { copyRelease } from '../oci/copy';
import { OciLayout } from '../oci/layout';
import { isReferrersTag, type OciStore } from '../oci/store';

export interface CopiedRelease {
  digest: string;
  reference: string;
  tags: string[];
}

/** Copies the layout's tagged releases (or the one `tag`) to `sink`; a layout that is missing or has nothing to copy is refused before anything is written. */
export async function copyLayoutReleases(options: { layoutDir: string; tag?: string | undefined; sink: OciStore; logger: Logger }): Promise<CopiedRelease[]> {
  const layout = await OciLayout.open(options.layoutDir, { create: false });
  const all = (await layout.tags()).filter((t) => !isReferrersTag(t.tag));
  const chosen = options.tag === undefined ? all : all.filter((t) => t.tag === options.tag);
  if (chosen.length === 0) {
    throw new PiImageError('INPUT_INVALID', `${options.layoutDir} has ${options.tag === undefined ? 'no tagged releases' : `no tag "${options.tag}"`}`);
  }
  const byDigest = new Map<string, string[]>();
  for (const t of chosen) byDigest.set(t.digest, [...(byDigest.get(t.digest) ?? []), t.tag]);
  const copied: CopiedRelease[] = [];
  for (const [digest, tags] of byDigest) {
    await copyRelease(layout, digest, tags, options.sink, options.logger);
    copied.push({ digest, reference: options.sink.pinned(digest), tags });
  }
  return copied;
}
