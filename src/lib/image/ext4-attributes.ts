/**
 * What an ext4 inode says besides its data: owner, group, link count,
 * modification time, device number, and its extended attributes (file
 * capabilities, ACLs, SELinux labels), read from the inode's own spare room
 * and from its attribute block. Pure parsers over the bytes: every offset and
 * length a structure claims is checked against the bytes there, so a hostile
 * image gets a coded refusal, never a read out of bounds or a loop.
 *
 * Layout (the kernel's fs/ext4/ext4.h and xattr.h):
 *   inode: uid 0x02 (+ high 16 at 0x78), gid 0x18 (+ 0x7a), links 0x1a,
 *   mtime 0x10 (+ epoch bits and nanoseconds at 0x88 when the inode is large
 *   enough), i_block 0x28 (a device number for a character or block device),
 *   attribute block 0x68 (+ high 16 at 0x76), extra size 0x80; in-inode
 *   attributes after the extra fields, behind a 0xEA020000 magic.
 *   entry: name length u8, name index u8, value offset u16, value inode u32,
 *   value size u32, hash u32, name; padded to 4 bytes; a zero word ends them.
 */
import { PiImageError } from '../core/errors';

export const XATTR_MAGIC = 0xea020000;
/** More attributes on one inode than any system file has; a bound, not a format limit. */
const MAX_XATTRS = 256;

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** The name prefixes ext4 stores as an index (fs/ext4/xattr.c). */
const PREFIXES: Record<number, string> = {
  1: 'user.',
  2: 'system.posix_acl_access',
  3: 'system.posix_acl_default',
  4: 'trusted.',
  6: 'security.',
  7: 'system.',
  8: 'system.richacl',
};

export interface InodeAttributes {
  uid: number;
  gid: number;
  links: number;
  /** Seconds since the epoch (with the epoch bits of a large inode) and nanoseconds. */
  mtime: { seconds: number; nanoseconds: number };
  /** For a character or block device. */
  rdev?: { major: number; minor: number } | undefined;
  /** The block holding more extended attributes, 0 when none. */
  attributeBlock: number;
}

export interface Xattr {
  name: string;
  value: Buffer;
}

const corrupt = (where: string, what: string): PiImageError => new PiImageError('IMAGE_CORRUPT', `${where}: ${what}`);

/** The inode's own fields; `raw` is the whole on-disk inode (128 bytes or more). */
export function parseInodeAttributes(raw: Buffer): InodeAttributes {
  const mode = raw.readUInt16LE(0);
  const large = raw.length > 128 ? raw.readUInt16LE(0x80) : 0;
  let seconds = raw.readInt32LE(0x10);
  let nanoseconds = 0;
  if (large >= 0x0c && raw.length >= 0x8c) {
    const extra = raw.readUInt32LE(0x88);
    seconds += (extra & 3) * 2 ** 32;
    nanoseconds = extra >>> 2;
  }
  let rdev: InodeAttributes['rdev'];
  const type = mode & S_IFMT;
  if (type === S_IFCHR || type === S_IFBLK) {
    const old = raw.readUInt32LE(0x28);
    if (old !== 0) rdev = { major: (old >>> 8) & 0xff, minor: old & 0xff };
    else {
      const dev = raw.readUInt32LE(0x2c);
      rdev = { major: (dev & 0xfff00) >>> 8, minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00) };
    }
  }
  return {
    uid: raw.readUInt16LE(0x02) + raw.readUInt16LE(0x78) * 0x10000,
    gid: raw.readUInt16LE(0x18) + raw.readUInt16LE(0x7a) * 0x10000,
    links: raw.readUInt16LE(0x1a),
    mtime: { seconds, nanoseconds },
    rdev,
    attributeBlock: raw.readUInt32LE(0x68) + raw.readUInt16LE(0x76) * 2 ** 32,
  };
}

/**
 * Attribute entries from `entriesStart` in `region`, values at `valueBase` +
 * their offset (the first entry for in-inode attributes, the block's start for
 * an attribute block).
 */
export function parseXattrEntries(region: Buffer, entriesStart: number, valueBase: number, where: string): Xattr[] {
  const out: Xattr[] = [];
  let at = entriesStart;
  while (at + 4 <= region.length && region.readUInt32LE(at) !== 0) {
    if (out.length >= MAX_XATTRS) throw corrupt(where, `more than ${MAX_XATTRS} extended attributes`);
    if (at + 16 > region.length) throw corrupt(where, 'an extended attribute entry runs past its region');
    const nameLength = region.readUInt8(at);
    const index = region.readUInt8(at + 1);
    const valueOffset = region.readUInt16LE(at + 2);
    const valueInode = region.readUInt32LE(at + 4);
    const valueSize = region.readUInt32LE(at + 8);
    const nameEnd = at + 16 + nameLength;
    if (nameEnd > region.length) throw corrupt(where, 'an extended attribute name runs past its region');
    const suffix = region.toString('latin1', at + 16, nameEnd);
    const prefix = PREFIXES[index];
    if (prefix === undefined) throw corrupt(where, `extended attribute "${suffix}" has name index ${index}, which ext4 does not define`);
    const name = prefix + suffix;
    if (valueInode !== 0)
      throw new PiImageError(
        'FS_UNSUPPORTED',
        `${where}: extended attribute ${name} keeps its value in inode ${valueInode} (ea_inode), which this reader does not read`,
      );
    const start = valueBase + valueOffset;
    if (valueSize > 0 && (start < entriesStart || start + valueSize > region.length))
      throw corrupt(where, `extended attribute ${name} claims ${valueSize} bytes at ${valueOffset}, outside its region`);
    out.push({ name, value: Buffer.from(region.subarray(start, start + valueSize)) });
    at = (nameEnd + 3) & ~3;
  }
  return out;
}

/** The in-inode attributes of a large inode (none when it has no room or no magic). */
export function inodeXattrs(raw: Buffer, where: string): Xattr[] {
  if (raw.length <= 128) return [];
  const extra = raw.readUInt16LE(0x80);
  const start = 0x80 + extra;
  if (extra % 4 !== 0 || start + 4 > raw.length) {
    if (start > raw.length) throw corrupt(where, `its extra inode size ${extra} runs past the inode (${raw.length} bytes)`);
    return [];
  }
  if (raw.readUInt32LE(start) !== XATTR_MAGIC) return [];
  return parseXattrEntries(raw, start + 4, start + 4, where);
}

/** The attributes of an attribute block (its header checked). */
export function blockXattrs(block: Buffer, where: string): Xattr[] {
  if (block.length < 32 || block.readUInt32LE(0) !== XATTR_MAGIC) throw corrupt(where, 'its extended attribute block has no 0xEA020000 magic');
  if (block.readUInt32LE(8) !== 1) throw corrupt(where, `its extended attribute block claims ${block.readUInt32LE(8)} blocks; ext4 uses 1`);
  return parseXattrEntries(block, 32, 0, where);
}
