/**
 * An OCI image layout on disk (oci-layout, index.json, blobs/sha256/…): the
 * default publish target when no registry is configured, and readable by any
 * OCI tool (skopeo `oci:DIR:TAG`). Blobs are written under a temporary name
 * and renamed once their digest is known and checked; index.json likewise.
 */
import { existsSync } from 'node:fs';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import { AtomicFile, writeFileAtomic } from '../core/atomic-file';
import { PiImageError } from '../core/errors';
import { HashingPassThrough, regularFileChunks, verifiedChunks } from '../core/file-digest';
import { parseJsonObject } from '../core/json-value';
import { readSmallFile } from '../core/small-file';
import { ANNOTATION, isDescriptor, OCI_INDEX, type Descriptor } from './media-types';
import { DIGEST } from './reference';
import { MAX_MANIFEST_BYTES } from './manifest-json';
import { digestOf, type BlobSource } from './blob-source';
import { isReferrersTag, type OciStore, type StoredManifest } from './store';

const MAX_INDEX_BYTES = 16 * 1024 * 1024;
/** The file that makes a directory an OCI image layout, and the layout's index. */
const MARKER_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';

interface Index {
  schemaVersion: 2;
  mediaType: typeof OCI_INDEX;
  manifests: Descriptor[];
}

export class OciLayout implements OciStore {
  readonly label: string;

  private constructor(
    readonly dir: string,
    /** Not written yet: created by the first write. */
    private pending: boolean,
  ) {
    this.label = `oci:${dir}`;
  }

  get localDir(): string {
    return this.dir;
  }

  pinned(digest: string): string {
    return `oci:${resolvePath(this.dir)}@${digest}`;
  }

  /**
   * Opens the layout in `dir`. A directory without an `oci-layout` file is
   * refused unless `create` (a publish target): then nothing is written until
   * the first blob is, so a publish refused before it starts leaves no empty
   * layout behind.
   */
  static async open(dir: string, options: { create: boolean }): Promise<OciLayout> {
    const marker = join(dir, MARKER_FILE);
    let text: string | undefined;
    try {
      text = (await readSmallFile(marker, 4096)).toString('utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    if (text === undefined) {
      if (!options.create) throw new PiImageError('INPUT_INVALID', `${dir} is not an OCI image layout (no oci-layout file)`);
      return new OciLayout(dir, true);
    }
    if (parseJsonObject(text)?.imageLayoutVersion !== '1.0.0') {
      throw new PiImageError('INPUT_INVALID', `${marker} does not say imageLayoutVersion 1.0.0: not an OCI image layout of a version this tool reads`);
    }
    return new OciLayout(dir, false);
  }

  /** Whether `dir` holds an OCI image layout (its marker file is there). */
  static isLayoutDir(dir: string): boolean {
    return existsSync(join(dir, MARKER_FILE));
  }

  /** Writes oci-layout and an empty index.json once the first blob is stored: a layout whose first write fails is not left behind. */
  private async ensureCreated(): Promise<void> {
    if (!this.pending) return;
    await writeFileAtomic(join(this.dir, INDEX_FILE), `${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] })}\n`);
    await writeFileAtomic(join(this.dir, MARKER_FILE), '{"imageLayoutVersion":"1.0.0"}\n');
    this.pending = false;
  }

  /** The blobs directory, made when needed; for a layout not yet created, the directories made are remembered to be removed if the first write fails. */
  private async blobsDir(): Promise<string> {
    const dir = join(this.dir, 'blobs', 'sha256');
    const made = await mkdir(dir, { recursive: true });
    if (this.pending && made !== undefined) this.madeDirs ??= made;
    return dir;
  }

  /** After a failed first write: the directories this layout made, removed while they are empty. */
  private async undoDirs(): Promise<void> {
    if (!this.pending || this.madeDirs === undefined) return;
    const top = this.madeDirs;
    for (let d = join(this.dir, 'blobs', 'sha256'); d.length >= top.length; d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return;
      }
    }
  }

  private madeDirs: string | undefined;

