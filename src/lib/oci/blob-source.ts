/**
 * Blobs as the stores take them: a digest and size, and bytes that can be
 * opened again (whole, or from an offset) for retries and resumed uploads.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PiImageError } from '../core/errors';
import { regularFileChunks, verifiedChunks, type ExpectedBytes, type Mismatch } from '../core/file-digest';
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
 * A blob source whose bytes are checked on the way out: more bytes than the
 * descriptor says, another size or (opened whole) another digest fail the
 * stream with DIGEST_MISMATCH, so no request sends more bytes than it
 * declared and no store keeps a blob that is not what it was asked for.
 */
export function verifiedBlobSource(
  descriptor: { digest: string; size: number },
  openRange: (start?: number, end?: number) => AsyncIterable<Buffer>,
  label: string,
): BlobSource {
  return {
    descriptor,
    open: (start, end) => {
      const whole = start === undefined;
      const expected: ExpectedBytes = {
        size: whole ? descriptor.size : (end ?? descriptor.size - 1) - start + 1,
        sha256: whole ? descriptor.digest.replace(/^sha256:/, '') : undefined,
      };
      const mismatch: Mismatch = (found) =>
        new PiImageError(
          'DIGEST_MISMATCH',
          found.larger
            ? `${label} is larger than the ${descriptor.size} bytes expected of ${descriptor.digest}`
            : found.actual.size !== expected.size
              ? `${label} is ${found.actual.size} bytes, not the ${expected.size} expected of ${descriptor.digest}`
              : `${label} does not have the digest ${descriptor.digest}`,
        );
      return Readable.from(verifiedChunks(openRange(start, end), expected, mismatch), { objectMode: false });
    },
  };
}

/** A regular file as a blob source (a FIFO or a link in its place is refused, never waited on), verified as it is read. */
export function fileBlobSource(file: string, descriptor: { digest: string; size: number }): BlobSource {
  return verifiedBlobSource(descriptor, (start, end) => regularFileChunks(file, start, end), file);
}

export function bytesBlobSource(bytes: Buffer): BlobSource {
  return {
    descriptor: { digest: digestOf(bytes), size: bytes.length },
    open: (start, end) => Readable.from([bytes.subarray(start ?? 0, end === undefined ? undefined : end + 1)]),
  };
}

/** The empty config `{}` every artifact manifest (and attached signature) points at. */
export const EMPTY_DESCRIPTOR: Descriptor = { mediaType: OCI_EMPTY, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length };
