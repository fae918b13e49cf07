/**
 * A read-only ext2/3/4 reader: superblock, group descriptors (32- and 64-bit),
 * inodes, extent trees and classic block maps, directories (linear and htree,
 * read linearly), symlinks. Enough to read files such as /etc/os-release out of
 * an image's root partition without mounting it.
 */
import { PiImageError } from '../core/errors';
import type { ByteSource } from './byte-source';
import { blockXattrs, inodeXattrs, parseInodeAttributes, type InodeAttributes, type Xattr } from './ext4-attributes';

const EXT4_MAGIC = 0xef53;
const INCOMPAT_64BIT = 0x80;
const EXTENTS_FL = 0x80000;
const INLINE_DATA_FL = 0x10000000;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const ROOT_INODE = 2;
const MAX_SYMLINK_HOPS = 40;
/** ext4's own limit on extent tree depth. */
const MAX_EXTENT_DEPTH = 5;
/** Tree and indirect blocks read for one file: far more than any real file needs for the sizes read here. */
const MAX_MAP_BLOCKS = 4096;
/** A directory larger than this is not one a system image has. */
const MAX_DIRECTORY_BYTES = 16 * 1024 * 1024;
/** Entries in one directory: more than any directory of a system image holds (/usr/lib has a few thousand). */
const MAX_DIRECTORY_ENTRIES = 100_000;
/** Everything read from one file system for one inspection. */
export const DEFAULT_READ_BUDGET = 256 * 1024 * 1024;

export interface Ext4DirEntry {
  name: string;
  inode: number;
  /** 1 file, 2 directory, 7 symlink (when the file system records types). */
  fileType: number;
}

export interface Inode {
  number: number;
  mode: number;
  size: number;
  flags: number;
  block: Buffer;
  /** The whole on-disk inode: its owner, times, device number and in-inode attributes (ext4-attributes.ts). */
  raw: Buffer;
}

export class Ext4FileSystem {
  private constructor(
    private readonly src: ByteSource,
    readonly blockSize: number,
    readonly kind: 'ext2' | 'ext3' | 'ext4',
    readonly label: string | undefined,
    readonly uuid: string,
    private readonly inodesPerGroup: number,
    private readonly inodeSize: number,
    private readonly descSize: number,
    private readonly is64: boolean,
    private readonly firstDataBlock: number,
    private readonly groupCount: number,
    private readonly blocksCount: number,
    private budget: number,
  ) {}

  private corrupt(what: string): PiImageError {
    return new PiImageError('IMAGE_CORRUPT', `${this.src.name}: ${what}`);
  }

  /** Every read is counted: a structure can make the reader walk, never walk without end. */
  private async read(offset: number, length: number): Promise<Buffer> {
    this.budget -= length;
    if (this.budget < 0) throw this.corrupt(`reading the file system needed more than ${DEFAULT_READ_BUDGET / 1048576} MiB: a damaged or hostile structure`);
    return this.src.read(offset, length);
  }

  static looksLikeExt(superblock: Buffer): boolean {
    return superblock.length >= 1024 && superblock.readUInt16LE(56) === EXT4_MAGIC;
  }

  static async open(src: ByteSource, readBudget = DEFAULT_READ_BUDGET): Promise<Ext4FileSystem> {
    const g = parseExt4Superblock(await src.read(1024, 1024), src.name, src.size);
    return new Ext4FileSystem(
      src,
      g.blockSize,
      g.kind,
      g.label,
      g.uuid,
      g.inodesPerGroup,
      g.inodeSize,
      g.descSize,
      g.is64,
      g.firstDataBlock,
      g.groupCount,
      g.blocksCount,
      readBudget,
    );
  }

  private async readBlocks(block: number, count = 1): Promise<Buffer> {
    if (block + count > this.blocksCount) throw this.corrupt(`block ${block} lies past the end of the file system (${this.blocksCount} blocks)`);
    return this.read(block * this.blockSize, count * this.blockSize);
  }

