/**
 * An image read once from start to end (digest, block map, and an xz copy
 * when asked) and then left open for random access: a raw image is read in
 * place; a compressed one is streamed once into a sparse temporary file,
 * removed again by `close()` (and on SIGINT/SIGTERM).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../core/cleanup';
import type { Logger } from '../core/logger';
import { FileByteSource } from './byte-source';
import { detectCompression, type ImageCompression } from './compression';
import { openRawImage } from './decompress';
import { rawImagePass, type RawPassResult, type XzOptions } from './raw-image-pass';

export interface StreamedImage {
  pass: RawPassResult;
  /** The raw image, for random access: the file itself when it was raw, else the sparse copy. */
  disk: FileByteSource;
  close(): Promise<void>;
}

export interface StreamImageOptions {
  logger: Logger;
  /** Where the sparse copy of a compressed image goes (default: the system's temporary directory). */
  workDir?: string | undefined;
  /** Also compress the raw bytes with xz, in the same pass. */
  xz?: XzOptions | undefined;
  /** Called with the first sectors; throw to refuse the input before the rest is read. */
  checkHead?: ((head: Buffer) => void) | undefined;
}

/** Reads `path` (compressed as `compression`) once, then opens the raw image for random access. */
export async function streamImageOnce(path: string, compression: ImageCompression, options: StreamImageOptions): Promise<StreamedImage> {
  const { logger } = options;
  const dir = compression === 'none' ? undefined : await mkdtemp(join(options.workDir ?? tmpdir(), '.pi-image-'));
  const remove = (): Promise<void> => (dir ? rm(dir, { recursive: true, force: true }) : Promise.resolve());
  const unregister = registerCleanup(remove);
  const sparse = dir ? join(dir, 'image.img') : undefined;
  let opened: Awaited<ReturnType<typeof openRawImage>> | undefined;
  let disk: FileByteSource | undefined;
  try {
    if (sparse) logger.info(`decompressing ${path} (${compression}) into a sparse temporary file`);
    opened = await openRawImage(path, compression, logger);
    const pass = await rawImagePass(opened.stream, {
      logger,
      sourceName: path,
      expectedSize: opened.expectedSize,
      ...(options.checkHead ? { checkHead: options.checkHead } : {}),
      ...(options.xz ? { xz: options.xz } : {}),
      ...(sparse ? { sparseCopy: sparse } : {}),
    });
    await opened.done;
    const openedDisk = await FileByteSource.open(sparse ?? path);
    disk = openedDisk;
    return {
      pass,
      disk: openedDisk,
      async close() {
        await openedDisk.close();
        await remove();
        unregister();
      },
    };
  } catch (e) {
    await opened?.abort();
    await disk?.close();
    await remove();
    unregister();
    throw e;
  }
}

export interface OpenedImage {
  source: FileByteSource;
  compression: ImageCompression;
  /** Digest and block map, when the image had to be streamed anyway. */
  pass?: RawPassResult;
  close(): Promise<void>;
}

/** Opens any image for reading files out of it: a raw one in place, unread; a compressed one (told by its first bytes) streamed once. */
export async function openImageForReading(path: string, logger: Logger, workDir?: string): Promise<OpenedImage> {
  const compression = await detectCompression(path);
  if (compression === 'none') {
    const source = await FileByteSource.open(path);
    return { source, compression, close: () => source.close() };
  }
  const streamed = await streamImageOnce(path, compression, { logger, workDir });
  return { source: streamed.disk, compression, pass: streamed.pass, close: () => streamed.close() };
}
