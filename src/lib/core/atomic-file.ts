/**
 * Files that appear whole or not at all: written under a temporary name beside
 * their place, then renamed over it. A crash or a full disk leaves the old
 * file (or none), never half of a new one.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PiImageError } from './errors';

/** The temporary name for `path`: hidden, in the same directory (so rename is atomic). */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function writeFileAtomic(path: string, content: string | Buffer): Promise<void> {
  const temp = temporaryPathFor(path);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw new PiImageError('IO_FAILED', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}