  async inode(number: number): Promise<Inode> {
    const group = Math.floor((number - 1) / this.inodesPerGroup);
    if (number < 1 || group >= this.groupCount) throw this.corrupt(`inode ${number} out of range`);
    const index = (number - 1) % this.inodesPerGroup;
    const gdtBlock = this.firstDataBlock + 1;
    const desc = await this.read(gdtBlock * this.blockSize + group * this.descSize, this.descSize);
    const tableLo = desc.readUInt32LE(8);
    const tableHi = this.is64 && this.descSize >= 64 ? desc.readUInt32LE(0x28) : 0;
    const table = tableLo + tableHi * 2 ** 32;
    const raw = await this.read(table * this.blockSize + index * this.inodeSize, this.inodeSize);
    const mode = raw.readUInt16LE(0);
    const size = raw.readUInt32LE(4) + raw.readUInt32LE(108) * 2 ** 32;
    return { number, mode, size, flags: raw.readUInt32LE(32), block: Buffer.from(raw.subarray(40, 100)), raw: Buffer.from(raw) };
  }

  /**
   * The file system blocks holding an inode's first `wanted` logical blocks,
   * as [logical, physical, count] runs (physical -1: reads as zeros). Only the
   * part of the map that covers them is read; a map that loops, fans out past
   * what it could hold, or needs more than MAX_MAP_BLOCKS blocks is refused.
   */
  private async extents(inode: Inode, wanted: number): Promise<[number, number, number][]> {
    const where = `inode ${inode.number}`;
    const seen = new Set<number>();
    let mapBlocks = 0;
    const mapBlock = async (block: number, what: string): Promise<Buffer> => {
      if (seen.has(block)) throw this.corrupt(`${where}: its ${what} refers to block ${block} twice (a loop)`);
      seen.add(block);
      if (++mapBlocks > MAX_MAP_BLOCKS) throw this.corrupt(`${where}: its ${what} spans more than ${MAX_MAP_BLOCKS} blocks`);
      return this.readBlocks(block);
    };
    if (inode.flags & EXTENTS_FL) {
      const out: [number, number, number][] = [];
      // Leaves are visited in logical order: each run must start where the ones before it ended, or later.
      let next = 0;
      const walk = async (node: Buffer, expectedDepth: number | undefined): Promise<void> => {
        if (node.readUInt16LE(0) !== 0xf30a) throw this.corrupt(`${where} has a damaged extent tree (bad header magic)`);
        const entries = node.readUInt16LE(2);
        const max = node.readUInt16LE(4);
        const depth = node.readUInt16LE(6);
        const capacity = Math.floor((node.length - 12) / 12);
        if (entries > max || max > capacity) throw this.corrupt(`${where}: an extent node claims ${entries} of ${max} entries; it holds at most ${capacity}`);
        if (depth > MAX_EXTENT_DEPTH || (expectedDepth !== undefined && depth !== expectedDepth)) {
          throw this.corrupt(`${where}: extent tree depth ${depth} where ${expectedDepth ?? `at most ${MAX_EXTENT_DEPTH}`} belongs`);
        }
        for (let i = 0; i < entries; i++) {
          const e = 12 + i * 12;
          const logical = node.readUInt32LE(e);
          if (logical >= wanted) break; // sorted by logical block: the rest is beyond what is read
          if (depth === 0) {
            let len = node.readUInt16LE(e + 4);
            const uninitialized = len > 32768;
            if (uninitialized) len -= 32768;
            if (logical < next)
              throw this.corrupt(
                `${where}: its extents overlap or are out of order (a run starts at block ${logical}, before block ${next} where the one before ended)`,
              );
            next = logical + len;
            const physical = node.readUInt16LE(e + 6) * 2 ** 32 + node.readUInt32LE(e + 8);
            // Uninitialized extents read as zeros; a run is cut at the last block wanted.
            out.push([logical, uninitialized ? -1 : physical, Math.min(len, wanted - logical)]);
          } else {
            const child = node.readUInt32LE(e + 4) + node.readUInt16LE(e + 8) * 2 ** 32;
            await walk(await mapBlock(child, 'extent tree'), depth - 1);
          }
        }
      };
      await walk(inode.block, undefined);
      return out;
    }
    // Classic block map: 12 direct, then single, double, triple indirect.
    const perBlock = this.blockSize / 4;
    const list: number[] = [];
    const indirect = async (block: number, level: number): Promise<void> => {
      if (block === 0 || list.length >= wanted) return;
      const data = await mapBlock(block, 'indirect block map');
      for (let i = 0; i < perBlock && list.length < wanted; i++) {
        const b = data.readUInt32LE(i * 4);
        if (level === 1) list.push(b);
        else await indirect(b, level - 1);
      }
    };
    for (let i = 0; i < 12 && list.length < wanted; i++) list.push(inode.block.readUInt32LE(i * 4));
    await indirect(inode.block.readUInt32LE(48), 1);
    await indirect(inode.block.readUInt32LE(52), 2);
    await indirect(inode.block.readUInt32LE(56), 3);
    return list.map((b, i) => [i, b === 0 ? -1 : b, 1]);
  }

