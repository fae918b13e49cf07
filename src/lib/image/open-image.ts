/**
 * Opens any image file for random access: a raw image directly; a compressed
 * one (.xz, .gz, .zip, told by its first bytes) by streaming it once into a
 * sparse temporary file, removed again by `close()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import { openRegularFile } from '../core/file-digest';
import type { Logger } from '../core/logger';
import type { ImageCompression } from '../pigen/deploy-layout';
import { FileByteSource } from './byte-source';
import { openRawImage } from './image-source';
import { rawImagePass, type RawPassResult } from './raw-image-pass';

export async function detectCompression(path: string): Promise<ImageCompression> {
  let head: Buffer;
  try {
    const fh = await openRegularFile(path);
    try {
      head = Buffer.alloc(6);
      const { bytesRead } = await fh.read(head, 0, 6, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof PiImageError) throw e;
    throw new PiImageError('INPUT_INVALID', `image ${path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  if (head.length === 0) throw new PiImageError('IMAGE_EMPTY', `${path}: the image is empty (0 bytes)`);
  if (head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gz';
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) || head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x05, 0x06]))) return 'zip';
  return 'none';
}

export interface OpenedImage {
  source: FileByteSource;
  compression: ImageCompression;
  /** Digest and block map, when the image had to be streamed anyway. */
  pass?: RawPassResult;
  close(): Promise<void>;
}

export async function openImageForReading(path: string, logger: Logger, workDir = tmpdir()): Promise<OpenedImage> {
  const compression = await detectCompression(path);
  if (compression === 'none') {
    const source = await FileByteSource.open(path);
    return { source, compression, close: () => source.close() };
  }
  const dir = await mkdtemp(join(workDir, 'pi-image-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const unregister = registerCleanup(remove);
  let opened;
  try {
    const raw = join(dir, 'image.img');
    logger.info(`decompressing ${path} (${compression}) into a sparse temporary file`);
    opened = await openRawImage(path, compression, logger);
    const pass = await rawImagePass(opened.stream, { logger, sourceName: path, expectedSize: opened.expectedSize, sparseCopy: raw });
    await opened.done;
    const source = await FileByteSource.open(raw);
    return {
      source,
      compression,
      pass,
      async close() {
        await source.close();
        await remove();
        unregister();
      },
    };
  } catch (e) {
    await opened?.abort();
    await remove();
    unregister();
    throw e;
  }
}
