/**
 * Reading and writing a whole disk in large aligned blocks. Opened exclusively
 * for writing (O_EXCL: the kernel refuses while anything holds the disk, a
 * mounted partition included) and with O_DIRECT where the device allows, so
 * writes do not pile up gigabytes of dirty page cache and read-back comes
 * from the disk, not from memory. O_DIRECT needs buffers aligned in memory,
 * which JavaScript cannot ask for: a buffer is allocated with room to spare
 * and the aligned window found by trying reads at increasing offsets. Where
 * none works (or the device refuses O_DIRECT), plain I/O is used and the page
 * cache is dropped for the device before reading back.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import type { Logger } from '../core/logger';

/** One I/O: large enough to keep an NVMe disk busy, small enough to keep memory bounded. */
export const IO_CHUNK = 4 * 1024 * 1024;
/** The most any device asks of buffer alignment (a page). */
const MAX_ALIGNMENT = 4096;

export class DiskIo {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Whether the page cache is bypassed. */
    readonly direct: boolean,
    readonly blockSize: number,
    /** Two aligned buffers of IO_CHUNK bytes (one fills while the other is written). */
    readonly buffers: [Buffer, Buffer],
  ) {}

  static async open(path: string, options: { write: boolean; blockSize: number; logger: Logger }): Promise<DiskIo> {
    const base = (options.write ? constants.O_RDWR | constants.O_EXCL : constants.O_RDONLY) | constants.O_NOFOLLOW;
    const attempt = async (flags: number): Promise<FileHandle> => {
      try {
        return await open(path, flags);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EBUSY')
          throw new PiImageError('DISK_IN_USE', `${path} is in use: the kernel will not give it out exclusively (mounted, or held by another program)`, {
            cause: e,
          });
        if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
          throw new PiImageError(
            code === 'EROFS' ? 'DISK_READ_ONLY' : 'INPUT_INVALID',
            `${path} cannot be opened for ${options.write ? 'writing' : 'reading'}: ${code}${code === 'EROFS' ? '' : ' (run as root)'}`,
            { cause: e },
          );
        }
        throw e;
      }
    };
    let handle: FileHandle | undefined;
    try {
      handle = await attempt(base | constants.O_DIRECT);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
    const raw = Buffer.allocUnsafeSlow(2 * IO_CHUNK + 2 * MAX_ALIGNMENT);
    if (handle) {
      const offset = await alignedOffset(handle, raw, options.blockSize);
      if (offset !== undefined) {
        return new DiskIo(path, handle, true, options.blockSize, [
          raw.subarray(offset, offset + IO_CHUNK),
          raw.subarray(offset + IO_CHUNK, offset + 2 * IO_CHUNK),
        ]);
      }
      await handle.close();
    }
    options.logger.debug(`${path}: O_DIRECT is not available; using the page cache`);
    handle = await attempt(base);
    return new DiskIo(path, handle, false, options.blockSize, [raw.subarray(0, IO_CHUNK), raw.subarray(IO_CHUNK, 2 * IO_CHUNK)]);
  }

  /** Rounds a length up to whole logical blocks. */
  padded(length: number): number {
    return Math.ceil(length / this.blockSize) * this.blockSize;
  }

  /** Writes `length` bytes of `buffer` (one of `buffers`, or any buffer without O_DIRECT) at `position`; the length is padded with the zeros already there. */
  async writeAt(buffer: Buffer, length: number, position: number): Promise<void> {
    const total = this.padded(length);
    if (total > length) buffer.fill(0, length, total);
    let done = 0;
    while (done < total) {
      const { bytesWritten } = await this.handle.write(buffer, done, total - done, position + done);
      if (bytesWritten === 0) throw new PiImageError('IO_FAILED', `${this.path}: the disk took no bytes at ${position + done} (its end?)`);
      done += bytesWritten;
    }
  }

  /** Reads `length` bytes at `position` into `buffer` (one of `buffers`); returns the part read. */
  async readAt(buffer: Buffer, length: number, position: number): Promise<Buffer> {
    const total = this.padded(length);
    let done = 0;
    while (done < total) {
      const { bytesRead } = await this.handle.read(buffer, done, total - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, Math.min(length, done));
  }

  async sync(): Promise<void> {
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * The offset into `raw` at which O_DIRECT I/O succeeds, or undefined. The
 * probe reads a page's worth: an I/O that fits inside one page may pass with
 * a misaligned buffer that a larger one (crossing pages) fails with.
 */
async function alignedOffset(handle: FileHandle, raw: Buffer, blockSize: number): Promise<number | undefined> {
  const probe = Math.max(MAX_ALIGNMENT, blockSize);
  for (let offset = 0; offset < MAX_ALIGNMENT; offset += 8) {
    try {
      await handle.read(raw, offset, probe, 0);
      return offset;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
  }
  return undefined;
}

/** Drops the page cache of a device (blockdev --flushbufs), so reads come from the disk. */
export async function dropDeviceCache(path: string, logger: Logger): Promise<void> {
  await execCapture('blockdev', ['--flushbufs', path], { logger, allowFailure: true });
}

/** Asks the kernel to read the disk's partition table again; says so when it cannot (a reboot or replug then does). */
export async function rereadPartitions(path: string, logger: Logger): Promise<boolean> {
  const r = await execCapture('blockdev', ['--rereadpt', path], { logger, allowFailure: true });
  if (r.code !== 0)
    logger.warn(`the kernel did not re-read ${path}'s partition table (${r.stderr.trim() || `exit ${r.code}`}): replug the disk or reboot before using it`);
  return r.code === 0;
}
