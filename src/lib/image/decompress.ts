/**
 * Decompression: a pi-gen image (raw, .img.gz, .img.xz or a .zip holding the
 * .img) opened as a stream of the raw disk image's bytes. Decompression is streaming: nothing the
 * size of the image is held in memory.
 */
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { PiImageError } from '../core/errors';
import { openRegularFile, READ_CHUNK } from '../core/file-digest';
import { execCapture, execStream } from '../core/exec';
import type { Logger } from '../core/logger';
import type { ImageCompression } from './compression';
import { listZipEntries, openZipEntry } from './zip-reader';

export interface RawImageStream {
  stream: Readable;
  /** The raw image's size when it is known before reading (raw, zip, xz). */
  expectedSize: number | undefined;
  /** The name of the raw image inside (the .img in a zip), for checksum files. */
  innerName: string;
  /** Settles when any helper process has exited; rejects if it failed. */
  done: Promise<void>;
  /** Stops reading: the stream destroyed, a helper process stopped and reaped. For failure paths. */
  abort(): Promise<void>;
}

/** The uncompressed size recorded in an .xz file's index (fast: reads the index only). */
export async function xzUncompressedSize(path: string, logger: Logger): Promise<number | undefined> {
  const r = await execCapture('xz', ['--robot', '--list', '--', path], { logger, allowFailure: true });
  if (r.code !== 0) {
    throw new PiImageError('IMAGE_CORRUPT', `${path}: not a readable .xz file: ${r.stderr.trim().replace(/^xz: /, '')}`);
  }
  const totals = r.stdout.split('\n').find((l) => l.startsWith('totals\t'));
  const size = totals ? Number(totals.split('\t')[4]) : NaN;
  return Number.isFinite(size) ? size : undefined;
}

export async function openRawImage(path: string, compression: ImageCompression, logger: Logger): Promise<RawImageStream> {
  const name = basename(path);
  switch (compression) {
    case 'none': {
      const handle = await openRegularFile(path);
      const { size } = await handle.stat();
      const stream = handle.createReadStream({ highWaterMark: READ_CHUNK });
      return { stream, expectedSize: size, innerName: name, done: Promise.resolve(), abort: () => Promise.resolve(void stream.destroy()) };
    }
    case 'gz': {
      // Errors (a truncated or damaged file) surface on the returned stream;
      // the reader names the file.
      const gunzip = createGunzip({ chunkSize: READ_CHUNK });
      const file = (await openRegularFile(path)).createReadStream({ highWaterMark: READ_CHUNK });
      file.on('error', (e) => gunzip.destroy(e));
      file.pipe(gunzip);
      const abort = (): Promise<void> => {
        file.destroy();
        gunzip.destroy();
        return Promise.resolve();
      };
      return { stream: gunzip, expectedSize: undefined, innerName: name.replace(/\.gz$/, ''), done: Promise.resolve(), abort };
    }
    case 'xz': {
      await (await openRegularFile(path)).close();
      const expectedSize = await xzUncompressedSize(path, logger);
      const { child, done, stop } = execStream('xz', ['--decompress', '--stdout', '--threads=0', '--', path], { logger, stdin: 'ignore' });
      let aborted = false;
      const named = done.catch((e: unknown) => {
        if (aborted) return;
        throw new PiImageError('IMAGE_CORRUPT', `${path}: not a readable .xz file (truncated or damaged)`, { cause: e });
      });
      named.catch(() => undefined);
      const abort = async (): Promise<void> => {
        aborted = true;
        child.stdout.destroy();
        await stop();
      };
      return { stream: child.stdout, expectedSize, innerName: name.replace(/\.xz$/, ''), done: named, abort };
    }
    case 'zip': {
      await (await openRegularFile(path)).close();
      const entries = await listZipEntries(path);
      const images = entries.filter((e) => e.name.endsWith('.img') && !e.name.endsWith('/'));
      if (images.length !== 1) {
        throw new PiImageError(
          images.length === 0 ? 'IMAGE_NOT_DISK' : 'DEPLOY_AMBIGUOUS',
          `${path}: expected one .img inside, found ${images.length}: ${entries.map((e) => e.name).join(', ') || 'an empty archive'}`,
        );
      }
      const entry = images[0]!;
      if (entry.name.includes('/') || entry.name.includes('\\')) {
        throw new PiImageError('IMAGE_CORRUPT', `${path}: the image entry ${entry.name} has a directory part; pi-gen writes a bare name`);
      }
      const stream = await openZipEntry(path, entry, READ_CHUNK);
      return {
        stream,
        expectedSize: entry.uncompressedSize,
        innerName: entry.name,
        done: Promise.resolve(),
        abort: () => Promise.resolve(void stream.destroy()),
      };
    }
  }
}
