/** Small files (manifests, bundles, indexes, configs) read whole, bounded, and only when they are regular files. */
import { PiImageError } from './errors';
import { openRegularFile } from './file-digest';

/** Reads a small file whole, refusing anything but a regular file of at most `max` bytes. */
export async function readSmallFile(path: string, max: number): Promise<Buffer> {
  const handle = await openRegularFile(path);
  try {
    const { size } = await handle.stat();
    if (size > max) throw new PiImageError('INPUT_INVALID', `${path} is ${size} bytes, more than the ${max} a file of its kind may have`);
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
