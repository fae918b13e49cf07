/**
 * Artifacts attached to a manifest (signatures, attestations, SBOMs) the way
 * the OCI 1.1 distribution spec does it: a manifest whose `subject` is the
 * one it is about, found through the registry's referrers API or, where the
 * registry has none (GHCR, distribution 2.x, an image layout), through an
 * index under the tag `sha256-<hex>` (the referrers tag schema).
 */
import { PiImageError } from '../core/errors';
import { EMPTY_CONFIG, isDescriptor, OCI_INDEX, OCI_MANIFEST, type Descriptor } from './media-types';
import { bytesBlobSource, EMPTY_DESCRIPTOR } from './blob-source';
import { REFERRERS_TAG, type OciStore } from './store';

export interface Attached {
  digest: string;
  via: 'referrers-api' | 'tag-fallback';
}

/** Attaches one blob to `subject` as an artifact of `artifactType` (one layer of that media type). */
export async function attachArtifact(
  store: OciStore,
  subject: Descriptor,
  artifact: { artifactType: string; blob: Buffer; annotations: Record<string, string> },
): Promise<Attached> {
  const layer = bytesBlobSource(artifact.blob);
  await store.putBlob(bytesBlobSource(EMPTY_CONFIG));
  await store.putBlob(layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: artifact.artifactType,
      config: EMPTY_DESCRIPTOR,
      layers: [{ mediaType: artifact.artifactType, ...layer.descriptor }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: artifact.annotations,
    }),
  );
  const pushed = await store.putManifest(manifest, OCI_MANIFEST);
  const descriptor: Descriptor = { mediaType: OCI_MANIFEST, digest: pushed.digest, size: manifest.length, artifactType: artifact.artifactType };
  if (pushed.subjectAccepted) return { digest: pushed.digest, via: 'referrers-api' };
  await addToFallbackIndex(store, subject.digest, descriptor);
  return { digest: pushed.digest, via: 'tag-fallback' };
}

/** Adds a referrer to the `sha256-<hex>` index (creating it), keeping what is there. */
export async function addToFallbackIndex(store: OciStore, subjectDigest: string, referrer: Descriptor): Promise<void> {
  const tag = REFERRERS_TAG(subjectDigest);
  let manifests: Descriptor[] = [];
  const existing = await store.resolveTag(tag);
  if (existing) manifests = parseIndex((await store.getManifest(existing)).bytes, `${store.label}:${tag}`);
  if (manifests.some((m) => m.digest === referrer.digest)) return;
  manifests.push(referrer);
  await store.putManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })), OCI_INDEX, tag);
}

function parseIndex(bytes: Buffer, where: string): Descriptor[] {
  try {
    const index = JSON.parse(bytes.toString('utf8')) as { manifests?: unknown };
    if (!Array.isArray(index.manifests)) throw new Error('no manifests list');
    return (index.manifests as unknown[]).filter(isDescriptor);
  } catch (e) {
    throw new PiImageError('DIGEST_MISMATCH', `${where} is not an OCI index: ${(e as Error).message}`, { cause: e });
  }
}

/** Every referrer of a manifest: from the API when the registry has one, else from the fallback tag. */
export async function listReferrers(store: OciStore, digest: string): Promise<Descriptor[]> {
  const api = await store.referrersApi(digest);
  if (api !== undefined) return api;
  const tagged = await store.resolveTag(REFERRERS_TAG(digest));
  return tagged ? parseIndex((await store.getManifest(tagged)).bytes, `${store.label}:${REFERRERS_TAG(digest)}`) : [];
}

export interface Referrer {
  /** The referrer manifest's digest. */
  digest: string;
  /** Its one layer of the artifact type. */
  layer: Descriptor;
  annotations: Record<string, string>;
}

/**
 * The referrers of `digest` that are artifacts of `artifactType` about it,
 * each with its layer (not yet fetched). At most `limit` referrer manifests
 * are fetched, whatever a hostile registry lists (those that declare another
 * artifact type are skipped unfetched). A manifest that is not JSON is
 * skipped; a registry that fails (an error status, the network) fails the
 * search, and is never reported as "no signature".
 */
export async function referrersOfType(store: OciStore, digest: string, artifactType: string, limit: number, maxLayerBytes: number): Promise<Referrer[]> {
  const found: Referrer[] = [];
  let fetched = 0;
  for (const referrer of await listReferrers(store, digest)) {
    if (referrer.artifactType !== undefined && referrer.artifactType !== artifactType) continue;
    if (fetched >= limit) break;
    fetched++;
    const bytes = (await store.getManifest(referrer.digest)).bytes;
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      continue; // not JSON: not an artifact of this type
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) continue;
    const manifest = parsed as { artifactType?: string; subject?: Descriptor; layers?: Descriptor[]; annotations?: Record<string, string> };
    if (manifest.artifactType !== artifactType || manifest.subject?.digest !== digest) continue;
    const layer = manifest.layers?.find((l) => isDescriptor(l) && l.mediaType === artifactType);
    if (!layer || layer.size > maxLayerBytes) continue;
    found.push({ digest: referrer.digest, layer, annotations: manifest.annotations ?? {} });
  }
  return found;
}
