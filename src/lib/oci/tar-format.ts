/**
 * Writing tar headers (POSIX ustar, with a PAX extended header when a name, a
 * size, an owner or a time does not fit, and for extended attributes). The
 * `image` format's single layer uses it deterministically (owner 0:0, fixed
 * modes, one mtime); a root file system's archive gives each entry its owner,
 * mode, time, device number and extended attributes (file capabilities as
 * `SCHILY.xattr.security.capability`, which GNU tar and bsdtar restore).
 */
import { PiImageError } from '../core/errors';

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);
/** The largest number an 11-digit octal ustar field holds (size, mtime). */
const USTAR_MAX_SIZE = 8 ** 11 - 1;

/** The largest number an 7-digit octal ustar field holds (uid, gid, device numbers). */
const USTAR_MAX_ID = 8 ** 7 - 1;

export type TarType = 'file' | 'dir' | 'hardlink' | 'symlink' | 'char' | 'block' | 'fifo';

export interface TarHeaderFields {
  name: string;
  type: TarType;
  size?: number;
  mode?: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Nanoseconds past `mtime`, carried in a PAX record when not 0. */
  mtimeNanoseconds?: number;
  linkname?: string;
  /** Owner and group (default 0, named root); others are numeric only, never named root. */
  uid?: number;
  gid?: number;
  /** For a character or block device. */
  device?: { major: number; minor: number };
  /** Extended attributes, as PAX SCHILY.xattr records (values are bytes). */
  xattrs?: readonly { name: string; value: Buffer }[];
}

const TYPEFLAG: Record<TarType, string> = { file: '0', dir: '5', hardlink: '1', symlink: '2', char: '3', block: '4', fifo: '6' };

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block, any typeflag (tests build hostile archives with it). */
export function ustarBlock(fields: {
  name: string;
  typeflag: string;
  size: number;
  mode: number;
  mtime: number;
  linkname: string;
  uid?: number;
  gid?: number;
  /** Owner and group names (default root for id 0, none otherwise). */
  uname?: string;
  gname?: string;
  device?: { major: number; minor: number } | undefined;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  const uid = fields.uid ?? 0;
  const gid = fields.gid ?? 0;
  block.write(fields.name, 0, 100, 'utf8');
  block.write(octal(fields.mode, 8), 100, 'ascii');
  block.write(octal(uid, 8), 108, 'ascii');
  block.write(octal(gid, 8), 116, 'ascii');
  block.write(octal(fields.size, 12), 124, 'ascii');
  block.write(octal(fields.mtime, 12), 136, 'ascii');
  block.write(' '.repeat(8), 148, 'ascii');
  block.write(fields.typeflag, 156, 'ascii');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  // A name is only given for root: tar maps a name through the extracting machine's passwd.
  block.write(fields.uname ?? (uid === 0 ? 'root' : ''), 265, 32, 'ascii');
  block.write(fields.gname ?? (gid === 0 ? 'root' : ''), 297, 32, 'ascii');
  if (fields.device) {
    block.write(octal(fields.device.major, 8), 329, 'ascii');
    block.write(octal(fields.device.minor, 8), 337, 'ascii');
  }
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** One PAX record: "<length> <key>=<value>\n", the length counting itself. */
export function paxRecord(key: string, value: string): string {
  return paxRecordBytes(key, Buffer.from(value, 'utf8')).toString('utf8');
}

/** A PAX record whose value is bytes (an extended attribute's value need not be text). */
export function paxRecordBytes(key: string, value: Buffer): Buffer {
  const bodyLength = Buffer.byteLength(` ${key}=`) + value.length + 1;
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
  return Buffer.concat([Buffer.from(`${length} ${key}=`, 'utf8'), value, Buffer.from('\n')]);
}

export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** The header block(s) for one entry; the data (for a file) and its padding follow. */
export function tarHeader(fields: TarHeaderFields): Buffer {
  const name = fields.type === 'dir' && !fields.name.endsWith('/') ? `${fields.name}/` : fields.name;
  const linkname = fields.linkname ?? '';
  const size = fields.type === 'file' ? (fields.size ?? 0) : 0;
  if (!Number.isSafeInteger(size) || size < 0) throw new PiImageError('INTERNAL', `tar entry ${name}: bad size ${size}`);
  const mode = fields.mode ?? (fields.type === 'dir' ? 0o755 : 0o644);
  const records: Buffer[] = [];
  const record = (key: string, value: string): number => records.push(paxRecordBytes(key, Buffer.from(value, 'utf8')));
  if (Buffer.byteLength(name) > 100) record('path', name);
  if (Buffer.byteLength(linkname) > 100) record('linkpath', linkname);
  if (size > USTAR_MAX_SIZE) record('size', String(size));
  const uid = fields.uid ?? 0;
  const gid = fields.gid ?? 0;
  for (const [key, id] of [
    ['uid', uid],
    ['gid', gid],
  ] as const) {
    if (!Number.isSafeInteger(id) || id < 0) throw new PiImageError('INTERNAL', `tar entry ${name}: bad ${key} ${id}`);
    if (id > USTAR_MAX_ID) record(key, String(id));
  }
  if (fields.device && (fields.device.major > USTAR_MAX_ID || fields.device.minor > USTAR_MAX_ID))
    throw new PiImageError('INTERNAL', `tar entry ${name}: device ${fields.device.major}:${fields.device.minor} does not fit a tar header`);
  // ustar holds 0 to 8^11 - 1 seconds (to March 2242); before 1970 or past that, PAX carries the time.
  if (!Number.isSafeInteger(fields.mtime)) throw new PiImageError('INTERNAL', `tar entry ${name}: bad mtime ${fields.mtime}`);
  const mtimeFits = fields.mtime >= 0 && fields.mtime <= USTAR_MAX_SIZE;
  const nanoseconds = fields.mtimeNanoseconds ?? 0;
  if (!Number.isInteger(nanoseconds) || nanoseconds < 0 || nanoseconds > 999_999_999)
    throw new PiImageError('INTERNAL', `tar entry ${name}: bad nanoseconds ${nanoseconds}`);
  if (!mtimeFits || nanoseconds !== 0) record('mtime', nanoseconds === 0 ? String(fields.mtime) : `${fields.mtime}.${String(nanoseconds).padStart(9, '0')}`);
  for (const x of fields.xattrs ?? []) records.push(paxRecordBytes(`SCHILY.xattr.${x.name}`, x.value));
  const main = ustarBlock({
    name: Buffer.byteLength(name) > 100 ? name.slice(0, 99) : name,
    typeflag: TYPEFLAG[fields.type],
    size: size > USTAR_MAX_SIZE ? 0 : size,
    mode,
    mtime: mtimeFits ? fields.mtime : 0,
    linkname: Buffer.byteLength(linkname) > 100 ? '' : linkname,
    uid: uid > USTAR_MAX_ID ? 0 : uid,
    gid: gid > USTAR_MAX_ID ? 0 : gid,
    // An id carried by PAX is not root's: no name that tar would map to 0.
    uname: uid === 0 ? 'root' : '',
    gname: gid === 0 ? 'root' : '',
    device: fields.device,
  });
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  const paxHeader = ustarBlock({ name: 'PaxHeader', typeflag: 'x', size: pax.length, mode: 0o644, mtime: mtimeFits ? fields.mtime : 0, linkname: '' });
  return Buffer.concat([paxHeader, pax, tarPadding(pax.length), main]);
}
