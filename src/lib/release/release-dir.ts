/**
 * The release directory, owned here and nowhere else: opening it, reading its
 * manifest and metadata, writing a new one, adding to one that is not yet
 * signed, keeping the files that live beside the manifest, and checking files
 * against digests. Every step that touches a release (package, sign, verify,
 * publish, pull) goes through this module.
 *
 * Layout: `manifest.json` lists every release file. Beside it, not listed:
 * `NAME.sigstore.json`, the signature (written by sign; it covers
 * manifest.json's exact bytes and every listed file), and `os-artifact.ref`
 * (written by publish and pull; it names the OCI artifact, so it cannot be
 * inside it). Nothing else belongs in the directory.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file';
import { PiImageError } from '../core/errors';
import { digestBytes, digestFile, NotRegularFileError, type FileDigest } from '../core/file-digest';
import { readSmallFile } from '../core/small-file';
import { isPlainFileName } from '../core/safe-name';
import {
  MANIFEST_FILE,
  MANIFEST_SCHEMA_VERSION,
  MAX_MANIFEST_BYTES,
  MEDIA_TYPES,
  parseManifest,
  renderJson,
  sortFiles,
  type FileRole,
  type ManifestFile,
  type ReleaseManifest,
} from './manifest';
import type { ReleaseMetadata } from './metadata';

export const SIGNATURE_SUFFIX = '.sigstore.json';
export const SIGNATURE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const OCI_REF_FILE = 'os-artifact.ref';
/** A Sigstore bundle is a few KiB; anything far larger is not one. */
export const MAX_SIGNATURE_BYTES = 16 * 1024 * 1024;
const MAX_METADATA_BYTES = 64 * 1024 * 1024;

export function signatureFileName(releaseName: string): string {
  return `${releaseName}${SIGNATURE_SUFFIX}`;
}

/** Names kept beside the manifest, never listed in it. */
export function besideFiles(releaseName: string): string[] {
  return [signatureFileName(releaseName), OCI_REF_FILE];
}

export interface ReleaseDir {
  readonly dir: string;
  readonly manifest: ReleaseManifest;
  /** manifest.json exactly as read: what a signature covers. */
  readonly manifestBytes: Buffer;
  readonly manifestDigest: FileDigest;
  /** `NAME.sigstore.json`: the signature's name, whether or not it exists. */
  readonly signatureFile: string;
}

export function releaseFromBytes(dir: string, manifestBytes: Buffer, where = join(dir, MANIFEST_FILE)): ReleaseDir {
  const manifest = parseManifest(manifestBytes.toString('utf8'), where, besideFiles);
  return { dir, manifest, manifestBytes, manifestDigest: digestBytes(manifestBytes), signatureFile: signatureFileName(manifest.name) };
}

/** manifest.json's bytes, unparsed (a verifier compares them with their signed digest first). */
export async function readManifestBytes(dir: string): Promise<Buffer> {
  try {
    return await readSmallFile(join(dir, MANIFEST_FILE), MAX_MANIFEST_BYTES);
  } catch (e) {
    if (e instanceof PiImageError) throw e;
    throw new PiImageError('INPUT_INVALID', `${dir} is not a release directory: ${MANIFEST_FILE} cannot be read (${(e as Error).message})`, { cause: e });
  }
}

export async function openReleaseDir(dir: string): Promise<ReleaseDir> {
  return releaseFromBytes(dir, await readManifestBytes(dir));
}

/** The names in a release directory (one listing serves every check). */
export async function listReleaseDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `${dir} is not a release directory: it cannot be listed (${(e as Error).message})`, { cause: e });
  }
}

export function releasePath(release: ReleaseDir, name: string): string {
  return join(release.dir, name);
}

export function fileOfRole(release: ReleaseDir, role: FileRole): ManifestFile | undefined {
  return release.manifest.files.find((f) => f.role === role);
}

