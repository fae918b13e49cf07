/**
 * Files that appear whole or not at all: written under a temporary name beside
 * their place, then renamed over it. A crash or a full disk leaves the old
 * file (or none), never half of a new one.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { registerCleanup } from './cleanup';
import { PiImageError } from './errors';
import { isOwnWriteError } from './file-digest';

/** The temporary name for `path`: hidden, in the same directory (so rename is atomic). */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function writeFileAtomic(path: string, content: string | Buffer): Promise<void> {
  const temp = temporaryPathFor(path);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw new PiImageError('IO_FAILED', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * A file written from a stream under a temporary name beside `path`: `commit`
 * renames it into place (or to a name known only once the bytes are, such as
 * a digest), `discard` removes it, and a signal before either removes it too.
 * A failure writing it (a full disk) is IO_FAILED naming the file, never
 * blamed on the input the bytes came from.
 */
export class AtomicFile {
  private readonly unregister: () => void;
  readonly stream: WriteStream;
  private writeFailure: Error | undefined;

  constructor(readonly path: string) {
    const temp = temporaryPathFor(path);
    this.temp = temp;
    this.stream = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    // Only the file's own failures (opening, writing, closing it): an input error that ends the pipeline destroys the stream with that error too.
    this.stream.once('error', (e) => {
      if (isOwnWriteError(e)) this.writeFailure = e;
    });
    this.unregister = registerCleanup(() => rm(temp, { force: true }));
  }

  readonly temp: string;

  /** Streams `source` (through `through`, if given) into the file; output failures name the file. */
  async fill(source: Readable | AsyncIterable<Buffer>, through?: Transform): Promise<void> {
    try {
      if (through) await pipeline(source, through, this.stream);
      else await pipeline(source, this.stream);
    } catch (e) {
      throw this.blame(e);
    }
  }

  /** The error to report: the output's, naming the file, when writing it failed. */
  blame(e: unknown): unknown {
    return this.writeFailure ? new PiImageError('IO_FAILED', `cannot write ${this.path}: ${this.writeFailure.message}`, { cause: this.writeFailure }) : e;
  }

  async commit(finalPath = this.path): Promise<void> {
    try {
      await rename(this.temp, finalPath);
    } catch (e) {
      await this.discard();
      throw new PiImageError('IO_FAILED', `cannot write ${finalPath}: ${(e as Error).message}`, { cause: e });
    }
    this.unregister();
  }

  async discard(): Promise<void> {
    // The stream may still be opening its file: removed before the open completes, the file would appear afterwards.
    if (!this.stream.closed) await new Promise<void>((closed) => this.stream.once('close', () => closed()).destroy());
    await rm(this.temp, { force: true });
    this.unregister();
  }
}
