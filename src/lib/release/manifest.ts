/**
 * manifest.json: the spine of a release directory. It lists every release
 * file with its role, media type, size and sha256; every later step reads it
 * and may check any file against it. Once the release is signed, the
 * signature covers manifest.json's exact bytes and every file it lists, and
 * the manifest is not changed again. Reading it from disk is the release
 * directory's business (release-dir.ts); this module parses and renders.
 */
import { PiImageError } from '../core/errors';
import { SHA256_HEX } from '../core/file-digest';
import { asObject, asString } from '../core/json-value';
import { isPlainFileName, isSafeName } from '../core/safe-name';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_SCHEMA_VERSION = 1;
/** A manifest is small; a larger one is not a manifest (and is not read into memory). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_FILES = 10_000;

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
  /** smoke-test.json: the boot test's report. */
  'boot-test',
  /** A boot's serial console, as the boot test saw it. */
  'boot-log',
  /** A/B images: slot A's boot and root file systems (xz), and their block maps: what an updater writes. */
  'update-boot',
  'update-root',
  'update-bmap',
] as const;
export type FileRole = (typeof FILE_ROLES)[number];

export const MEDIA_TYPES: Record<FileRole, string> = {
  image: 'application/x-xz',
  'image-checksum': 'text/plain',
  'raw-image-checksum': 'text/plain',
  bmap: 'application/xml',
  'build-log': 'text/plain',
  'pigen-info': 'text/plain',
  'pigen-sbom': 'application/octet-stream',
  sbom: 'application/spdx+json',
  metadata: 'application/json',
  'release-notes': 'text/markdown',
  'boot-test': 'application/json',
  'boot-log': 'text/plain',
  'update-boot': 'application/x-xz',
  'update-root': 'application/x-xz',
  'update-bmap': 'application/xml',
};

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

const SHA256 = SHA256_HEX;
const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * Parses manifest.json's text. `reserved` are names a release file may not
 * have (the files kept beside the manifest). Every field is checked: a
 * manifest is input, possibly hostile.
 */
export function parseManifest(text: string, where: string, reserved: (name: string) => readonly string[] = () => []): ReleaseManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `${where} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const bad = (what: string): PiImageError => new PiImageError('INPUT_INVALID', `${where}: ${what}`);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('not a JSON object');
  const m = parsed as Partial<Record<keyof ReleaseManifest, unknown>>;
  if (m.schemaVersion !== MANIFEST_SCHEMA_VERSION) throw bad(`not a pi-image release manifest (schemaVersion ${MANIFEST_SCHEMA_VERSION})`);
  if (typeof m.name !== 'string' || !isSafeName(m.name)) throw bad(`name ${JSON.stringify(m.name)} is not a release name`);
  if (typeof m.version !== 'string' || !isSafeName(m.version)) throw bad(`version ${JSON.stringify(m.version)} is not a release version`);
  if (!(CHANNELS as readonly unknown[]).includes(m.channel)) throw bad(`channel ${JSON.stringify(m.channel)} is not one of ${CHANNELS.join(', ')}`);
  if (typeof m.created !== 'string' || Number.isNaN(Date.parse(m.created))) throw bad(`created ${JSON.stringify(m.created)} is not a date`);
  if (!Array.isArray(m.files)) throw bad('files is not a list');
  if (m.files.length > MAX_FILES) throw bad(`lists ${m.files.length} files (at most ${MAX_FILES})`);
  const taken = new Set(reserved(m.name));
  const seen = new Set<string>();
  for (const entry of m.files as unknown[]) {
    const f = asObject(entry) ?? {};
    const path = asString(f.path);
    const label = JSON.stringify(path ?? f.path);
    if (path === undefined || !isPlainFileName(path)) throw bad(`file entry ${label} is not a plain file name`);
    if (path === MANIFEST_FILE || taken.has(path)) throw bad(`file entry ${label} uses a name reserved for a file kept beside the manifest`);
    if (seen.has(path)) throw bad(`file entry ${label} is listed twice`);
    seen.add(path);
    if (!(FILE_ROLES as readonly unknown[]).includes(f.role))
      throw bad(`file entry ${label} has role ${JSON.stringify(f.role)}, not one of ${FILE_ROLES.join(', ')}`);
    if (typeof f.mediaType !== 'string' || f.mediaType === '' || f.mediaType.length > 255) throw bad(`file entry ${label} has no media type`);
    if (!isSize(f.size)) throw bad(`file entry ${label} has size ${JSON.stringify(f.size)}, not a byte count`);
    if (typeof f.sha256 !== 'string' || !SHA256.test(f.sha256)) throw bad(`file entry ${label} has no sha256`);
  }
  const image = asObject(m.image);
  const imagePath = asString(image?.path);
  if (imagePath === undefined || !seen.has(imagePath)) throw bad('image.path does not name a listed file');
  if (image?.compression !== 'xz') throw bad(`image.compression ${JSON.stringify(image?.compression)} is not xz`);
  const raw = asObject(image.raw);
  const rawSha = asString(raw?.sha256);
  if (!isSize(raw?.size) || rawSha === undefined || !SHA256.test(rawSha)) throw bad('image.raw has no size and sha256');
  return parsed as ReleaseManifest;
}
