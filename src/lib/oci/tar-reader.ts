/**
 * A streaming tar reader (ustar, PAX and GNU long names) that never holds more
 * than a block and a chunk: each entry's data goes to the sink the caller
 * returns for it, with backpressure. Headers are checked (checksum, sizes);
 * the caller decides what an entry may be: see `safeEntryPath`.
 */
import { PiImageError } from '../core/errors';
import { BLOCK } from './tar-format';

export type TarEntryType = 'file' | 'dir' | 'hardlink' | 'symlink' | 'device' | 'other';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  typeflag: string;
  size: number;
  linkname: string;
  mode: number;
}

export interface EntrySink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
}

/** Exactly-n reads over an async iterable of chunks. */
class ByteReader {
  private buffer: Buffer = Buffer.alloc(0);
  private done = false;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.iterator.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.buffer = this.buffer.length === 0 ? next.value : Buffer.concat([this.buffer, next.value]);
    return true;
  }

  /** Up to n bytes: fewer only at the end of the input. */
  async take(n: number): Promise<Buffer> {
    while (this.buffer.length < n && (await this.more()));
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(out.length);
    return out;
  }

  /** n bytes as chunks, as they arrive. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffer.length === 0 && !(await this.more())) throw new PiImageError('UNSAFE_ARCHIVE', `the tar ends ${left} bytes early`);
      const out = this.buffer.subarray(0, Math.min(left, this.buffer.length));
      this.buffer = this.buffer.subarray(out.length);
      left -= out.length;
      yield out;
    }
  }

  /** Stops reading the source early (an entry was refused): lets it release its connection or file. */
  async close(): Promise<void> {
    if (!this.done) await this.iterator.return?.();
    this.done = true;
  }

  async drainRest(): Promise<void> {
    this.buffer = Buffer.alloc(0);
    while (await this.more()) this.buffer = Buffer.alloc(0);
  }
}

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? length : nul).toString('utf8');
}

