/**
 * Reading files out of a Debian package (.deb) without dpkg: an `ar` archive
 * whose `data.tar.{xz,gz,zst}` member holds the files. The data is streamed
 * through the decompressor and the tar reader; the caller picks entries.
 */
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { PiImageError } from '../core/errors';
import { execStream } from '../core/exec';
import { openRegularFile, regularFileChunks } from '../core/file-digest';
import type { Logger } from '../core/logger';
import { readTar, safeEntryPath, type EntrySink, type TarEntry } from '../oci/tar-reader';

const AR_MAGIC = '!<arch>\n';
const AR_HEADER = 60;

interface ArMember {
  name: string;
  offset: number;
  size: number;
}

/** The members of an ar archive (only their headers are read). */
async function arMembers(path: string): Promise<ArMember[]> {
  const handle = await openRegularFile(path);
  try {
    const { size: fileSize } = await handle.stat();
    const magic = Buffer.alloc(8);
    await handle.read(magic, 0, 8, 0);
    if (magic.toString('latin1') !== AR_MAGIC) throw new PiImageError('INPUT_INVALID', `${path} is not a Debian package (no ar header)`);
    const members: ArMember[] = [];
    let at = 8;
    const header = Buffer.alloc(AR_HEADER);
    while (at + AR_HEADER <= fileSize && members.length < 16) {
      await handle.read(header, 0, AR_HEADER, at);
      if (header.toString('latin1', 58, 60) !== '`\n') throw new PiImageError('INPUT_INVALID', `${path}: a damaged ar member header at byte ${at}`);
      const name = header.toString('latin1', 0, 16).trim().replace(/\/$/, '');
      const size = Number(header.toString('latin1', 48, 58).trim());
      if (!Number.isSafeInteger(size) || size < 0 || at + AR_HEADER + size > fileSize)
        throw new PiImageError('INPUT_INVALID', `${path}: ar member ${JSON.stringify(name)} claims ${size} bytes, past the end of the file`);
      members.push({ name, offset: at + AR_HEADER, size });
      at += AR_HEADER + size + (size % 2);
    }
    return members;
  } finally {
    await handle.close();
  }
}

/** A regular file of the package, with its path inside (no leading `./`). */
export interface DebFile {
  path: string;
  size: number;
}

/**
 * Calls `pick` for every regular file and symbolic link in the package's
 * data; the sink it returns receives the file's bytes. Paths are checked:
 * an absolute path or `..` is refused (UNSAFE_ARCHIVE).
 */
export async function readDebData(
  path: string,
  pick: (entry: DebFile & { type: TarEntry['type']; linkname: string }) => Promise<EntrySink | undefined>,
  logger: Logger,
): Promise<void> {
  const data = (await arMembers(path)).find((m) => m.name.startsWith('data.tar'));
  if (!data) throw new PiImageError('INPUT_INVALID', `${path} is not a Debian package: it has no data.tar member`);
  const raw = regularFileChunks(path, data.offset, data.offset + data.size - 1);
  const onEntry = async (entry: TarEntry): Promise<EntrySink | undefined> => {
    const inside = safeEntryPath(entry.name).join('/');
    if (entry.type !== 'file' && entry.type !== 'symlink') return undefined;
    return pick({ path: inside, size: entry.size, type: entry.type, linkname: entry.linkname });
  };
  if (data.name === 'data.tar') return readTar(raw, onEntry);
  if (data.name === 'data.tar.gz') return readTar(Readable.from(raw).pipe(createGunzip()), onEntry);
  const tool = data.name === 'data.tar.xz' ? 'xz' : data.name === 'data.tar.zst' ? 'zstd' : undefined;
  if (!tool) throw new PiImageError('INPUT_INVALID', `${path}: ${data.name} is compressed in a way pi-image does not read`);
  const { child, done, stop } = execStream(tool, ['--decompress', '--stdout', '--quiet'], { logger, stdin: 'pipe' });
  const feed = (async (): Promise<void> => {
    const stdin = child.stdin!;
    stdin.on('error', () => undefined); // a reader that stops early closes the pipe
    // Waiting for room in the pipe ends also when the pipe does (xz stopped): never a wait for a drain that cannot come.
    const room = (): Promise<void> =>
      new Promise((resolve) => {
        const done = (): void => {
          stdin.off('drain', done).off('close', done).off('error', done);
          resolve();
        };
        stdin.on('drain', done).on('close', done).on('error', done);
      });
    try {
      for await (const chunk of raw) {
        if (stdin.destroyed) return;
        if (!stdin.write(chunk)) await room();
      }
      stdin.end();
    } finally {
      await raw.return(undefined);
    }
  })();
  try {
    await readTar(child.stdout, onEntry);
    await Promise.all([feed, done]);
  } catch (e) {
    await stop();
    await feed.catch(() => undefined);
    if (e instanceof PiImageError && e.code === 'EXEC_FAILED')
      throw new PiImageError('INPUT_INVALID', `${path}: ${data.name} cannot be decompressed (damaged?)`, { cause: e });
    throw e;
  }
}

/** A sink that collects an entry's bytes, refusing more than `max`. */
export function collect(max: number, where: string, done: (bytes: Buffer) => void): EntrySink {
  const parts: Buffer[] = [];
  let size = 0;
  return {
    write(chunk) {
      size += chunk.length;
      if (size > max) return Promise.reject(new PiImageError('INPUT_INVALID', `${where} is larger than ${max} bytes`));
      parts.push(chunk);
      return Promise.resolve();
    },
    end() {
      done(Buffer.concat(parts));
      return Promise.resolve();
    },
  };
}
