/**
 * Reads the entries of a .zip (pi-gen's default deploy format) and streams one
 * of them, checking its CRC-32 and size as it goes. ZIP64 is supported: images
 * past 4 GiB need it. Only stored and deflated entries exist in pi-gen's zips.
 */
import { createReadStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import { PiImageError } from '../core/errors';
import { openRegularFile } from '../core/file-digest';

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024;

function corrupt(file: string, what: string): PiImageError {
  return new PiImageError('IMAGE_CORRUPT', `${file}: not a readable zip archive: ${what}`);
}

/** A ZIP64 field, as a byte count or offset that must lie inside a file of `limit` bytes. */
function u64(file: string, buf: Buffer, at: number, what: string, limit: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(limit)) throw corrupt(file, `the ZIP64 ${what} (${v}) is larger than the archive`);
  return Number(v);
}

export async function listZipEntries(file: string): Promise<ZipEntry[]> {
  const fh = await openRegularFile(file);
  try {
    const { size } = await fh.stat();
    if (size < 22) throw corrupt(file, `only ${size} bytes`);
    const tailLength = Math.min(size, 22 + 0xffff + 20);
    const tail = Buffer.alloc(tailLength);
    await fh.read(tail, 0, tailLength, size - tailLength);
    let at = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) throw corrupt(file, 'no end-of-central-directory record (truncated?)');
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      if (at < 20 || tail.readUInt32LE(at - 20) !== ZIP64_LOCATOR) throw corrupt(file, 'ZIP64 locator missing');
      const z64At = u64(file, tail, at - 20 + 8, 'end record offset', size - 56);
      const z64 = Buffer.alloc(56);
      await fh.read(z64, 0, 56, z64At);
      if (z64.readUInt32LE(0) !== ZIP64_EOCD) throw corrupt(file, 'ZIP64 end record missing');
      count = u64(file, z64, 32, 'entry count', size);
      cdSize = u64(file, z64, 40, 'central directory size', size);
      cdOffset = u64(file, z64, 48, 'central directory offset', size);
    }
    if (cdSize > MAX_CENTRAL_DIRECTORY || cdOffset + cdSize > size) throw corrupt(file, 'central directory out of bounds');
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw corrupt(file, `central directory entry ${n} is damaged`);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      const entry: ZipEntry = {
        name: cd.toString('utf8', p + 46, p + 46 + nameLength),
        method: cd.readUInt16LE(p + 10),
        crc32: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        uncompressedSize: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
      };
      // ZIP64 extended information: only the fields that overflowed, in this order.
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (q + 8 > extraEnd || q + 8 > cd.length) throw corrupt(file, `the ZIP64 field of ${entry.name} is truncated`);
          if (entry.uncompressedSize === 0xffffffff) {
            entry.uncompressedSize = u64(file, cd, q, 'entry size', Number.MAX_SAFE_INTEGER);
            q += 8;
          }
          if (entry.compressedSize === 0xffffffff && q + 8 <= extraEnd) {
            entry.compressedSize = u64(file, cd, q, 'compressed size', size);
            q += 8;
          }
          if (entry.localHeaderOffset === 0xffffffff && q + 8 <= extraEnd) entry.localHeaderOffset = u64(file, cd, q, 'local header offset', size);
        }
        e += 4 + len;
      }
      if (entry.localHeaderOffset + 30 > size || entry.compressedSize > size) throw corrupt(file, `${entry.name} lies outside the archive`);
      entries.push(entry);
      p = extraEnd + commentLength;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Checks CRC-32 and length of what passes through; fails the stream on a mismatch. */
class ZipEntryCheck extends Transform {
  private crc = 0;
  private length = 0;
  constructor(
    private readonly file: string,
    private readonly entry: ZipEntry,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.length += chunk.length;
    // A deflate stream that inflates past the size declared stops here, not after gigabytes.
    if (this.length > this.entry.uncompressedSize) {
      done(corrupt(this.file, `${this.entry.name} inflates to more than the ${this.entry.uncompressedSize} bytes the directory says`));
      return;
    }
    this.crc = crc32(chunk, this.crc);
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    if (this.length !== this.entry.uncompressedSize) {
      done(corrupt(this.file, `${this.entry.name} is ${this.length} bytes, the directory says ${this.entry.uncompressedSize}`));
    } else if (this.crc >>> 0 !== this.entry.crc32 >>> 0) {
      done(corrupt(this.file, `${this.entry.name} fails its CRC-32 check`));
    } else done();
  }
}

/** Streams one entry's uncompressed bytes. Errors surface on the returned stream. */
export async function openZipEntry(file: string, entry: ZipEntry, highWaterMark = 1 << 20): Promise<Readable> {
  const fh = await openRegularFile(file);
  const header = Buffer.alloc(30);
  try {
    await fh.read(header, 0, 30, entry.localHeaderOffset);
  } finally {
    await fh.close();
  }
  if (header.readUInt32LE(0) !== LOCAL) throw corrupt(file, `local header of ${entry.name} is damaged`);
  const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (entry.method !== 0 && entry.method !== 8) {
    throw corrupt(file, `${entry.name} uses compression method ${entry.method}; only stored and deflate are supported`);
  }
  const raw = entry.compressedSize === 0 ? Readable.from([]) : createReadStream(file, { start, end: start + entry.compressedSize - 1, highWaterMark });
  const check = new ZipEntryCheck(file, entry);
  const forward = (e: Error): void => {
    // zlib's Z_BUF_ERROR: the deflate stream ended before its end block.
    check.destroy((e as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' ? corrupt(file, `${entry.name} is truncated`) : corrupt(file, e.message));
  };
  raw.on('error', forward);
  if (entry.method === 8) {
    const inflate = createInflateRaw({ chunkSize: 1 << 20 });
    inflate.on('error', forward);
    raw.pipe(inflate).pipe(check);
  } else {
    raw.pipe(check);
  }
  return check;
}