function numeric(block: Buffer, start: number, length: number, what: string): number {
  const raw = block.subarray(start, start + length);
  if (raw[0]! & 0x80) {
    // GNU base-256: big-endian, the top bit marks it.
    let value = raw[0]! & 0x7f;
    for (const byte of raw.subarray(1)) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw new PiImageError('UNSAFE_ARCHIVE', `tar header: ${what} is too large`);
    return value;
  }
  const text = field(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new PiImageError('UNSAFE_ARCHIVE', `tar header: ${what} "${text}" is not an octal number`);
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  let stored: number;
  try {
    stored = numeric(block, 148, 8, 'checksum');
  } catch {
    return false; // no number where the checksum belongs: not a tar header at all
  }
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return stored === sum;
}

function parsePax(text: string): Record<string, string> {
  // No prototype: a record named __proto__ is a key like any other.
  const out = Object.create(null) as Record<string, string>;
  let rest = text;
  while (rest.length > 0) {
    const m = /^(\d+) /.exec(rest);
    if (!m) throw new PiImageError('UNSAFE_ARCHIVE', 'tar: a malformed PAX header');
    const length = Number(m[1]);
    const record = Buffer.from(rest, 'utf8').subarray(0, length).toString('utf8');
    const eq = record.indexOf('=');
    if (eq < 0 || !record.endsWith('\n')) throw new PiImageError('UNSAFE_ARCHIVE', 'tar: a malformed PAX record');
    out[record.slice(m[0].length, eq)] = record.slice(eq + 1, -1);
    rest = Buffer.from(rest, 'utf8').subarray(length).toString('utf8');
  }
  return out;
}

function typeOf(flag: string): TarEntryType {
  if (flag === '0' || flag === '\0' || flag === '' || flag === '7') return 'file';
  if (flag === '5') return 'dir';
  if (flag === '1') return 'hardlink';
  if (flag === '2') return 'symlink';
  if (flag === '3' || flag === '4' || flag === '6') return 'device';
  return 'other';
}

const MAX_META = 1024 * 1024;

/**
 * Reads a tar from `source`, calling `onEntry` for each entry; the sink it
 * returns receives the entry's data (no sink: the data is skipped).
 */
export async function readTar(source: AsyncIterable<Buffer>, onEntry: (entry: TarEntry) => Promise<EntrySink | undefined>): Promise<void> {
  const reader = new ByteReader(source);
  try {
    await readEntries(reader, onEntry);
  } finally {
    await reader.close();
  }
}

async function readEntries(reader: ByteReader, onEntry: (entry: TarEntry) => Promise<EntrySink | undefined>): Promise<void> {
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  // Metadata headers before one entry, together: a stream of PAX headers cannot grow without end.
  let metaBytes = 0;
  for (;;) {
    const block = await reader.take(BLOCK);
    if (block.length === 0) return; // no end marker: tolerated, as GNU tar does
    if (block.length < BLOCK) throw new PiImageError('UNSAFE_ARCHIVE', 'the tar ends inside a header');
    if (block.every((b) => b === 0)) {
      await reader.drainRest();
      return;
    }
    if (!checksumOk(block)) throw new PiImageError('UNSAFE_ARCHIVE', 'tar header checksum does not match: not a tar, or a damaged one');
    const typeflag = String.fromCharCode(block[156]!);
    let size = numeric(block, 124, 12, 'size');
    const readMeta = async (what: string): Promise<string> => {
      metaBytes += size;
      if (size > MAX_META || metaBytes > MAX_META)
        throw new PiImageError('UNSAFE_ARCHIVE', `tar: ${what} headers of more than ${MAX_META} bytes for one entry`);
      const data = await reader.take(size + ((BLOCK - (size % BLOCK)) % BLOCK));
      if (data.length < size) throw new PiImageError('UNSAFE_ARCHIVE', `the tar ends inside a ${what} header`);
      return data.subarray(0, size).toString('utf8');
    };
    if (typeflag === 'x') {
      pax = { ...pax, ...parsePax(await readMeta('PAX')) };
      continue;
    }
    if (typeflag === 'g') {
      await readMeta('PAX global'); // global defaults: none that matter here
      continue;
    }
    if (typeflag === 'L' || typeflag === 'K') {
      const text = (await readMeta('GNU long name')).replace(/\0+$/, '');
      if (typeflag === 'L') longName = text;
      else longLink = text;
      continue;
    }
    const prefix = block.subarray(257, 262).toString('ascii') === 'ustar' ? field(block, 345, 155) : '';
    const baseName = field(block, 0, 100);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
    if (pax.size !== undefined) {
      if (!/^\d+$/.test(pax.size)) throw new PiImageError('UNSAFE_ARCHIVE', `tar: PAX size "${pax.size}" is not a number`);
      size = Number(pax.size);
    }
    const entry: TarEntry = {
      name,
      type: typeOf(typeflag),
      typeflag,
      size,
      linkname: pax.linkpath ?? longLink ?? field(block, 157, 100),
      mode: numeric(block, 100, 8, 'mode'),
    };
    pax = {};
    metaBytes = 0;
    longName = undefined;
    longLink = undefined;
    // Only regular files carry data (hard links, directories, devices: none, whatever the size field says).
    const dataSize = entry.type === 'file' || entry.type === 'other' ? size : 0;
    const sink = await onEntry({ ...entry, size: dataSize });
    for await (const chunk of reader.stream(dataSize)) if (sink) await sink.write(chunk);
    if (sink) await sink.end();
    const padding = (BLOCK - (dataSize % BLOCK)) % BLOCK;
    if ((await reader.take(padding)).length < padding) throw new PiImageError('UNSAFE_ARCHIVE', 'the tar ends inside padding');
  }
}

/**
 * The path segments of an entry name that stays inside the directory it is
 * extracted to; throws UNSAFE_ARCHIVE for an absolute path, a `..` segment,
 * a NUL or a backslash. "./a/b/" → ["a", "b"].
 */
export function safeEntryPath(name: string): string[] {
  if (name.startsWith('/')) throw new PiImageError('UNSAFE_ARCHIVE', `tar entry "${name}" has an absolute path: refused`);
  if (name.includes('\0') || name.includes('\\')) throw new PiImageError('UNSAFE_ARCHIVE', `tar entry ${JSON.stringify(name)} has a NUL or backslash: refused`);
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new PiImageError('UNSAFE_ARCHIVE', `tar entry "${name}" climbs out with "..": refused`);
  return segments;
}
