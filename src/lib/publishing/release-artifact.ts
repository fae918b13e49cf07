/**
 * The `artifact` format: an OCI artifact (artifactType RELEASE_ARTIFACT_TYPE,
 * the empty config) with one blob per file, named by
 * `org.opencontainers.image.title` as `oras pull` expects. Every file's digest
 * comes from manifest.json; the store checks it as the blob is written.
 */
import { join } from 'node:path';
import { MANIFEST_FILE } from '../release/manifest';
import { ANNOTATION, EMPTY_CONFIG, OCI_MANIFEST, type Descriptor } from '../oci/media-types';
import { bytesBlobSource, EMPTY_DESCRIPTOR, fileBlobSource, type BlobSource } from '../oci/blob-source';
import type { ReleaseContent } from './release-content';

/** The artifactType of a release pushed as an OCI artifact (format `artifact`). */
export const RELEASE_ARTIFACT_TYPE = 'application/vnd.pi-image.release.v1';

export interface ArtifactLayout {
  manifest: Buffer;
  /** Blobs to store: each file, manifest.json, the empty config. */
  blobs: BlobSource[];
}

export function artifactLayout(content: ReleaseContent, annotations: Record<string, string>): ArtifactLayout {
  const layers: Descriptor[] = [];
  const blobs: BlobSource[] = [bytesBlobSource(EMPTY_CONFIG)];
  const spine = bytesBlobSource(content.manifestBytes);
  blobs.push(spine);
  layers.push({ mediaType: 'application/json', ...spine.descriptor, annotations: { [ANNOTATION.title]: MANIFEST_FILE } });
  for (const f of content.files) {
    const descriptor = { digest: `sha256:${f.sha256}`, size: f.size };
    blobs.push(fileBlobSource(join(content.dir, f.path), descriptor));
    layers.push({ mediaType: f.mediaType, ...descriptor, annotations: { [ANNOTATION.title]: f.path } });
  }
  layers.sort((a, b) => (a.annotations![ANNOTATION.title]! < b.annotations![ANNOTATION.title]! ? -1 : 1));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: RELEASE_ARTIFACT_TYPE, config: EMPTY_DESCRIPTOR, layers, annotations }),
  );
  return { manifest, blobs };
}
