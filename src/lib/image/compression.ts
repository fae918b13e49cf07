/**
 * How an image file is compressed: the four forms pi-gen's DEPLOY_COMPRESSION
 * takes (a .zip holding the .img, .img.gz, .img.xz, or the raw .img), told by
 * a file's first bytes where its name cannot be trusted.
 */
import { PiImageError } from '../core/errors';
import { openRegularFile } from '../core/file-digest';

export const IMAGE_COMPRESSIONS = ['zip', 'gz', 'xz', 'none'] as const;
export type ImageCompression = (typeof IMAGE_COMPRESSIONS)[number];

export function isImageCompression(value: string): value is ImageCompression {
  return (IMAGE_COMPRESSIONS as readonly string[]).includes(value);
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ZIP_LOCAL = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const ZIP_EMPTY = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

/** The compression of a file by its magic bytes; anything else is taken as a raw image. */
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
  if (head.equals(XZ_MAGIC)) return 'xz';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gz';
  const four = head.subarray(0, 4);
  if (four.equals(ZIP_LOCAL) || four.equals(ZIP_EMPTY)) return 'zip';
  return 'none';
}
