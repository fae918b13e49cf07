/**
 * A release directory as an OCI artifact (format `artifact`): one blob per
 * file, named by `org.opencontainers.image.title` (what `oras pull` writes
 * out), the empty config, artifactType RELEASE_ARTIFACT_TYPE, and the
 * release's identity in the manifest annotations. Every file's digest comes
 * from manifest.json, checked when the blob is stored.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { digestFile } from '../image/raw-image-pass';
import { MANIFEST_FILE, type ReleaseManifest } from '../release/manifest';
import { ANNOTATION, EMPTY_CONFIG, OCI_EMPTY, OCI_MANIFEST, RELEASE_ARTIFACT_TYPE, type Descriptor } from './media-types';

export interface ArtifactManifest {
  bytes: Buffer;
  digest: string;
  descriptor: Descriptor;
  /** Files to store as blobs: path on disk and descriptor. */
  blobs: { file: string; descriptor: Descriptor }[];
}

export function releaseAnnotations(release: ReleaseManifest, extra: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {
    [ANNOTATION.title]: release.name,
    [ANNOTATION.version]: release.version,
    [ANNOTATION.created]: release.created,
    [ANNOTATION.description]: `${release.name} ${release.version} (${release.channel})`,
  };
  for (const [k, v] of Object.entries(extra)) if (v) out[k] = v;
  return out;
}

export async function buildArtifactManifest(releaseDir: string, release: ReleaseManifest, annotations: Record<string, string>): Promise<ArtifactManifest> {
  const blobs: ArtifactManifest['blobs'] = release.files.map((f) => ({
    file: join(releaseDir, f.path),
    descriptor: { mediaType: f.mediaType, digest: `sha256:${f.sha256}`, size: f.size, annotations: { [ANNOTATION.title]: f.path } },
  }));
  // manifest.json itself: the spine pull checks every other file against.
  const spine = await digestFile(join(releaseDir, MANIFEST_FILE));
  blobs.push({
    file: join(releaseDir, MANIFEST_FILE),
    descriptor: { mediaType: 'application/json', digest: `sha256:${spine.sha256}`, size: spine.size, annotations: { [ANNOTATION.title]: MANIFEST_FILE } },
  });
  blobs.sort((a, b) => (a.descriptor.annotations![ANNOTATION.title]! < b.descriptor.annotations![ANNOTATION.title]! ? -1 : 1));
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: RELEASE_ARTIFACT_TYPE,
    config: { mediaType: OCI_EMPTY, digest: `sha256:${createHash('sha256').update(EMPTY_CONFIG).digest('hex')}`, size: EMPTY_CONFIG.length },
    layers: blobs.map((b) => b.descriptor),
    annotations,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  return { bytes, digest, descriptor: { mediaType: OCI_MANIFEST, artifactType: RELEASE_ARTIFACT_TYPE, digest, size: bytes.length }, blobs };
}