  /** Reads an inode's data, up to `maxBytes`. */
  async readInode(inode: Inode, maxBytes = 1 << 20): Promise<Buffer> {
    const length = Math.min(inode.size, maxBytes);
    if (inode.flags & INLINE_DATA_FL) {
      if (inode.size > 60) throw new PiImageError('FS_UNSUPPORTED', `${this.src.name}: inode ${inode.number} keeps more than 60 bytes inline`);
      return inode.block.subarray(0, length);
    }
    const out = Buffer.alloc(length);
    for (const [logical, physical, count] of await this.extents(inode, Math.ceil(length / this.blockSize))) {
      const start = logical * this.blockSize;
      if (start >= length) continue;
      const bytes = Math.min(count * this.blockSize, length - start);
      if (physical < 0) continue;
      if (physical + Math.ceil(bytes / this.blockSize) > this.blocksCount)
        throw this.corrupt(`inode ${inode.number}: data at block ${physical} lies past the end of the file system`);
      (await this.read(physical * this.blockSize, bytes)).copy(out, start);
    }
    return out;
  }

  /**
   * An inode's whole data as chunks of at most `chunkBytes`, in order, holes as
   * zeros: memory stays bounded whatever the file's size. Reads count against
   * the budget the file system was opened with.
   */
  async *stream(inode: Inode, chunkBytes = 1 << 20): AsyncGenerator<Buffer> {
    if (inode.flags & INLINE_DATA_FL) {
      yield await this.readInode(inode, 60);
      return;
    }
    const size = inode.size;
    let position = 0;
    const zeros = function* (until: number): Generator<Buffer> {
      for (; position < until; position += Math.min(chunkBytes, until - position)) yield Buffer.alloc(Math.min(chunkBytes, until - position));
    };
    for (const [logical, physical, count] of await this.extents(inode, Math.ceil(size / this.blockSize))) {
      const start = logical * this.blockSize;
      const end = Math.min((logical + count) * this.blockSize, size);
      if (start >= size) break;
      yield* zeros(start);
      if (physical >= 0 && physical + count > this.blocksCount)
        throw this.corrupt(`inode ${inode.number}: data at block ${physical} lies past the end of the file system`);
      for (; position < end;) {
        const n = Math.min(chunkBytes, end - position);
        yield physical < 0 ? Buffer.alloc(n) : await this.read(physical * this.blockSize + (position - start), n);
        position += n;
      }
    }
    yield* zeros(size);
  }

