/**
 * Blobs as the stores take them: a digest and size, and bytes that can be
 * opened again (whole, or from an offset) for retries and resumed uploads.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { PiImageError } from '../core/errors';
import { EMPTY_CONFIG, OCI_EMPTY, type Descriptor } from './media-types';

export function digestOf(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A blob of known digest whose bytes can be opened again, whole or from an offset (inclusive end). */
export interface BlobSource {
  descriptor: { digest: string; size: number };
  open(start?: number, end?: number): Readable;
}

/**
 * A file as a blob source. Opened whole, its bytes are checked on the way out:
 * a file longer than the descriptor says, or with another digest, fails the
 * stream (DIGEST_MISMATCH) so no request sends more bytes than it declared.
 */
export function fileBlobSource(file: string, descriptor: { digest: string; size: number }): BlobSource {
  return {
    descriptor,
    open: (start, end) => {
      const stream = createReadStream(file, { highWaterMark: 1 << 20, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) });
      const expected = start === undefined ? descriptor.size : (end ?? descriptor.size - 1) - start + 1;
      const hash = start === undefined ? createHash('sha256') : undefined;
      let seen = 0;
      const check = new Transform({
        transform(chunk: Buffer, _e, done) {
          seen += chunk.length;
          if (seen > expected) {
            done(new PiImageError('DIGEST_MISMATCH', `${file} is larger than the ${descriptor.size} bytes expected of ${descriptor.digest}`));
            return;
          }
          hash?.update(chunk);
          done(null, chunk);
        },
        flush(done) {
          if (seen !== expected) done(new PiImageError('DIGEST_MISMATCH', `${file} is ${seen} bytes, not the ${expected} expected of ${descriptor.digest}`));
          else if (hash && `sha256:${hash.digest('hex')}` !== descriptor.digest)
            done(new PiImageError('DIGEST_MISMATCH', `${file} does not have the digest ${descriptor.digest}`));
          else done();
        },
      });
      stream.on('error', (e) => check.destroy(e));
      return stream.pipe(check);
    },
  };
}

export function bytesBlobSource(bytes: Buffer): BlobSource {
  return {
    descriptor: { digest: digestOf(bytes), size: bytes.length },
    open: (start, end) => Readable.from([bytes.subarray(start ?? 0, end === undefined ? undefined : end + 1)]),
  };
}

/** The empty config `{}` every artifact manifest (and attached signature) points at. */
export const EMPTY_DESCRIPTOR: Descriptor = { mediaType: OCI_EMPTY, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length };
