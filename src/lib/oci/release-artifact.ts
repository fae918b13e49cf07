/**
 * The `artifact` format: an OCI artifact (artifactType RELEASE_ARTIFACT_TYPE,
 * the empty config) with one blob per file, named by
 * `org.opencontainers.image.title` as `oras pull` expects. Every file's digest
 * comes from manifest.json; the store checks it as the blob is written.
 */
import { join } from 'node:path';
import { MANIFEST_FILE } from '../release/manifest';
import { ANNOTATION, EMPTY_CONFIG, OCI_EMPTY, OCI_MANIFEST, RELEASE_ARTIFACT_TYPE, type Descriptor } from './media-types';
import { fileBlobSource, RegistryClient, type BlobSource } from './registry-client';
import type { ReleaseContent } from './release-content';
import { Readable } from 'node:stream';

export const EMPTY_DESCRIPTOR: Descriptor = { mediaType: OCI_EMPTY, digest: RegistryClient.digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length };

export function bytesBlobSource(bytes: Buffer): BlobSource {
  return { descriptor: { digest: RegistryClient.digestOf(bytes), size: bytes.length }, open: (start, end) => Readable.from([bytes.subarray(start ?? 0, end === undefined ? undefined : end + 1)]) };
}

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