  async readDirectory(inode: Inode): Promise<Ext4DirEntry[]> {
    if ((inode.mode & S_IFMT) !== S_IFDIR) throw new PiImageError('INTERNAL', `inode ${inode.number} is not a directory`);
    if (inode.size > MAX_DIRECTORY_BYTES)
      throw this.corrupt(`directory inode ${inode.number} claims ${inode.size} bytes; a directory here holds at most ${MAX_DIRECTORY_BYTES}`);
    const data = await this.readInode(inode, MAX_DIRECTORY_BYTES);
    const entries: Ext4DirEntry[] = [];
    let at = 0;
    while (at + 8 <= data.length) {
      const ino = data.readUInt32LE(at);
      const recLen = data.readUInt16LE(at + 4);
      const nameLen = data[at + 6]!;
      if (recLen < 8 || at + recLen > data.length) {
        // Skip to the next block: rec_len of 0 or overrunning means damage in this block.
        at = (Math.floor(at / this.blockSize) + 1) * this.blockSize;
        continue;
      }
      if (ino !== 0 && nameLen > 0) {
        if (entries.length >= MAX_DIRECTORY_ENTRIES)
          throw this.corrupt(`directory inode ${inode.number} holds more than ${MAX_DIRECTORY_ENTRIES} entries: not a directory of a system image`);
        const name = data.toString('utf8', at + 8, at + 8 + nameLen);
        if (name !== '.' && name !== '..') entries.push({ name, inode: ino, fileType: data[at + 7]! });
      }
      at += recLen;
    }
    return entries;
  }

  /**
   * Resolves a path from the root, following symlinks (absolute ones against the
   * image's root, never the host's). Returns undefined when it does not exist.
   */
  async resolve(path: string, followLast = true): Promise<Inode | undefined> {
    let hops = 0;
    const walk = async (components: string[]): Promise<Inode | undefined> => {
      let stack: Inode[] = [await this.inode(ROOT_INODE)];
      const queue = [...components];
      while (queue.length > 0) {
        const part = queue.shift()!;
        if (part === '' || part === '.') continue;
        if (part === '..') {
          if (stack.length > 1) stack.pop();
          continue;
        }
        const dir = stack[stack.length - 1]!;
        if ((dir.mode & S_IFMT) !== S_IFDIR) return undefined;
        const entry = (await this.readDirectory(dir)).find((e) => e.name === part);
        if (!entry) return undefined;
        const node = await this.inode(entry.inode);
        if ((node.mode & S_IFMT) === S_IFLNK && (queue.length > 0 || followLast)) {
          if (++hops > MAX_SYMLINK_HOPS) throw this.corrupt(`too many symlinks resolving ${path}`);
          const target = await this.readLink(node);
          if (target.startsWith('/')) stack = [stack[0]!];
          queue.unshift(...target.split('/'));
          continue;
        }
        stack.push(node);
      }
      return stack[stack.length - 1];
    };
    return walk(path.split('/'));
  }

  /** Owner, group, links, modification time and device number. */
  attributes(inode: Inode): InodeAttributes {
    return parseInodeAttributes(inode.raw);
  }

  /** Extended attributes, in-inode first, then the attribute block's; names in full (security.capability). */
  async xattrs(inode: Inode): Promise<Xattr[]> {
    const where = `${this.src.name}: inode ${inode.number}`;
    const own = inodeXattrs(inode.raw, where);
    const { attributeBlock } = parseInodeAttributes(inode.raw);
    if (attributeBlock === 0) return own;
    return [...own, ...blockXattrs(await this.readBlocks(attributeBlock), where)];
  }

  async readLink(inode: Inode): Promise<string> {
    // Fast symlinks keep the target in i_block when it is shorter than 60 bytes.
    if (inode.size < 60 && !(inode.flags & EXTENTS_FL)) return inode.block.toString('utf8', 0, inode.size);
    return (await this.readInode(inode, 4096)).toString('utf8');
  }

  /** Reads a regular file by path (symlinks followed); undefined when absent or not a file. */
  async readFile(path: string, maxBytes = 1 << 20): Promise<Buffer | undefined> {
    const inode = await this.resolve(path);
    if (!inode || (inode.mode & S_IFMT) !== S_IFREG) return undefined;
    return this.readInode(inode, maxBytes);
  }

