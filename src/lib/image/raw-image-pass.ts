/**
 * One read of the raw disk image yields everything the release needs from its
 * bytes: size, sha256, the block map, an xz-compressed copy (multi-threaded xz
 * fed through a pipe, its output hashed on the way to disk) and, when the input
 * was compressed, a sparse raw copy for reading files out of the image later.
 * Memory stays bounded: one read chunk, xz's own buffers, and the block map's
 * range list.
 */
import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PiImageError } from '../core/errors';
import { DigestCounter, HashingPassThrough, type FileDigest } from '../core/file-digest';
import { execStream } from '../core/exec';
import type { Logger } from '../core/logger';
import { BMAP_BLOCK_SIZE, BlockMapBuilder, type BlockMap } from './bmap';

export interface XzOptions {
  /** Where the compressed image goes (the caller's temporary name). */
  path: string;
  /** xz preset 0–9 (pi-gen's COMPRESSION_LEVEL, default 6). */
  level: number;
  /** 0 = one per core. */
  threads: number;
}

export interface RawPassOptions {
  logger: Logger;
  /** Names the input in errors and progress. */
  sourceName: string;
  expectedSize?: number | undefined;
  xz?: XzOptions;
  sparseCopy?: string;
  /** Called once with the first sector(s) (up to 64 KiB); throw to refuse the input early. */
  checkHead?: (head: Buffer) => void;
}

export interface RawPassResult {
  raw: FileDigest;
  bmap: BlockMap;
  compressed?: FileDigest;
}

const ZERO_BLOCK = Buffer.alloc(BMAP_BLOCK_SIZE);

export async function rawImagePass(source: Readable, options: RawPassOptions): Promise<RawPassResult> {
  const { logger, sourceName } = options;
  const BS = BMAP_BLOCK_SIZE;
  const raw = new DigestCounter();
  const bmap = new BlockMapBuilder(BS);
  let carry: Buffer | undefined;
  let head: Buffer | undefined = options.checkHead ? Buffer.alloc(0) : undefined;
  let sparse: FileHandle | undefined;

  // What fails on the output side is the output's fault, never the image's: remembered here and
  // reported naming the output file, whatever error the input side sees because of it (an EPIPE).
  let outputFailure: PiImageError | undefined;
  const outputFailed =
    (path: string) =>
    (e: unknown): PiImageError => {
      outputFailure ??= e instanceof PiImageError ? e : new PiImageError('IO_FAILED', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
      return outputFailure;
    };

  let xz:
    | {
        stdin: NodeJS.WritableStream & { write(b: Buffer): boolean };
        done: Promise<void>;
        out: Promise<void>;
        counter: HashingPassThrough;
        stop(): Promise<void>;
      }
    | undefined;
  if (options.xz) {
    const level = options.xz.level;
    // Always xz's multi-threaded encoder (xz >= 5.4): its output depends on the preset only, not on
    // the thread count, so the same image gives the same bytes on any machine. Plain 1 would
    // select the single-threaded encoder, whose output differs; "+1" keeps one thread in MT mode.
    const threads = options.xz.threads === 1 ? '+1' : String(options.xz.threads);
    const { child, done, stop } = execStream('xz', ['--compress', '--stdout', `-${level}`, `--threads=${threads}`, '--check=crc64'], {
      logger,
      stdin: 'pipe',
    });
    const counter = new HashingPassThrough();
    const xzPath = options.xz.path;
    const out = pipeline(child.stdout, counter, createWriteStream(xzPath)).catch((e: unknown) => {
      throw outputFailed(xzPath)(e);
    });
    out.catch(() => undefined);
    const stdin = child.stdin!;
    stdin.on('error', () => undefined); // EPIPE when xz dies: reported through `done` (or the output's failure).
    xz = { stdin, done, out, counter, stop };
  }

  const waitDrain = async (): Promise<void> => {
    await Promise.race([
      once(xz!.stdin as unknown as NodeJS.EventEmitter, 'drain'),
      xz!.out,
      xz!.done.then(() => {
        throw new PiImageError('EXEC_FAILED', 'xz exited before the image was fully written to it');
      }),
    ]);
  };
  const writeSparse = async (segment: Buffer, at: number): Promise<void> => {
    try {
      await sparse!.write(segment, 0, segment.length, at);
    } catch (e) {
      throw outputFailed(options.sparseCopy!)(e);
    }
  };

  const blocks = async (data: Buffer, offset: number): Promise<void> => {
    const n = Math.ceil(data.length / BS);
    let i = 0;
    while (i < n) {
      const zero = data.subarray(i * BS, (i + 1) * BS).equals(ZERO_BLOCK.subarray(0, Math.min(BS, data.length - i * BS)));
      let j = i + 1;
      while (j < n && data.subarray(j * BS, (j + 1) * BS).equals(ZERO_BLOCK.subarray(0, Math.min(BS, data.length - j * BS))) === zero) j++;
      if (zero) bmap.addUnmapped(j - i);
      else {
        const segment = data.subarray(i * BS, Math.min(j * BS, data.length));
        bmap.addMapped(segment, j - i);
        if (sparse) await writeSparse(segment, offset + i * BS);
      }
      i = j;
    }
  };

  try {
    if (options.sparseCopy) sparse = await open(options.sparseCopy, 'w').catch((e: unknown) => Promise.reject(outputFailed(options.sparseCopy!)(e)));
    let blockOffset = 0;
    for await (const piece of source) {
      const chunk = piece as Buffer;
      if (head && head.length < 65536) {
        head = Buffer.concat([head, chunk.subarray(0, 65536 - head.length)]);
        if (head.length >= 65536) {
          options.checkHead!(head);
          head = undefined;
        }
      }
      raw.update(chunk);
      if (xz && !xz.stdin.write(chunk)) await waitDrain();
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const whole = data.length - (data.length % BS);
      await blocks(data.subarray(0, whole), blockOffset);
      blockOffset += whole;
      carry = whole < data.length ? Buffer.from(data.subarray(whole)) : undefined;
      logger.progress(`reading ${sourceName}`, raw.size, options.expectedSize);
    }
    if (raw.size === 0) throw new PiImageError('IMAGE_EMPTY', `${sourceName}: the image is empty (0 bytes)`);
    if (head) options.checkHead!(head);
    if (carry) await blocks(carry, blockOffset);
    if (options.expectedSize !== undefined && raw.size !== options.expectedSize) {
      throw new PiImageError('IMAGE_CORRUPT', `${sourceName}: read ${raw.size} bytes, expected ${options.expectedSize}`);
    }
    if (xz) {
      xz.stdin.end();
      await xz.done;
      await xz.out;
    }
    if (sparse) {
      await sparse.truncate(raw.size).catch((e: unknown) => Promise.reject(outputFailed(options.sparseCopy!)(e)));
    }
  } catch (error) {
    await xz?.stop();
    // The input stream (a decompressor) is stopped too: nothing is left blocked writing to it.
    source.destroy();
    if (outputFailure) throw outputFailure;
    if (error instanceof PiImageError) throw error;
    throw new PiImageError('IMAGE_CORRUPT', `${sourceName}: cannot be read to the end: ${(error as Error).message}`, { cause: error });
  } finally {
    await sparse?.close();
  }

  const digest = raw.digest();
  const result: RawPassResult = { raw: digest, bmap: bmap.finish(digest.size) };
  if (xz) result.compressed = xz.counter.digest();
  return result;
}
