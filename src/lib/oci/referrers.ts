/**
 * Attaching a Sigstore bundle to a release's manifest digest the way cosign
 * and GitHub's attest action do: an OCI artifact whose `subject` is the
 * release manifest, found through the registry's referrers API or, where the
 * registry has none (GHCR, distribution 2.x, an image layout), through an
 * index under the tag `sha256-<hex>` (the referrers tag schema).
 */
import { PiImageError } from '../core/errors';
import { BUNDLE_MEDIA_TYPE } from '../signing/sign';
import { PROVENANCE_TYPE } from '../signing/statement';
import { EMPTY_CONFIG, OCI_INDEX, OCI_MANIFEST, type Descriptor } from './media-types';
import { bytesBlobSource, EMPTY_DESCRIPTOR } from './blob-source';
import { DIGEST } from './reference';
import { REFERRERS_TAG, type OciStore } from './store';

export interface Attached {
  digest: string;
  via: 'referrers-api' | 'tag-fallback';
}

const MAX_BUNDLE = 16 * 1024 * 1024;

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

/** The Sigstore bundles attached to a manifest, newest first, each read and size-checked against its descriptor. */
export async function attachedBundles(store: OciStore, digest: string): Promise<{ digest: string; bundle: Buffer }[]> {
  const out: { digest: string; bundle: Buffer; created: string }[] = [];
  for (const referrer of await listReferrers(store, digest)) {
    if (referrer.artifactType !== undefined && referrer.artifactType !== BUNDLE_MEDIA_TYPE) continue;
    const manifest = JSON.parse((await store.getManifest(referrer.digest)).bytes.toString('utf8')) as {
      artifactType?: string;
      subject?: Descriptor;
      layers?: Descriptor[];
      annotations?: Record<string, string>;
    };
    if (manifest.artifactType !== BUNDLE_MEDIA_TYPE || manifest.subject?.digest !== digest) continue;
    const layer = manifest.layers?.find((l) => l.mediaType === BUNDLE_MEDIA_TYPE);
    if (!layer || !DIGEST.test(layer.digest) || !Number.isSafeInteger(layer.size) || layer.size > MAX_BUNDLE) continue;
    const chunks: Buffer[] = [];
    for await (const c of store.readBlob(layer)) chunks.push(c);
    out.push({ digest: referrer.digest, bundle: Buffer.concat(chunks), created: manifest.annotations?.['org.opencontainers.image.created'] ?? '' });
  }
  return out.sort((a, b) => (a.created < b.created ? 1 : -1)).map(({ digest: d, bundle }) => ({ digest: d, bundle }));
}
