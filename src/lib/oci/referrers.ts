/**
 * Attaching a Sigstore bundle to a release's manifest digest the way cosign
 * and GitHub's attest action do: an OCI artifact whose `subject` is the
 * release manifest, found through the registry's referrers API or, where the
 * registry has none (GHCR, distribution 2.x, an image layout), through an
 * index under the tag `sha256-<hex>` (the referrers tag schema).
 */
import { PiImageError } from '../core/errors';
import { MAX_SIGNATURE_BYTES, SIGNATURE_MEDIA_TYPE as BUNDLE_MEDIA_TYPE } from '../release/release-dir';
import { PROVENANCE_TYPE } from '../signing/statement';
import { EMPTY_CONFIG, OCI_INDEX, OCI_MANIFEST, type Descriptor } from './media-types';
import { bytesBlobSource, EMPTY_DESCRIPTOR } from './blob-source';
import { DIGEST } from './reference';
import { REFERRERS_TAG, type OciStore } from './store';

export interface Attached {
  digest: string;
  via: 'referrers-api' | 'tag-fallback';
}

/** A hostile registry may attach any number of "signatures": only this many, newest first, are tried. */
const MAX_BUNDLES_TRIED = 8;

export async function attachBundle(store: OciStore, subject: Descriptor, bundle: Buffer, created: string): Promise<Attached> {
  const layer = bytesBlobSource(bundle);
  await store.putBlob(bytesBlobSource(EMPTY_CONFIG));
  await store.putBlob(layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: BUNDLE_MEDIA_TYPE,
      config: EMPTY_DESCRIPTOR,
      layers: [{ mediaType: BUNDLE_MEDIA_TYPE, ...layer.descriptor }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: {
        'dev.sigstore.bundle.content': 'dsse-envelope',
        'dev.sigstore.bundle.predicateType': PROVENANCE_TYPE,
        'org.opencontainers.image.created': created,
      },
    }),
  );
  const pushed = await store.putManifest(manifest, OCI_MANIFEST);
  const descriptor: Descriptor = { mediaType: OCI_MANIFEST, digest: pushed.digest, size: manifest.length, artifactType: BUNDLE_MEDIA_TYPE };
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
    return (index.manifests as Descriptor[]).filter((d) => typeof d === 'object' && d !== null && DIGEST.test(String(d.digest)) && Number.isSafeInteger(d.size));
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

/**
 * The Sigstore bundles attached to a manifest, newest first (at most
 * MAX_BUNDLES_TRIED), each fetched only when the caller asks for the next one
 * and size-checked against its descriptor: one bundle in memory at a time.
 */
export async function* attachedBundles(store: OciStore, digest: string): AsyncGenerator<{ digest: string; bundle: Buffer }> {
  const found: { digest: string; layer: Descriptor; created: string }[] = [];
  for (const referrer of await listReferrers(store, digest)) {
    if (referrer.artifactType !== undefined && referrer.artifactType !== BUNDLE_MEDIA_TYPE) continue;
    if (found.length >= 4 * MAX_BUNDLES_TRIED) break;
    let manifest: { artifactType?: string; subject?: Descriptor; layers?: Descriptor[]; annotations?: Record<string, string> };
    try {
      manifest = JSON.parse((await store.getManifest(referrer.digest)).bytes.toString('utf8')) as typeof manifest;
    } catch (e) {
      if (e instanceof PiImageError && e.code === 'DIGEST_MISMATCH') throw e;
      continue; // not JSON: not a bundle of ours
    }
    if (manifest.artifactType !== BUNDLE_MEDIA_TYPE || manifest.subject?.digest !== digest) continue;
    const layer = manifest.layers?.find((l) => l.mediaType === BUNDLE_MEDIA_TYPE);
    if (!layer || !DIGEST.test(layer.digest) || !Number.isSafeInteger(layer.size) || layer.size > MAX_SIGNATURE_BYTES) continue;
    found.push({ digest: referrer.digest, layer, created: manifest.annotations?.['org.opencontainers.image.created'] ?? '' });
  }
  found.sort((a, b) => (a.created < b.created ? 1 : -1));
  for (const f of found.slice(0, MAX_BUNDLES_TRIED)) {
    const chunks: Buffer[] = [];
    for await (const c of store.readBlob(f.layer)) chunks.push(c);
    yield { digest: f.digest, bundle: Buffer.concat(chunks) };
  }
}
