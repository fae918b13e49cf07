/**
 * What of a release directory is published: every file manifest.json lists
 * except `os-artifact.ref` (written after publishing: it names the artifact,
 * so it cannot be inside it), and manifest.json itself, without that entry.
 * Also the annotations the release's manifest and metadata give.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PiImageError } from '../core/errors';
import type { ReleaseMetadata } from '../release/metadata';
import { MANIFEST_FILE, readManifest, renderJson, type ManifestFile, type ReleaseManifest } from '../release/manifest';
import { ANNOTATION } from './media-types';

export const OCI_REF_FILE = 'os-artifact.ref';

/** Annotation keys for the product's identity, read from its release file in the image. */
export const PRODUCT_ANNOTATION = {
  product: 'dev.pi-image.product',
  device: 'dev.pi-image.device',
  target: 'dev.pi-image.target',
  sku: 'dev.pi-image.sku',
  variant: 'dev.pi-image.variant',
  channel: 'dev.pi-image.channel',
} as const;

export interface ReleaseContent {
  dir: string;
  manifest: ReleaseManifest;
  /** manifest.json as published. */
  manifestBytes: Buffer;
  /** The files published besides manifest.json, in manifest order. */
  files: ManifestFile[];
  metadata: ReleaseMetadata | undefined;
}

export async function readReleaseContent(dir: string): Promise<ReleaseContent> {
  const manifest = await readManifest(dir);
  const files = manifest.files.filter((f) => f.role !== 'oci-reference');
  const manifestBytes =
    files.length === manifest.files.length ? await readFile(join(dir, MANIFEST_FILE)) : Buffer.from(renderJson({ ...manifest, files }));
  let metadata: ReleaseMetadata | undefined;
  const entry = files.find((f) => f.role === 'metadata');
  if (entry) {
    try {
      metadata = JSON.parse(await readFile(join(dir, entry.path), 'utf8')) as ReleaseMetadata;
    } catch (e) {
      throw new PiImageError('INPUT_INVALID', `${join(dir, entry.path)} cannot be read as JSON`, { cause: e });
    }
  }
  return { dir, manifest: { ...manifest, files }, manifestBytes, files, metadata };
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
  const values = metadata?.contents?.root?.productRelease?.values ?? {};
  for (const [key, value] of Object.entries(values)) {
    const m = /_(PRODUCT|DEVICE|TARGET|SKU|VARIANT)$/.exec(key);
    if (m && value) out[PRODUCT_ANNOTATION[m[1]!.toLowerCase() as keyof typeof PRODUCT_ANNOTATION]] = value;
  }
  for (const [k, v] of Object.entries(extra)) if (v) out[k] = v;
  return out;
}