/** metadata.json, when the release lists one; checked against its digest before it is trusted. */
export async function readReleaseMetadata(release: ReleaseDir): Promise<ReleaseMetadata | undefined> {
  const entry = fileOfRole(release, 'metadata');
  if (!entry) return undefined;
  const path = releasePath(release, entry.path);
  const bytes = await readSmallFile(path, MAX_METADATA_BYTES).catch((e: unknown) => {
    throw e instanceof PiImageError
      ? e
      : new PiImageError('FILE_MISSING', `${entry.path} is listed in ${MANIFEST_FILE} but cannot be read in ${release.dir}`, { cause: e });
  });
  const digest = digestBytes(bytes);
  if (digest.sha256 !== entry.sha256 || digest.size !== entry.size) {
    throw new PiImageError('FILE_MODIFIED', `${entry.path} in ${release.dir} does not match ${MANIFEST_FILE}`);
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as ReleaseMetadata;
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `${path} is not valid JSON`, { cause: e });
  }
}

/** The release's signature bytes, or undefined when it is not signed. */
export async function readSignature(release: ReleaseDir): Promise<Buffer | undefined> {
  try {
    return await readSmallFile(releasePath(release, release.signatureFile), MAX_SIGNATURE_BYTES);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Writes a file kept beside the manifest (the signature, the OCI reference), atomically. */
export async function writeBeside(release: ReleaseDir, name: string, content: string | Buffer): Promise<string> {
  if (!besideFiles(release.manifest.name).includes(name)) throw new PiImageError('INTERNAL', `${name} is not a file kept beside ${MANIFEST_FILE}`);
  const path = releasePath(release, name);
  await writeFileAtomic(path, content);
  return path;
}

export interface NewFile {
  name: string;
  role: FileRole;
  content: string | Buffer;
}

/**
 * Adds files to a release that is not signed yet (a signature covers the
 * manifest's bytes, so adding to a signed release would break it): each file
 * written atomically, then the manifest rewritten atomically. An entry with
 * the same name is replaced.
 */
export async function addReleaseFiles(
  release: ReleaseDir,
  files: readonly NewFile[],
  options: {
    /** Entries of these roles are dropped first, their files removed (evidence of an earlier run that this one replaces). */
    replaceRoles?: readonly FileRole[];
  } = {},
): Promise<ReleaseDir> {
  const reserved = new Set([MANIFEST_FILE, ...besideFiles(release.manifest.name)]);
  for (const f of files) {
    if (!isPlainFileName(f.name) || reserved.has(f.name))
      throw new PiImageError('INTERNAL', `${JSON.stringify(f.name)} cannot be added to a release: not a plain file name, or reserved`);
  }
  if ((await readSignature(release)) !== undefined) {
    throw new PiImageError(
      'OUTPUT_EXISTS',
      `${release.dir} is signed: adding ${files.map((f) => f.name).join(', ')} would break its signature (add them before signing, or delete ${release.signatureFile} and sign again)`,
    );
  }
  const replaced = new Set(options.replaceRoles ?? []);
  const dropped = release.manifest.files.filter((f) => replaced.has(f.role) && !files.some((n) => n.name === f.path));
  const entries = new Map(release.manifest.files.filter((f) => !replaced.has(f.role)).map((f) => [f.path, f]));
  for (const f of files) {
    const bytes = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content;
    await writeFileAtomic(releasePath(release, f.name), bytes);
    entries.set(f.name, { path: f.name, role: f.role, mediaType: MEDIA_TYPES[f.role], ...digestBytes(bytes) });
  }
  const manifest: ReleaseManifest = { ...release.manifest, files: sortFiles([...entries.values()]) };
  const bytes = Buffer.from(renderJson(manifest));
  const updated = releaseFromBytes(release.dir, bytes);
  await writeFileAtomic(join(release.dir, MANIFEST_FILE), bytes);
  // Only once the manifest no longer lists them.
  for (const f of dropped) await rm(releasePath(release, f.path), { force: true });
  return updated;
}

/**
 * Writes a new release directory (the package step): files go in one by one,
 * each recorded with its digest, and manifest.json last.
 */
export class ReleaseWriter {
  private readonly files: ManifestFile[] = [];
  constructor(readonly dir: string) {}

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Records a file something else wrote into the directory (a compressor, a copy). */
  record(name: string, role: FileRole, digest: FileDigest): void {
    this.files.push({ path: name, role, mediaType: MEDIA_TYPES[role], size: digest.size, sha256: digest.sha256 });
  }

  async writeText(name: string, role: FileRole, content: string): Promise<FileDigest> {
    const bytes = Buffer.from(content, 'utf8');
    await writeFileAtomic(this.path(name), bytes);
    const digest = digestBytes(bytes);
    this.record(name, role, digest);
    return digest;
  }

  /** Copies a file in, hashing it on the way (one read). */
  async copyIn(name: string, role: FileRole, source: string): Promise<FileDigest> {
    const digest = await digestFile(source, this.path(name));
    this.record(name, role, digest);
    return digest;
  }

  async finish(header: Omit<ReleaseManifest, 'schemaVersion' | 'files'>): Promise<ReleaseManifest> {
    const manifest: ReleaseManifest = { schemaVersion: MANIFEST_SCHEMA_VERSION, ...header, files: sortFiles(this.files) };
    const bytes = Buffer.from(renderJson(manifest));
    releaseFromBytes(this.dir, bytes); // the manifest written must be one every reader accepts
    await writeFileAtomic(join(this.dir, MANIFEST_FILE), bytes);
    return manifest;
  }
}

/** A file that should be somewhere with this digest. */
export interface ExpectedFile {
  path: string;
  sha256: string;
  size?: number;
}

/**
 * The digest of a file by name, or undefined when it is not there. Given the
 * size it should have, a source may skip hashing a file of another size and
 * return its size with an empty digest.
 */
export type DigestSource = (name: string, expectedSize?: number) => Promise<FileDigest | undefined>;

/** What a file is checked against, for the messages: the manifest, or the signed statement. */
export type CheckedAgainst = 'manifest' | 'signature';

/** Digests of files on disk, each read once, streaming. A non-regular file counts as modified. */
export function diskDigests(dir: string): DigestSource {
  return async (name, expectedSize) => {
    try {
      return await digestFile(join(dir, name), undefined, expectedSize);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (e instanceof NotRegularFileError) throw new PiImageError('FILE_MODIFIED', `${name} in ${dir}: ${e.message}`);
      throw e;
    }
  };
}

/** Checks every expected file against its digest: FILE_MISSING or FILE_MODIFIED naming the file. */
export async function checkFiles(expected: readonly ExpectedFile[], digestOf: DigestSource, where: string, against: CheckedAgainst): Promise<number> {
  for (const f of expected) {
    const actual = await digestOf(f.path, f.size);
    if (!actual) {
      throw new PiImageError(
        'FILE_MISSING',
        against === 'manifest' ? `${f.path} is listed in ${MANIFEST_FILE} but missing from ${where}` : `${f.path} is signed but missing from ${where}`,
      );
    }
    if (f.size !== undefined && actual.size !== f.size) {
      throw new PiImageError(
        'FILE_MODIFIED',
        against === 'manifest'
          ? `${f.path} in ${where} does not match ${MANIFEST_FILE}: ${actual.size} bytes, listed ${f.size}`
          : `${f.path} in ${where} was modified after signing: ${actual.size} bytes, signed ${f.size}`,
      );
    }
    if (actual.sha256 !== f.sha256) {
      throw new PiImageError(
        'FILE_MODIFIED',
        against === 'manifest'
          ? `${f.path} in ${where} does not match ${MANIFEST_FILE}: sha256 ${actual.sha256}, ${actual.size} bytes; listed ${f.sha256}, ${f.size ?? '?'} bytes`
          : `${f.path} in ${where} was modified after signing: sha256 ${actual.sha256}, signed ${f.sha256}`,
      );
    }
  }
  return expected.length;
}

/** Entries of a directory that are not among `expected` (sorted). */
export async function strayEntries(dir: string, expected: ReadonlySet<string>): Promise<string[]> {
  return (await listReleaseDir(dir)).filter((name) => !expected.has(name));
}

/** Every name a release directory may hold: the manifest, its files, and the files beside it. */
export function releaseNames(release: ReleaseDir): Set<string> {
  return new Set([MANIFEST_FILE, ...release.manifest.files.map((f) => f.path), ...besideFiles(release.manifest.name)]);
}
