/**
 * sha256 and size of bytes, streamed: a file of any size is hashed with one
 * read chunk in memory. Only regular files are read: a FIFO, a device or a
 * directory given where a file belongs is refused at once (opened without
 * blocking, then checked), never waited on.
 */
import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PiImageError } from './errors';

export interface FileDigest {
  size: number;
  sha256: string;
}

export const READ_CHUNK = 1 << 20;

/** sha256 and size of bytes seen one chunk at a time: the one place bytes are hashed and counted. */
export class DigestCounter {
  private readonly hash = createHash('sha256');
  size = 0;
  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }
  digest(): FileDigest {
    return { size: this.size, sha256: this.hash.digest('hex') };
  }
}

/** Passes bytes through, hashing and counting them. */
export class HashingPassThrough extends Transform {
  private readonly counter = new DigestCounter();
  get size(): number {
    return this.counter.size;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.counter.update(chunk);
    done(null, chunk);
  }
  digest(): FileDigest {
    return this.counter.digest();
  }
}

/** What a verified stream expects: an unset size or digest is not checked. */
export interface ExpectedBytes {
  size?: number | undefined;
  sha256?: string | undefined;
}

/** How a verified stream says it got other bytes: more than expected (at once), or another size or digest (at the end). */
export type Mismatch = (found: { larger: true } | { larger: false; actual: FileDigest }) => Error;

/**
 * Passes chunks through unchanged while hashing and counting them; fails as
 * soon as there are more bytes than expected, and at the end when the size or
 * digest differ. A consumer that commits only after the last chunk commits
 * nothing unverified.
 */
export async function* verifiedChunks(source: AsyncIterable<Buffer>, expected: ExpectedBytes, mismatch: Mismatch): AsyncGenerator<Buffer> {
  const counter = new DigestCounter();
  for await (const chunk of source) {
    counter.update(chunk);
    if (expected.size !== undefined && counter.size > expected.size) throw mismatch({ larger: true });
    yield chunk;
  }
  const actual = counter.digest();
  if ((expected.size !== undefined && actual.size !== expected.size) || (expected.sha256 !== undefined && actual.sha256 !== expected.sha256)) {
    throw mismatch({ larger: false, actual });
  }
}

export function digestBytes(bytes: Buffer | string): FileDigest {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  return { size: b.length, sha256: createHash('sha256').update(b).digest('hex') };
}

/** A path that is there but is not a regular file (a FIFO, a device, a socket, a link, a directory). */
export class NotRegularFileError extends PiImageError {
  constructor(
    readonly path: string,
    readonly kind: string,
    options?: { cause?: unknown },
  ) {
    super('INPUT_INVALID', `${path} is not a regular file (${kind})`, options);
    this.name = 'NotRegularFileError';
  }
}

/**
 * Opens a regular file for reading. ENOENT passes through (callers say what is
 * missing); anything that is not a regular file is INPUT_INVALID naming it.
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new NotRegularFileError(path, 'a symbolic link', { cause: e });
    if (code === 'ENXIO') throw new NotRegularFileError(path, 'a socket', { cause: e });
    if (code === 'EISDIR') throw new NotRegularFileError(path, 'a directory', { cause: e });
    throw e;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NotRegularFileError(path, kindOf(st));
    return handle;
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** The bytes of a regular file (or the inclusive range start..end), one chunk at a time; the file is closed however the reader stops. */
export async function* regularFileChunks(path: string, start?: number, end?: number): AsyncGenerator<Buffer> {
  const handle = await openRegularFile(path);
  try {
    const stream = handle.createReadStream({
      highWaterMark: READ_CHUNK,
      autoClose: false,
      ...(start !== undefined ? { start } : {}),
      ...(end !== undefined ? { end } : {}),
    });
    for await (const chunk of stream) yield chunk as Buffer;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** What is at a path (following links): a regular file, nothing, or a description of something else. */
export async function pathKind(path: string): Promise<string> {
  try {
    const st = await stat(path);
    return st.isFile() ? 'file' : kindOf(st);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return 'missing';
    throw e;
  }
}

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

const OUTPUT_SYSCALLS = new Set(['open', 'write', 'writev', 'close', 'fsync', 'fdatasync']);

/**
 * Whether an error a write stream emitted is its own (opening, writing,
 * closing the file: a full disk) rather than an input's error that a pipeline
 * destroyed it with: the output is blamed only for its own.
 */
export function isOwnWriteError(e: unknown): e is NodeJS.ErrnoException {
  const syscall = (e as NodeJS.ErrnoException | undefined)?.syscall;
  return syscall !== undefined && OUTPUT_SYSCALLS.has(syscall);
}

/**
 * Hashes a regular file; with `copyTo`, writes the same bytes there in the
 * same pass. With `expectedSize`, a file of another size is not read at all
 * (its digest comes back empty): a huge or sparse file put in place of a
 * small one costs nothing.
 */
export async function digestFile(path: string, copyTo?: string, expectedSize?: number): Promise<FileDigest> {
  const handle = await openRegularFile(path);
  if (expectedSize !== undefined) {
    const { size } = await handle.stat();
    if (size !== expectedSize) {
      await handle.close();
      return { size, sha256: '' };
    }
  }
  const counter = new HashingPassThrough();
  let writeFailure: Error | undefined;
  const sink = copyTo
    ? createWriteStream(copyTo).once('error', (e) => {
        if (isOwnWriteError(e)) writeFailure = e;
      })
    : new Writable({
        write(_chunk: Buffer, _enc, done) {
          done();
        },
      });
  try {
    await pipeline(handle.createReadStream({ highWaterMark: READ_CHUNK }), counter, sink);
  } catch (e) {
    // A full disk is the output's fault, not the input's: name the file that could not be written.
    if (writeFailure) throw new PiImageError('IO_FAILED', `cannot write ${copyTo}: ${writeFailure.message}`, { cause: writeFailure });
    throw e;
  }
  return counter.digest();
}
