/**
 * A release's Sigstore bundle attached to its published manifest, as cosign
 * and GitHub's attest action attach theirs, and found again on pull.
 */
import { ANNOTATION, type Descriptor } from '../oci/media-types';
import { attachArtifact, referrersOfType, type Attached } from '../oci/referrers';
import { readBlobBytes, type OciStore } from '../oci/store';
import { MAX_SIGNATURE_BYTES, SIGNATURE_MEDIA_TYPE } from '../release/release-dir';
import { PROVENANCE_TYPE } from '../signing/statement';

/** A hostile registry may attach any number of "signatures": only this many, newest first, are tried. */
const MAX_BUNDLES_TRIED = 8;

export function attachSignature(store: OciStore, subject: Descriptor, bundle: Buffer, created: string): Promise<Attached> {
  return attachArtifact(store, subject, {
    artifactType: SIGNATURE_MEDIA_TYPE,
    blob: bundle,
    annotations: {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': PROVENANCE_TYPE,
      [ANNOTATION.created]: created,
    },
  });
}

/**
 * The Sigstore bundles attached to a manifest, newest first (at most
 * MAX_BUNDLES_TRIED), each fetched only when the caller asks for the next one:
 * one bundle in memory at a time.
 */
export async function* attachedSignatures(store: OciStore, digest: string): AsyncGenerator<{ digest: string; bundle: Buffer }> {
  const found = await referrersOfType(store, digest, SIGNATURE_MEDIA_TYPE, 4 * MAX_BUNDLES_TRIED, MAX_SIGNATURE_BYTES);
  found.sort((a, b) => ((a.annotations[ANNOTATION.created] ?? '') < (b.annotations[ANNOTATION.created] ?? '') ? 1 : -1));
  for (const f of found.slice(0, MAX_BUNDLES_TRIED)) {
    yield { digest: f.digest, bundle: await readBlobBytes(store, f.layer) };
  }
}