  blobPath(digest: string): string {
    if (!DIGEST.test(digest)) throw new PiImageError('INPUT_INVALID', `not a sha256 digest: ${digest}`);
    return join(this.dir, 'blobs', 'sha256', digest.slice(7));
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      return (await stat(this.blobPath(digest))).isFile();
    } catch {
      return false;
    }
  }

  /** Writes a blob from one pass over `open()`, hashing it on the way; returns its digest and size. */
  putBlobStream(open: () => AsyncIterable<Buffer>): Promise<{ digest: string; size: number }> {
    return this.writeBlob(open());
  }

  private async writeBlob(source: Readable | AsyncIterable<Buffer>, expected?: string): Promise<{ digest: string; size: number }> {
    const counter = new HashingPassThrough();
    const file = new AtomicFile(join(await this.blobsDir(), expected ? expected.slice(7) : 'blob'));
    try {
      await file.fill(source, counter);
      const { size, sha256 } = counter.digest();
      const digest = `sha256:${sha256}`;
      if (expected && digest !== expected) throw new PiImageError('DIGEST_MISMATCH', `blob should be ${expected} but is ${digest}`);
      await file.commit(this.blobPath(digest));
      await this.ensureCreated();
      return { digest, size };
    } catch (e) {
      await file.discard();
      await this.undoDirs();
      throw e;
    }
  }

  async putBlobBytes(bytes: Buffer): Promise<string> {
    const digest = digestOf(bytes);
    if (!(await this.hasBlob(digest))) {
      await this.blobsDir();
      try {
        await writeFileAtomic(this.blobPath(digest), bytes);
      } catch (e) {
        await this.undoDirs();
        throw e;
      }
    }
    await this.ensureCreated();
    return digest;
  }

  async putBlob(source: BlobSource): Promise<'exists' | 'stored'> {
    if (await this.hasBlob(source.descriptor.digest)) return 'exists';
    await this.writeBlob(source.open(), source.descriptor.digest);
    return 'stored';
  }

  /** A blob's bytes, unverified (only a regular file is read), whole or a range (inclusive end). */
  openBlob(digest: string, start?: number, end?: number): AsyncIterable<Buffer> {
    return regularFileChunks(this.blobPath(digest), start, end);
  }

  async *readBlob(descriptor: { digest: string; size: number }): AsyncGenerator<Buffer> {
    const where = `blob ${descriptor.digest} in ${this.dir}`;
    try {
      yield* verifiedChunks(this.openBlob(descriptor.digest), { size: descriptor.size, sha256: descriptor.digest.slice(7) }, (found) =>
        found.larger
          ? new PiImageError('DIGEST_MISMATCH', `${where} is larger than the ${descriptor.size} bytes its descriptor says`)
          : new PiImageError('DIGEST_MISMATCH', `${where} is ${found.actual.size} bytes with digest sha256:${found.actual.sha256}: refused`),
      );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PiImageError('INPUT_INVALID', `${this.dir} has no blob ${descriptor.digest}`, { cause: e });
      throw e;
    }
  }

  async putManifest(bytes: Buffer, mediaType: string, tag?: string): Promise<{ digest: string; subjectAccepted: boolean }> {
    const digest = await this.putBlobBytes(bytes);
    if (tag) {
      const { artifactType } = JSON.parse(bytes.toString('utf8')) as { artifactType?: string };
      await this.tag({ mediaType, digest, size: bytes.length, ...(artifactType ? { artifactType } : {}) }, tag);
    }
    return { digest, subjectAccepted: false };
  }

  async getManifest(reference: string): Promise<StoredManifest> {
    let descriptor: Descriptor | undefined;
    if (DIGEST.test(reference)) descriptor = (await this.readIndex()).manifests.find((m) => m.digest === reference);
    else {
      descriptor = await this.resolve(reference);
      if (!descriptor) throw new PiImageError('INPUT_INVALID', `${this.dir} has no tag "${reference}"${await this.tagHint()}`);
    }
    const digest = descriptor?.digest ?? reference;
    let bytes: Buffer;
    try {
      bytes = await readSmallFile(this.blobPath(digest), Math.min(descriptor?.size ?? MAX_MANIFEST_BYTES, MAX_MANIFEST_BYTES));
    } catch (e) {
      if (e instanceof PiImageError) throw new PiImageError('DIGEST_MISMATCH', `manifest ${digest} in ${this.dir}: ${e.message}`, { cause: e });
      throw new PiImageError('INPUT_INVALID', `${this.dir} has no manifest ${digest}`, { cause: e });
    }
    const actual = digestOf(bytes);
    if (actual !== digest) throw new PiImageError('DIGEST_MISMATCH', `manifest ${digest} in ${this.dir} has digest ${actual}: refused`);
    const declared = parseJsonObject(bytes.toString('utf8'))?.mediaType;
    const mediaType = descriptor?.mediaType ?? (typeof declared === 'string' ? declared : '');
    return { bytes, mediaType, digest };
  }

  async resolveTag(tag: string): Promise<string | undefined> {
    return (await this.resolve(tag))?.digest;
  }

  referrersApi(): Promise<Descriptor[] | undefined> {
    return Promise.resolve(undefined);
  }

  /** Tags in index.json, each with the digest it points at. */
  async tags(): Promise<{ tag: string; digest: string }[]> {
    return (await this.readIndex()).manifests.flatMap((m) => {
      const tag = m.annotations?.[ANNOTATION.refName];
      return tag ? [{ tag, digest: m.digest }] : [];
    });
  }

  private async tagHint(): Promise<string> {
    const tags = (await this.tags()).map((t) => t.tag).filter((t) => !isReferrersTag(t));
    return tags.length > 0 ? ` (it has: ${tags.join(', ')})` : ' (it has no tags)';
  }

  async readIndex(): Promise<Index> {
    if (this.pending) return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
    const path = join(this.dir, INDEX_FILE);
    const index = parseJsonObject((await readSmallFile(path, MAX_INDEX_BYTES)).toString('utf8'));
    if (!index || !Array.isArray(index.manifests)) throw new PiImageError('INPUT_INVALID', `${path} is not an OCI image index (JSON with a manifests list)`);
    const manifests = (index.manifests as unknown[]).filter(isDescriptor);
    if (manifests.length !== index.manifests.length) throw new PiImageError('INPUT_INVALID', `${path} lists a manifest without a sha256 digest and a size`);
    return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
  }

  /** Points `tag` at a manifest in index.json (replacing an earlier manifest with that tag). */
  async tag(descriptor: Descriptor, tag: string): Promise<void> {
    await this.ensureCreated();
    const index = await this.readIndex();
    index.manifests = index.manifests.filter((m) => m.annotations?.[ANNOTATION.refName] !== tag);
    index.manifests.push({ ...descriptor, annotations: { ...descriptor.annotations, [ANNOTATION.refName]: tag } });
    await writeFileAtomic(join(this.dir, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
  }

  async resolve(tag: string): Promise<Descriptor | undefined> {
    return (await this.readIndex()).manifests.find((m) => m.annotations?.[ANNOTATION.refName] === tag);
  }
}
