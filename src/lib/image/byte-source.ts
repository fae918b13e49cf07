/**
 * Random access to a disk image or one of its partitions, read on demand.
 * The file systems are read through this, never mounted.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { PiImageError } from '../core/errors';
import { openRegularFile } from '../core/file-digest';

export interface ByteSource {
  readonly name: string;
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export class FileByteSource implements ByteSource {
  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly fh: FileHandle,
  ) {}

  static async open(path: string): Promise<FileByteSource> {
    const fh = await openRegularFile(path);
    const { size } = await fh.stat();
    return new FileByteSource(path, size, fh);
  }

  /** A block device (a disk written by flash), read-only and never exclusively, bounded by the size given (stat says 0 for a device). */
  static async openDevice(path: string, size: number): Promise<FileByteSource> {
    return new FileByteSource(path, size, await open(path, 'r'));
  }

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new PiImageError('IMAGE_CORRUPT', `${this.name}: read of ${length} bytes at ${offset} is past the end (${this.size} bytes)`);
    }
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** A window onto part of another source: a partition of a disk image. */
export class SliceByteSource implements ByteSource {
  constructor(
    private readonly parent: ByteSource,
    private readonly offset: number,
    readonly size: number,
    readonly name: string,
  ) {
    if (offset + size > parent.size) {
      throw new PiImageError('IMAGE_CORRUPT', `${name} (${size} bytes at ${offset}) lies past the end of ${parent.name}`);
    }
  }

  read(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || offset + length > this.size) {
      return Promise.reject(new PiImageError('IMAGE_CORRUPT', `${this.name}: read of ${length} bytes at ${offset} is past its end`));
    }
    return this.parent.read(this.offset + offset, length);
  }
}
