/**
 * Where releases are published to and pulled from: a registry repository or
 * an OCI image layout on disk. Publish, copy and pull are written once against
 * this interface; both kinds check every blob's digest.
 */
import type { BlobSource } from './blob-source';
import type { Descriptor } from './media-types';

export interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface OciStore {
  /** How messages name it: `ghcr.io/owner/name` or `oci:DIR`. */
  readonly label: string;
  /** The directory it lives in, for a store on this machine (an output must not replace it). */
  readonly localDir?: string;
  /** A reference to one manifest, pinned by digest. */
  pinned(digest: string): string;
  hasBlob(digest: string): Promise<boolean>;
  /** Stores a blob of known digest (skipped when present); the store checks the digest. */
  putBlob(source: BlobSource): Promise<'exists' | 'stored' | 'mounted'>;
  /**
   * Stores a blob whose digest is known at the end of a pass over it; `open`
   * produces the same bytes each time it is called (a resumed upload skips
   * what the registry already has).
   */
  putBlobStream(open: () => AsyncIterable<Buffer>): Promise<{ digest: string; size: number }>;
  /** A blob's bytes, unverified, whole or a range (inclusive end): for copying into a store that checks. */
  openBlob(digest: string, start?: number, end?: number): AsyncIterable<Buffer>;
  /** A blob's bytes, verified against the descriptor: throws DIGEST_MISMATCH at the end otherwise. */
  readBlob(descriptor: { digest: string; size: number }): AsyncIterable<Buffer>;
  /** Pushes a manifest by digest, or by tag (then the tag points at it). */
  putManifest(bytes: Buffer, mediaType: string, tag?: string): Promise<{ digest: string; subjectAccepted: boolean }>;
  /** A manifest by tag or digest; by digest, its bytes are checked. */
  getManifest(reference: string): Promise<StoredManifest>;
  /** The digest a tag points at, if the tag exists. */
  resolveTag(tag: string): Promise<string | undefined>;
  /** Referrers through the registry's API; undefined when it has none (use the tag fallback). */
  referrersApi(digest: string): Promise<Descriptor[] | undefined>;
}

/** The referrers tag schema's fallback tag for a manifest without a referrers API: `sha256-<hex>`. */
export const REFERRERS_TAG = (digest: string): string => digest.replace(':', '-');

/** Whether a tag is a referrers fallback tag (`sha256-<hex>`), not a release's. */
export const isReferrersTag = (tag: string): boolean => /^sha256-[0-9a-f]{64}$/.test(tag);

/** A small blob (a signature, a record) read whole, checked against its descriptor by the store. */
export async function readBlobBytes(store: OciStore, descriptor: { digest: string; size: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of store.readBlob(descriptor)) chunks.push(c);
  return Buffer.concat(chunks);
}
