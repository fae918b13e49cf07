/**
 * The bytes of a raw disk image that a block map says hold data, in order, as
 * pieces with their offsets: what a flash writes. From a compressed image the
 * whole stream is decompressed and the unmapped stretches dropped; from a raw
 * image only the mapped ranges are read. Each range is hashed on the way and
 * checked against the block map's digest when it ends (IMAGE_CORRUPT when it
 * differs), and the whole image's digest is computed when every byte passes.
 */
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { PiImageError } from '../core/errors';
import { DigestCounter, READ_CHUNK, type FileDigest } from '../core/file-digest';
import type { BlockMap } from './bmap';

export interface ImagePiece {
  offset: number;
  data: Buffer;
}

/** Ranges to write in bytes: a block map's, or the whole image when there is none. */
export interface ByteRange {
  start: number;
  /** Exclusive. */
  end: number;
  /** sha256 of the range's bytes, when known. */
  sha256?: string | undefined;
}

/** Without a block map every byte is mapped: one range, checked against the whole image's digest when it is known. */
export function rangesOf(map: BlockMap | undefined, imageSize: number, imageSha256?: string): ByteRange[] {
  if (!map) return imageSize > 0 ? [{ start: 0, end: imageSize, sha256: imageSha256 }] : [];
  return map.ranges.map((r) => ({ start: r.first * map.blockSize, end: Math.min((r.last + 1) * map.blockSize, map.imageSize), sha256: r.sha256 }));
}

export function mappedBytes(ranges: readonly ByteRange[]): number {
  return ranges.reduce((n, r) => n + (r.end - r.start), 0);
}

function rangeCheck(source: string) {
  return (range: ByteRange, sha256: string): void => {
    if (range.sha256 !== undefined && range.sha256 !== sha256) {
      throw new PiImageError(
        'IMAGE_CORRUPT',
        `${source}: bytes ${range.start}–${range.end - 1} do not match the block map's sha256 for them: the image and its block map disagree`,
      );
    }
  };
}

export interface PieceStream {
  pieces: AsyncGenerator<ImagePiece>;
  /** The whole raw image's digest, once every byte was read (only when the whole image passes: a stream). */
  digest(): FileDigest | undefined;
}

/**
 * Pieces of the mapped ranges from a stream of the whole raw image (a
 * decompressor's output). The stream must be exactly `imageSize` bytes.
 */
export function piecesFromStream(stream: Readable, ranges: readonly ByteRange[], imageSize: number, source: string): PieceStream {
  const whole = new DigestCounter();
  let finished: FileDigest | undefined;
  const check = rangeCheck(source);
  async function* generate(): AsyncGenerator<ImagePiece> {
    let position = 0;
    let index = 0;
    let hash = createHash('sha256');
    for await (const c of stream) {
      const chunk = c as Buffer;
      whole.update(chunk);
      let at = 0;
      while (at < chunk.length && index < ranges.length) {
        const range = ranges[index]!;
        const here = position + at;
        if (here < range.start) {
          at = Math.min(chunk.length, range.start - position);
          continue;
        }
        const take = Math.min(chunk.length - at, range.end - here);
        const piece = chunk.subarray(at, at + take);
        hash.update(piece);
        yield { offset: here, data: piece };
        at += take;
        if (here + take === range.end) {
          check(range, hash.digest('hex'));
          hash = createHash('sha256');
          index++;
        }
      }
      position += chunk.length;
      if (position > imageSize) throw new PiImageError('IMAGE_CORRUPT', `${source}: the image is longer than the ${imageSize} bytes its block map describes`);
    }
    if (position !== imageSize || index < ranges.length) {
      throw new PiImageError('IMAGE_CORRUPT', `${source}: the image is ${position} bytes, not the ${imageSize} its block map describes (truncated?)`);
    }
    finished = whole.digest();
  }
  return { pieces: generate(), digest: () => finished };
}

/** Pieces of the mapped ranges read straight from a raw image file: unmapped stretches are never read. */
export function piecesFromFile(read: (offset: number, length: number) => Promise<Buffer>, ranges: readonly ByteRange[], source: string): PieceStream {
  const check = rangeCheck(source);
  async function* generate(): AsyncGenerator<ImagePiece> {
    for (const range of ranges) {
      const hash = createHash('sha256');
      for (let at = range.start; at < range.end; at += READ_CHUNK) {
        const data = await read(at, Math.min(READ_CHUNK, range.end - at));
        hash.update(data);
        yield { offset: at, data };
      }
      check(range, hash.digest('hex'));
    }
  }
  // Unmapped stretches are not read: there is no whole-image digest.
  return { pieces: generate(), digest: () => undefined };
}
