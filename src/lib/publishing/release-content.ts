/**
 * What of a release directory is published: manifest.json as it is, every file
 * it lists, and the signature when the release is signed (so a pulled release
 * verifies offline, as the directory did). Not `os-artifact.ref`: it names the
 * artifact, so it cannot be inside it. Also the annotations the release's
 * manifest and metadata give.
 */
import { digestBytes } from '../core/file-digest';
import { asObject, member } from '../core/json-value';
import type { FileRole, ReleaseManifest } from '../release/manifest';
import type { ReleaseMetadata } from '../release/metadata';
import { openReleaseDir, readReleaseMetadata, readSignature, SIGNATURE_MEDIA_TYPE, type ReleaseDir } from '../release/release-dir';
import { ANNOTATION } from '../oci/media-types';

/** Annotation keys for the product's identity, read from its release file in the image. */
export const PRODUCT_ANNOTATION = {
  product: 'dev.pi-image.product',
  device: 'dev.pi-image.device',
  target: 'dev.pi-image.target',
  sku: 'dev.pi-image.sku',
  variant: 'dev.pi-image.variant',
  channel: 'dev.pi-image.channel',
} as const;

export interface PublishedFile {
  path: string;
  role: FileRole | 'signature';
  mediaType: string;
  size: number;
  sha256: string;
}

export interface ReleaseContent {
  release: ReleaseDir;
  dir: string;
  manifest: ReleaseManifest;
  /** manifest.json as published: its bytes on disk. */
  manifestBytes: Buffer;
  /** The files published besides manifest.json: the listed ones, then the signature. */
  files: PublishedFile[];
  /** The Sigstore bundle, when the release is signed. */
  signature: Buffer | undefined;
  metadata: ReleaseMetadata | undefined;
}

export async function readReleaseContent(dir: string): Promise<ReleaseContent> {
  const release = await openReleaseDir(dir);
  const files: PublishedFile[] = release.manifest.files.map((f) => ({ ...f }));
  const signature = await readSignature(release);
  if (signature) files.push({ path: release.signatureFile, role: 'signature', mediaType: SIGNATURE_MEDIA_TYPE, ...digestBytes(signature) });
  return { release, dir, manifest: release.manifest, manifestBytes: release.manifestBytes, files, signature, metadata: await readReleaseMetadata(release) };
}

/** A release's OCI annotations: the standard ones, the channel, and the product identity. */
export function releaseAnnotations(content: ReleaseContent, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const { manifest, metadata } = content;
  const out: Record<string, string> = {
    [ANNOTATION.title]: manifest.name,
    [ANNOTATION.version]: manifest.version,
    [ANNOTATION.created]: manifest.created,
    [ANNOTATION.description]: `${manifest.name} ${manifest.version} (${manifest.channel}), a Raspberry Pi OS image built with pi-gen`,
    [PRODUCT_ANNOTATION.channel]: manifest.channel,
  };
  if (metadata?.recipe.repository) out[ANNOTATION.source] = metadata.recipe.repository;
  if (metadata?.recipe.commit) out[ANNOTATION.revision] = metadata.recipe.commit;
  // metadata.json matches its digest in the manifest, but its shape is not checked: read it defensively.
  const values = asObject(member(metadata, 'contents', 'root', 'productRelease', 'values')) ?? {};
  for (const [key, value] of Object.entries(values)) {
    const m = /_(PRODUCT|DEVICE|TARGET|SKU|VARIANT)$/.exec(key);
    if (m && typeof value === 'string' && value) out[PRODUCT_ANNOTATION[m[1]!.toLowerCase() as keyof typeof PRODUCT_ANNOTATION]] = value;
  }
  for (const [k, v] of Object.entries(extra)) if (v) out[k] = v;
  return out;
}
