/**
 * Writing tar headers (POSIX ustar, with a PAX extended header when a name or
 * a size does not fit), for the `image` format's single layer. Deterministic:
 * owner 0:0, fixed modes, one mtime for every entry.
 */
import { PiImageError } from '../core/errors';

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);
/** The largest number an 11-digit octal ustar field holds (size, mtime). */
const USTAR_MAX_SIZE = 8 ** 11 - 1;

export type TarType = 'file' | 'dir' | 'hardlink';

export interface TarHeaderFields {
  name: string;
  type: TarType;
  size?: number;
  mode?: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
}

const TYPEFLAG: Record<TarType, string> = { file: '0', dir: '5', hardlink: '1' };

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block, any typeflag (tests build hostile archives with it). */
export function ustarBlock(fields: { name: string; typeflag: string; size: number; mode: number; mtime: number; linkname: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  block.write(octal(fields.mode, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(fields.size, 12), 124, 'ascii');
  block.write(octal(fields.mtime, 12), 136, 'ascii');
  block.write(' '.repeat(8), 148, 'ascii');
  block.write(fields.typeflag, 156, 'ascii');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  block.write('root', 265, 'ascii');
  block.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** One PAX record: "<length> <key>=<value>\n", the length counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
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
  const records: string[] = [];
  if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', name));
  if (Buffer.byteLength(linkname) > 100) records.push(paxRecord('linkpath', linkname));
  if (size > USTAR_MAX_SIZE) records.push(paxRecord('size', String(size)));
  // ustar holds 0 to 8^11 - 1 seconds (to March 2242); before 1970 or past that, PAX carries the time.
  if (!Number.isSafeInteger(fields.mtime)) throw new PiImageError('INTERNAL', `tar entry ${name}: bad mtime ${fields.mtime}`);
  const mtimeFits = fields.mtime >= 0 && fields.mtime <= USTAR_MAX_SIZE;
  if (!mtimeFits) records.push(paxRecord('mtime', String(fields.mtime)));
  const main = ustarBlock({
    name: Buffer.byteLength(name) > 100 ? name.slice(0, 99) : name,
    typeflag: TYPEFLAG[fields.type],
    size: size > USTAR_MAX_SIZE ? 0 : size,
    mode,
    mtime: mtimeFits ? fields.mtime : 0,
    linkname: Buffer.byteLength(linkname) > 100 ? '' : linkname,
  });
  if (records.length === 0) return main;
  const pax = Buffer.from(records.join(''), 'utf8');
  const paxHeader = ustarBlock({ name: 'PaxHeader', typeflag: 'x', size: pax.length, mode: 0o644, mtime: mtimeFits ? fields.mtime : 0, linkname: '' });
  return Buffer.concat([paxHeader, pax, tarPadding(pax.length), main]);
}
