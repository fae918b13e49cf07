/**
 * Copies published releases between stores unchanged (same bytes, same
 * digests): an OCI layout written where no registry was reachable, later
 * pushed to a registry; or one registry to another. Copies the manifest, its
 * blobs, its tags and its attached signatures.
 */
import type { Logger } from '../core/logger';
import { verifiedBlobSource } from './blob-source';
import { OCI_INDEX } from './media-types';
import { parseManifest } from './manifest-json';
import { addToFallbackIndex, listReferrers } from './referrers';
import type { OciStore } from './store';

/** Copies one manifest (or index, recursively) and its blobs by digest. */
export async function copyManifest(source: OciStore, sink: OciStore, digest: string, logger: Logger): Promise<{ bytes: Buffer; mediaType: string }> {
  const got = await source.getManifest(digest);
  const m = parseManifest(got.bytes, `${source.label}@${digest}`);
  const mediaType = m.mediaType ?? got.mediaType;
  for (const child of m.manifests ?? []) await copyManifest(source, sink, child.digest, logger);
  for (const blob of [...(m.config ? [m.config] : []), ...(m.layers ?? [])]) {
    const how = await sink.putBlob(
      verifiedBlobSource(blob, (start, end) => source.openBlob(blob.digest, start, end), `blob ${blob.digest} of ${source.label}`),
    );
    logger.info(
      `${blob.digest.slice(0, 19)} (${blob.size} bytes): ${how === 'exists' ? 'already in' : how === 'mounted' ? 'mounted into' : 'copied to'} ${sink.label}`,
    );
  }
  await sink.putManifest(got.bytes, mediaType);
  return { bytes: got.bytes, mediaType };
}

/** Copies a release: its manifest under each tag, then every referrer (signatures). */
export async function copyRelease(source: OciStore, digest: string, tags: readonly string[], sink: OciStore, logger: Logger): Promise<void> {
  const { bytes, mediaType } = await copyManifest(source, sink, digest, logger);
  for (const tag of tags) await sink.putManifest(bytes, mediaType, tag);
  for (const referrer of await listReferrers(source, digest)) {
    if (referrer.mediaType === OCI_INDEX) continue;
    await copyManifest(source, sink, referrer.digest, logger);
    // The sink indexes it by its subject when it has a referrers API; otherwise the fallback tag.
    if ((await sink.referrersApi(digest)) === undefined) await addToFallbackIndex(sink, digest, referrer);
  }
  logger.info(`copied ${source.pinned(digest)} to ${sink.pinned(digest)}${tags.length ? ` (tags ${tags.join(', ')})` : ''}`);
}
