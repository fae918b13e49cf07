/**
 * An image's root file system as a tar stream, read from the ext4 partition
 * without mounting it: every entry with its owner, mode, modification time
 * (nanoseconds), type (files, directories, symlinks, hard links, character and
 * block devices, FIFOs) and extended attributes (file capabilities, ACLs),
 * file data streamed in bounded chunks. For a network-boot root (NFS), which
 * must hold the same system as the disk image.
 *
 * A hostile image cannot steer the archive: names are checked (no "/", no
 * NUL, not "." or ".."), the walk is bounded in depth and entries, a directory
 * reached twice (a loop through a damaged directory) is refused, and sockets
 * (which tar cannot hold) are left out with a warning. Paths given in
 * `replace` get the given content instead of the image's (an adjusted fstab).
 */
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Ext4FileSystem, Inode } from '../image/ext4';
import { TAR_END, tarHeader, tarPadding, type TarHeaderFields } from '../oci/tar-format';

const S_IFMT = 0o170000;
const TYPES: Record<number, TarHeaderFields['type'] | 'socket'> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o020000: 'char',
  0o060000: 'block',
  0o010000: 'fifo',
  0o140000: 'socket',
};
/** Deeper than any system's tree; a bound against a crafted one. */
const MAX_DEPTH = 256;
/** More entries than any system image holds (a full desktop has a few hundred thousand). */
const MAX_ENTRIES = 5_000_000;

export interface RootfsArchiveOptions {
  /** Receives the archive, in order; awaited (back-pressure). */
  write: (chunk: Buffer) => Promise<void>;
  /** Absolute paths whose content is replaced (owner, mode and time kept). */
  replace?: ReadonlyMap<string, Buffer>;
  logger: Logger;
  /** Name of the image, for messages. */
  name: string;
}

export interface RootfsArchiveSummary {
  entries: number;
  files: number;
  bytes: number;
  hardLinks: number;
  skipped: string[];
}

function checkName(name: string, parent: string, image: string): void {
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0') || name === '')
    throw new PiImageError('IMAGE_CORRUPT', `${image}: directory ${parent || '/'} holds an entry named ${JSON.stringify(name)}, which no file system writes`);
}

export async function writeRootfsArchive(fs: Ext4FileSystem, options: RootfsArchiveOptions): Promise<RootfsArchiveSummary> {
  const { write, logger, name: image } = options;
  const summary: RootfsArchiveSummary = { entries: 0, files: 0, bytes: 0, hardLinks: 0, skipped: [] };
  /** Inode → the archive path of its first name: later names become hard links. */
  const firstPath = new Map<number, string>();
  const directoriesSeen = new Set<number>();

  const entry = async (path: string, inode: Inode): Promise<void> => {
    if (++summary.entries > MAX_ENTRIES) throw new PiImageError('IMAGE_CORRUPT', `${image}: more than ${MAX_ENTRIES} entries in its root file system`);
    const type = TYPES[inode.mode & S_IFMT];
    if (type === undefined)
      throw new PiImageError('IMAGE_CORRUPT', `${image}: /${path} has file type ${(inode.mode & S_IFMT).toString(8)}, which ext4 does not define`);
    if (type === 'socket') {
      summary.skipped.push(`/${path}`);
      logger.warn(`${image}: /${path} is a socket: left out (tar holds none; a running service makes its own)`);
      return;
    }
    const a = fs.attributes(inode);
    const fields: TarHeaderFields = {
      name: path,
      type,
      mode: inode.mode & 0o7777,
      uid: a.uid,
      gid: a.gid,
      mtime: a.mtime.seconds,
      mtimeNanoseconds: a.mtime.nanoseconds,
      xattrs: await fs.xattrs(inode),
    };
    if (type === 'symlink') fields.linkname = await fs.readLink(inode);
    if ((type === 'char' || type === 'block') && a.rdev) fields.device = a.rdev;
    if (type === 'dir') {
      await write(tarHeader(fields));
      return;
    }
    if (type === 'file' && a.links > 1) {
      const first = firstPath.get(inode.number);
      if (first !== undefined) {
        summary.hardLinks++;
        await write(tarHeader({ ...fields, type: 'hardlink', linkname: first, xattrs: [] }));
        return;
      }
      firstPath.set(inode.number, path);
    }
    if (type !== 'file') {
      await write(tarHeader(fields));
      return;
    }
    const replaced = options.replace?.get(`/${path}`);
    const size = replaced ? replaced.length : inode.size;
    await write(tarHeader({ ...fields, size }));
    let written = 0;
    if (replaced) {
      await write(replaced);
      written = replaced.length;
    } else {
      for await (const chunk of fs.stream(inode)) {
        await write(chunk);
        written += chunk.length;
      }
    }
    if (written !== size) throw new PiImageError('IMAGE_CORRUPT', `${image}: /${path} gave ${written} bytes, not the ${size} its inode records`);
    await write(tarPadding(size));
    summary.files++;
    summary.bytes += size;
  };

  const walk = async (dir: Inode, path: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new PiImageError('IMAGE_CORRUPT', `${image}: directories nested deeper than ${MAX_DEPTH} at /${path}`);
    if (directoriesSeen.has(dir.number))
      throw new PiImageError('IMAGE_CORRUPT', `${image}: directory inode ${dir.number} is reached twice (at /${path}): a loop in a damaged file system`);
    directoriesSeen.add(dir.number);
    const children = (await fs.readDirectory(dir)).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const [i, child] of children.entries()) {
      checkName(child.name, path, image);
      // One name twice (a damaged directory) would let a later entry land where the first one, a symlink perhaps, points.
      if (i > 0 && children[i - 1]!.name === child.name)
        throw new PiImageError('IMAGE_CORRUPT', `${image}: directory /${path} holds ${JSON.stringify(child.name)} twice`);
      const childPath = path === '' ? child.name : `${path}/${child.name}`;
      const inode = await fs.inode(child.inode);
      await entry(childPath, inode);
      if ((inode.mode & S_IFMT) === 0o040000) await walk(inode, childPath, depth + 1);
    }
  };

  const root = (await fs.resolve('/', false))!;
  await write(
    tarHeader({
      name: './',
      type: 'dir',
      mode: root.mode & 0o7777,
      uid: fs.attributes(root).uid,
      gid: fs.attributes(root).gid,
      mtime: fs.attributes(root).mtime.seconds,
    }),
  );
  await walk(root, '', 0);
  await write(TAR_END);
  return summary;
}
