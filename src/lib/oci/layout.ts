/**
 * An OCI image layout on disk (oci-layout, index.json, blobs/sha256/…): the
 * default publish target when no registry is configured, and readable by any
 * OCI tool (skopeo `oci:DIR:TAG`). Blobs are written under a temporary name
 * and renamed once their digest is known and checked; index.json likewise.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PiImageError } from '../core/errors';
import { ANNOTATION, OCI_INDEX, type Descriptor } from './media-types';
import { DIGEST } from './reference';

interface Index {
  schemaVersion: 2;
  mediaType: typeof OCI_INDEX;
  manifests: Descriptor[];
}

export class OciLayout {
  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<OciLayout> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    const marker = join(dir, 'oci-layout');
    try {
      const text = await readFile(marker, 'utf8');
      if ((JSON.parse(text) as { imageLayoutVersion?: string }).imageLayoutVersion !== '1.0.0') {
        throw new PiImageError('INPUT_INVALID', `${dir} holds an OCI layout of a version other than 1.0.0`);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await writeFile(marker, '{"imageLayoutVersion":"1.0.0"}\n');
      await writeFile(join(dir, 'index.json'), `${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] })}\n`);
    }
    return new OciLayout(dir);
  }

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

  /** Writes a blob from a stream, hashing it on the way; returns its digest and size. */
  async putBlobStream(source: Readable, expected?: string): Promise<{ digest: string; size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    const temp = join(this.dir, 'blobs', 'sha256', `.partial-${randomBytes(6).toString('hex')}`);
    try {
      await pipeline(
        source,
        new Transform({
          transform(chunk: Buffer, _e, done: TransformCallback) {
            hash.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        }),
        createWriteStream(temp),
      );
      const digest = `sha256:${hash.digest('hex')}`;
      if (expected && digest !== expected) throw new PiImageError('DIGEST_MISMATCH', `blob should be ${expected} but is ${digest}`);
      await rename(temp, this.blobPath(digest));
      return { digest, size };
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }

  async putBlobFile(file: string, digest: string): Promise<void> {
    if (await this.hasBlob(digest)) return;
    await this.putBlobStream(createReadStream(file, { highWaterMark: 1 << 20 }), digest);
  }

  async putBlobBytes(bytes: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (!(await this.hasBlob(digest))) {
      const temp = `${this.blobPath(digest)}.partial-${process.pid}`;
      await writeFile(temp, bytes);
      await rename(temp, this.blobPath(digest));
    }
    return digest;
  }

  /** Opens a blob for reading; the caller checks the digest as it streams. */
  readBlob(digest: string): Readable {
    return createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 });
  }

  async readIndex(): Promise<Index> {
    return JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as Index;
  }

  /** Points `tag` at a manifest in index.json (replacing an earlier manifest with that tag). */
  async tag(descriptor: Descriptor, tag: string): Promise<void> {
    const index = await this.readIndex();
    index.manifests = index.manifests.filter((m) => m.annotations?.[ANNOTATION.refName] !== tag);
    index.manifests.push({ ...descriptor, annotations: { ...descriptor.annotations, [ANNOTATION.refName]: tag } });
    const temp = join(this.dir, `.index.json.partial-${process.pid}`);
    await writeFile(temp, `${JSON.stringify(index, null, 2)}\n`);
    await rename(temp, join(this.dir, 'index.json'));
  }

  async resolve(tag: string): Promise<Descriptor | undefined> {
    return (await this.readIndex()).manifests.find((m) => m.annotations?.[ANNOTATION.refName] === tag);
  }
}
