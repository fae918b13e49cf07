/**
 * manifest.json: the spine of a release directory. Every file in the directory
 * (except the manifest itself) is listed with its role, size and sha256; every
 * later step (sign, publish, pull, verify, flash) reads it and may add to it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PiImageError } from '../core/errors';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_SCHEMA_VERSION = 1;

export const FILE_ROLES = [
  'image',
  'image-checksum',
  'raw-image-checksum',
  'bmap',
  'build-log',
  'pigen-info',
  'pigen-sbom',
  'sbom',
  'metadata',
  'release-notes',
  'signature',
  'oci-reference',
] as const;
export type FileRole = (typeof FILE_ROLES)[number];

export const CHANNELS = ['nightly', 'stable'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface ManifestFile {
  path: string;
  role: FileRole;
  mediaType: string;
  size: number;
  sha256: string;
}

export interface ReleaseManifest {
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  name: string;
  version: string;
  channel: Channel;
  created: string;
  image: {
    path: string;
    compression: 'xz';
    raw: { size: number; sha256: string };
  };
  files: ManifestFile[];
}

export function sortFiles(files: readonly ManifestFile[]): ManifestFile[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** JSON as every release file is written: two-space indent, trailing newline. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export async function readManifest(releaseDir: string): Promise<ReleaseManifest> {
  const path = join(releaseDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `${releaseDir} is not a release directory: ${MANIFEST_FILE} cannot be read`, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `${path} is not valid JSON`, { cause: e });
  }
  const m = parsed as Partial<ReleaseManifest>;
  if (m.schemaVersion !== MANIFEST_SCHEMA_VERSION || !Array.isArray(m.files) || typeof m.name !== 'string') {
    throw new PiImageError('INPUT_INVALID', `${path}: not a pi-image release manifest (schemaVersion ${MANIFEST_SCHEMA_VERSION})`);
  }
  for (const f of m.files) {
    if (typeof f.path !== 'string' || f.path.includes('/') || f.path.startsWith('.') || !/^[0-9a-f]{64}$/.test(String(f.sha256))) {
      throw new PiImageError('INPUT_INVALID', `${path}: file entry ${JSON.stringify(f.path)} is not a plain file name with a sha256`);
    }
  }
  return m as ReleaseManifest;
}
