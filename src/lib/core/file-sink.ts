/**
 * A new file written chunk by chunk with back-pressure, hashed as it is
 * written, and optionally compressed first (gzip, or zstd where the runtime
 * has it: Node 22.15 and later). A failure to write is the output's (a full
 * disk), named as such: never blamed on what the bytes came from. The file is
 * created exclusively: an existing one is never overwritten.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { PiImageError } from './errors';
import { DigestCounter, type FileDigest } from './file-digest';

export interface FileSink {
  write(chunk: Buffer): Promise<void>;
  /** Flushes and closes the file; resolves with the digest of what it holds. */
  end(): Promise<FileDigest>;
  /** Stops writing after a failure (the caller removes the file). */
  abort(): void;
}

export function openFileSink(path: string): FileSink {
  const counter = new DigestCounter();
  const out: WriteStream = createWriteStream(path, { flags: 'wx' });
  const failed = new Promise<never>((_, reject) =>
    out.once('error', (e) => reject(new PiImageError('IO_FAILED', `cannot write ${path}: ${e.message}`, { cause: e }))),
  );
  failed.catch(() => undefined);
  return {
    async write(chunk) {
      counter.update(chunk);
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
    },
    async end() {
      out.end();
      await Promise.race([once(out, 'close'), failed]);
      return counter.digest();
    },
    abort() {
      out.destroy();
    },
  };
}

export type SinkCompression = 'gzip' | 'zstd';

type ZstdFactory = (options?: { params?: Record<number, number> }) => Transform;
const zstdFactory = (zlib as unknown as { createZstdCompress?: ZstdFactory }).createZstdCompress;

/** Whether this runtime's zlib compresses zstd (Node 22.15+, 24). */
export function hasZstd(): boolean {
  return typeof zstdFactory === 'function';
}

function compressor(kind: SinkCompression): Transform {
  if (kind === 'gzip') return zlib.createGzip({ level: 6 });
  if (!zstdFactory) throw new PiImageError('TOOL_MISSING', `zstd needs Node 22.15 or later (this is ${process.version}): use gzip`);
  // Level 3 (zstd's default) and a checksum of the content, as the zstd tool writes with --check.
  const params = zlib.constants as unknown as Record<string, number>;
  return zstdFactory({ params: { [params.ZSTD_c_compressionLevel!]: 3, [params.ZSTD_c_checksumFlag!]: 1 } });
}

export interface CompressedSink extends FileSink {
  /** Bytes given to write() so far, before compression. */
  readonly rawBytes: number;
}

/** A new file holding the compressed bytes of what is written to it; end() gives the compressed file's digest. */
export function openCompressedSink(path: string, kind: SinkCompression): CompressedSink {
  const file = openFileSink(path);
  const z = compressor(kind);
  let rawBytes = 0;
  const pumped = (async () => {
    for await (const chunk of z) await file.write(chunk as Buffer);
    return file.end();
  })();
  pumped.catch(() => undefined);
  return {
    get rawBytes() {
      return rawBytes;
    },
    async write(chunk) {
      rawBytes += chunk.length;
      if (!z.write(chunk)) await Promise.race([once(z, 'drain'), pumped]);
    },
    async end() {
      z.end();
      return pumped;
    },
    abort() {
      z.destroy();
      file.abort();
    },
  };
}