  /** Lists a directory by path; undefined when absent. Symlinks in the listing are reported with their targets. */
  async list(path: string): Promise<{ name: string; type: 'file' | 'directory' | 'symlink' | 'other'; target?: string }[] | undefined> {
    const inode = await this.resolve(path);
    if (!inode || (inode.mode & S_IFMT) !== S_IFDIR) return undefined;
    const out: { name: string; type: 'file' | 'directory' | 'symlink' | 'other'; target?: string }[] = [];
    for (const e of await this.readDirectory(inode)) {
      const node = await this.inode(e.inode);
      const fmt = node.mode & S_IFMT;
      if (fmt === S_IFLNK) out.push({ name: e.name, type: 'symlink', target: await this.readLink(node) });
      else out.push({ name: e.name, type: fmt === S_IFDIR ? 'directory' : fmt === S_IFREG ? 'file' : 'other' });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async exists(path: string): Promise<boolean> {
    return (await this.resolve(path, false)) !== undefined;
  }
}

/** An ext file system's geometry, from its superblock: every field checked before anything is read by it. */
export interface Ext4Geometry {
  blockSize: number;
  blocksCount: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  inodeSize: number;
  incompat: number;
  roCompat: number;
  is64: boolean;
  descSize: number;
  firstDataBlock: number;
  groupCount: number;
  kind: 'ext2' | 'ext3' | 'ext4';
  label: string | undefined;
  uuid: string;
}

/** Reads and checks the superblock (1024 bytes from offset 1024) of a file system `size` bytes long. */
export function parseExt4Superblock(sb: Buffer, name: string, size: number): Ext4Geometry {
  if (!Ext4FileSystem.looksLikeExt(sb)) throw new PiImageError('IMAGE_CORRUPT', `${name}: not an ext2/3/4 file system`);
  const blockSize = 1024 << sb.readUInt32LE(24);
  const blocksCount = sb.readUInt32LE(4) + (sb.readUInt32LE(0x60) & INCOMPAT_64BIT ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
  const blocksPerGroup = sb.readUInt32LE(32);
  const inodesPerGroup = sb.readUInt32LE(40);
  const revLevel = sb.readUInt32LE(76);
  const inodeSize = revLevel >= 1 ? sb.readUInt16LE(88) : 128;
  const incompat = sb.readUInt32LE(0x60);
  const is64 = (incompat & INCOMPAT_64BIT) !== 0;
  const descSize = is64 ? sb.readUInt16LE(0xfe) || 64 : 32;
  if (blockSize > 65536 || blocksPerGroup === 0 || inodesPerGroup === 0 || inodeSize < 128 || inodeSize > blockSize) {
    throw new PiImageError('IMAGE_CORRUPT', `${name}: ext superblock has implausible geometry`);
  }
  // A group descriptor is a power of two from 32 bytes (64 with 64-bit block numbers) to a block.
  if (descSize < (is64 ? 64 : 32) || descSize > blockSize || (descSize & (descSize - 1)) !== 0) {
    throw new PiImageError('IMAGE_CORRUPT', `${name}: ext superblock gives group descriptors of ${descSize} bytes: damaged`);
  }
  if (blocksCount * blockSize > size) {
    throw new PiImageError(
      'IMAGE_CORRUPT',
      `${name}: the ext file system (${blocksCount * blockSize} bytes) is larger than its partition (${size} bytes): truncated or damaged`,
    );
  }
  const label = sb.toString('utf8', 120, 136).replace(/\0.*$/s, '') || undefined;
  const u = sb.subarray(104, 120).toString('hex');
  const uuid = `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`;
  const firstDataBlock = sb.readUInt32LE(20);
  const groupCount = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
  const compat = sb.readUInt32LE(0x5c);
  const kind = incompat & (0x40 | 0x200 | INCOMPAT_64BIT) ? 'ext4' : compat & 0x4 ? 'ext3' : 'ext2';
  return {
    blockSize,
    blocksCount,
    blocksPerGroup,
    inodesPerGroup,
    inodeSize,
    incompat,
    roCompat: sb.readUInt32LE(0x64),
    is64,
    descSize,
    firstDataBlock,
    groupCount,
    kind,
    label,
    uuid,
  };
}
