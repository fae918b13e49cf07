import { createReadStream, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingTools, sh, skipReason } from '../../../test/support/tools';
import { BLOCK, paxRecord, TAR_END, tarHeader, tarPadding, ustarBlock } from './tar-format';
import { readTar, safeEntryPath, type TarEntry } from './tar-reader';

async function* chunks(bytes: Buffer, size = 4096): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

type ReadEntry = Pick<TarEntry, 'name' | 'type' | 'size' | 'linkname'> & { data: string };

/** Every entry with its data (as text), in order. */
async function readAll(source: AsyncIterable<Buffer>): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  await readTar(source, async (entry) => {
    const read: ReadEntry = { name: entry.name, type: entry.type, size: entry.size, linkname: entry.linkname, data: '' };
    out.push(read);
    const parts: Buffer[] = [];
    return {
      write: async (chunk) => void parts.push(Buffer.from(chunk)),
      end: async () => {
        read.data = Buffer.concat(parts).toString('utf8');
      },
    };
  });
  return out;
}

/** A block with `text` written at `offset` and its checksum made right again (a well-formed header with a hostile field). */
function patched(block: Buffer, offset: number, bytes: Buffer | string): Buffer {
  const out = Buffer.from(block);
  (typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes).copy(out, offset);
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of out) sum += byte;
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

const file = (name: string, data: string): Buffer[] => [
  tarHeader({ name, type: 'file', size: Buffer.byteLength(data), mtime: 0 }),
  Buffer.from(data),
  tarPadding(Buffer.byteLength(data)),
];
const meta = (typeflag: string, body: Buffer | string): Buffer[] => {
  const bytes = Buffer.from(body);
  return [ustarBlock({ name: 'meta', typeflag, size: bytes.length, mode: 0o644, mtime: 0, linkname: '' }), bytes, tarPadding(bytes.length)];
};

describe('readTar refuses a damaged or hostile archive with UNSAFE_ARCHIVE', () => {
  const header = tarHeader({ name: 'a.txt', type: 'file', size: 1000, mtime: 0 });
  const MiB = 1024 * 1024;
  it.each<[string, () => Buffer, string]>([
    [
      'a header changed after its checksum was written',
      () => {
        const changed = Buffer.from(header);
        changed[0] = 'b'.charCodeAt(0);
        return Buffer.concat([changed, Buffer.alloc(1000), tarPadding(1000), TAR_END]);
      },
      'tar header checksum does not match: not a tar, or a damaged one',
    ],
    ['text that is not a tar', () => Buffer.alloc(1024, 'A'), 'tar header checksum does not match: not a tar, or a damaged one'],
    [
      'a size that is not octal',
      () => Buffer.concat([patched(header, 124, '0000000z000\0'), TAR_END]),
      'tar header: size "0000000z000" is not an octal number',
    ],
    ['a mode that is not octal', () => Buffer.concat([patched(header, 100, '-000644\0'), TAR_END]), 'tar header: mode "-000644" is not an octal number'],
    [
      'a base-256 size past 2^53',
      () => Buffer.concat([patched(header, 124, Buffer.from([0x80, ...Array<number>(11).fill(0xff)])), TAR_END]),
      'tar header: size is too large',
    ],
    ['an end inside a header', () => header.subarray(0, 300), 'the tar ends inside a header'],
    ['an end inside the data', () => Buffer.concat([header, Buffer.alloc(600, 1)]), 'the tar ends 400 bytes early'],
    ['an end inside the padding', () => Buffer.concat([header, Buffer.alloc(1000, 1), Buffer.alloc(10)]), 'the tar ends inside padding'],
    ['an end inside a PAX header', () => Buffer.concat(meta('x', paxRecord('path', 'a'))).subarray(0, BLOCK + 4), 'the tar ends inside a PAX header'],
    ['a PAX header without record lengths', () => Buffer.concat([...meta('x', 'path=a\n'), ...file('a', 'a'), TAR_END]), 'tar: a malformed PAX header'],
    ['a PAX record without "="', () => Buffer.concat([...meta('x', '12 path-noeq\n'), ...file('a', 'a'), TAR_END]), 'tar: a malformed PAX record'],
    ['a PAX record without its newline', () => Buffer.concat([...meta('x', '10 path=ab'), ...file('a', 'a'), TAR_END]), 'tar: a malformed PAX record'],
    [
      'a PAX size that is not a number',
      () => Buffer.concat([...meta('x', paxRecord('size', '12x')), ...file('a', 'a'), TAR_END]),
      'tar: PAX size "12x" is not a number',
    ],
    [
      'one PAX header over 1 MiB',
      () => Buffer.concat([ustarBlock({ name: 'meta', typeflag: 'x', size: MiB + 1, mode: 0o644, mtime: 0, linkname: '' })]),
      'tar: PAX headers of more than 1048576 bytes for one entry',
    ],
    [
      'PAX headers for one entry that add up to over 1 MiB',
      () =>
        Buffer.concat([
          ...meta('x', paxRecord('comment', 'c'.repeat(600 * 1024))),
          ...meta('x', paxRecord('comment', 'c'.repeat(600 * 1024))),
          ...file('a', 'a'),
        ]),
      'tar: PAX headers of more than 1048576 bytes for one entry',
    ],
    [
      'a GNU long name over 1 MiB',
      () => ustarBlock({ name: '././@LongLink', typeflag: 'L', size: 2 * MiB, mode: 0o644, mtime: 0, linkname: '' }),
      'tar: GNU long name headers of more than 1048576 bytes for one entry',
    ],
  ])('%s', async (_label, bytes, message) => {
    await expect(readAll(chunks(bytes()))).rejects.toMatchObject({ name: 'PiImageError', code: 'UNSAFE_ARCHIVE', message });
  });
});

describe('readTar', () => {
  it('counts PAX headers per entry: 1 MiB in all across several entries is fine', async () => {
    const big = paxRecord('comment', 'c'.repeat(600 * 1024));
    const bytes = Buffer.concat([...meta('x', big), ...file('a', 'A'), ...meta('x', big), ...file('b', 'B'), TAR_END]);
    expect((await readAll(chunks(bytes))).map((e) => e.data)).toEqual(['A', 'B']);
  });

  it('applies a PAX header to the next entry only, and skips global headers', async () => {
    const bytes = Buffer.concat([
      ...meta('g', paxRecord('path', 'global-ignored')),
      ...meta('x', paxRecord('path', 'from/pax') + paxRecord('linkpath', 'pax-link')),
      ...file('short', 'one'),
      ...file('plain', 'two'),
      TAR_END,
    ]);
    expect(await readAll(chunks(bytes, 7))).toEqual([
      { name: 'from/pax', type: 'file', size: 3, linkname: 'pax-link', data: 'one' },
      { name: 'plain', type: 'file', size: 3, linkname: '', data: 'two' },
    ]);
  });

  it('reads GNU long name and long link headers', async () => {
    const name = `dir/${'n'.repeat(200)}`;
    const bytes = Buffer.concat([
      ...meta('L', `${name}\0`),
      ...meta('K', `${'t'.repeat(150)}\0`),
      ustarBlock({ name: name.slice(0, 100), typeflag: '2', size: 0, mode: 0o777, mtime: 0, linkname: 't'.repeat(100) }),
      TAR_END,
    ]);
    expect(await readAll(chunks(bytes))).toEqual([{ name, type: 'symlink', size: 0, linkname: 't'.repeat(150), data: '' }]);
  });

  it('reads a GNU base-256 size', async () => {
    const header = patched(tarHeader({ name: 'a', type: 'file', size: 0, mtime: 0 }), 124, Buffer.from([0x80, ...Array<number>(10).fill(0), 5]));
    expect(await readAll(chunks(Buffer.concat([header, Buffer.from('hello'), tarPadding(5), TAR_END])))).toEqual([
      { name: 'a', type: 'file', size: 5, linkname: '', data: 'hello' },
    ]);
  });

  it('reads no data for a hard link, a directory or a device, whatever their size field says', async () => {
    const entry = (name: string, typeflag: string) => ustarBlock({ name, typeflag, size: 600, mode: 0o644, mtime: 0, linkname: typeflag === '1' ? 'a' : '' });
    const bytes = Buffer.concat([entry('link', '1'), entry('dir/', '5'), entry('dev', '3'), entry('fifo', '6'), ...file('after', 'data'), TAR_END]);
    expect(await readAll(chunks(bytes))).toEqual([
      { name: 'link', type: 'hardlink', size: 0, linkname: 'a', data: '' },
      { name: 'dir/', type: 'dir', size: 0, linkname: '', data: '' },
      { name: 'dev', type: 'device', size: 0, linkname: '', data: '' },
      { name: 'fifo', type: 'device', size: 0, linkname: '', data: '' },
      { name: 'after', type: 'file', size: 4, linkname: '', data: 'data' },
    ]);
  });

  it('reads the data of an unknown type, so the entries after it stay in step', async () => {
    const bytes = Buffer.concat([
      ustarBlock({ name: 'sparse', typeflag: 'S', size: 3, mode: 0o644, mtime: 0, linkname: '' }),
      Buffer.from('abc'),
      tarPadding(3),
      ...file('b', 'B'),
      TAR_END,
    ]);
    expect(await readAll(chunks(bytes))).toEqual([
      { name: 'sparse', type: 'other', size: 3, linkname: '', data: 'abc' },
      { name: 'b', type: 'file', size: 1, linkname: '', data: 'B' },
    ]);
  });

  it('tolerates a missing end marker, as GNU tar does', async () => {
    expect(await readAll(chunks(Buffer.concat(file('a', 'A'))))).toEqual([{ name: 'a', type: 'file', size: 1, linkname: '', data: 'A' }]);
  });

  it('stops at the first zero block and reads the rest of the source without looking at it', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for await (const c of chunks(Buffer.concat([...file('a', 'A'), Buffer.alloc(BLOCK), Buffer.alloc(4 * BLOCK, 'garbage')]), BLOCK)) {
        pulled++;
        yield c;
      }
    }
    expect((await readAll(source())).map((e) => e.name)).toEqual(['a']);
    expect(pulled).toBe(7);
  });

  it('skips the data of an entry given no sink', async () => {
    const names: string[] = [];
    await readTar(chunks(Buffer.concat([...file('a', 'x'.repeat(2000)), ...file('b', 'B'), TAR_END]), 100), async (e) => {
      names.push(e.name);
      return undefined;
    });
    expect(names).toEqual(['a', 'b']);
  });

  it('stops reading the source when an entry is refused, and lets it close', async () => {
    let pulled = 0;
    let closed = false;
    async function* source(): AsyncGenerator<Buffer> {
      try {
        for await (const c of chunks(Buffer.concat([...file('a', 'A'), ...file('b', 'B'), ...file('c', 'C'), TAR_END]), BLOCK)) {
          pulled++;
          yield c;
        }
      } finally {
        closed = true;
      }
    }
    const refused = new Error('b is not allowed');
    await expect(
      readTar(source(), async (e) => {
        if (e.name === 'b') throw refused;
        return undefined;
      }),
    ).rejects.toBe(refused);
    expect(closed).toBe(true);
    expect(pulled).toBe(3);
  });
});

describe('safeEntryPath', () => {
  it.each<[string, string[]]>([
    ['artifact/manifest.json', ['artifact', 'manifest.json']],
    ['./a/b/', ['a', 'b']],
    ['a//b/./c', ['a', 'b', 'c']],
    ['...', ['...']],
    ['a/..b', ['a', '..b']],
    ['.', []],
    ['', []],
  ])('splits %j into %j', (name, segments) => {
    expect(safeEntryPath(name)).toEqual(segments);
  });

  it.each<[string, string]>([
    ['/etc/passwd', 'tar entry "/etc/passwd" has an absolute path: refused'],
    ['//x', 'tar entry "//x" has an absolute path: refused'],
    ['..', 'tar entry ".." climbs out with "..": refused'],
    ['a/../../b', 'tar entry "a/../../b" climbs out with "..": refused'],
    ['./..', 'tar entry "./.." climbs out with "..": refused'],
    ['a\\..\\b', 'tar entry "a\\\\..\\\\b" has a NUL or backslash: refused'],
    ['a\0b', 'tar entry "a\\u0000b" has a NUL or backslash: refused'],
  ])('refuses %j with UNSAFE_ARCHIVE, naming it', (name, message) => {
    expect(() => safeEntryPath(name)).toThrow(expect.objectContaining({ code: 'UNSAFE_ARCHIVE', message }));
  });
});

const missing = missingTools(['tar', 'mkfifo']);
if (missing.length > 0) skipReason('tar-reader against GNU tar', `${missing.join(', ')} not installed`);
const gnuTar = missing.length === 0 && sh('tar', ['--version']).startsWith('tar (GNU tar)');
if (missing.length === 0 && !gnuTar) skipReason('tar-reader against GNU tar', 'tar is not GNU tar');

describe.skipIf(!gnuTar)('readTar on archives GNU tar made', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-reader-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  const longDir = `artifact/${'d'.repeat(60)}`;
  const longFile = `${longDir}/${'n'.repeat(80)}.bin`; // 150 bytes
  const longTarget = `${'d'.repeat(60)}/${'n'.repeat(80)}.bin`; // 145 bytes: past ustar's 100-byte link field
  mkdirSync(join(src, longDir), { recursive: true });
  writeFileSync(join(src, 'artifact/a.txt'), 'hello');
  writeFileSync(join(src, longFile), 'x'.repeat(700));
  writeFileSync(join(src, 'artifact/empty'), '');
  linkSync(join(src, 'artifact/a.txt'), join(src, 'artifact/hard'));
  symlinkSync(longTarget, join(src, 'artifact/long-symlink'));
  sh('mkfifo', [join(src, 'artifact/fifo')]);

  const entries: ReadEntry[] = [
    { name: 'artifact/', type: 'dir', size: 0, linkname: '', data: '' },
    { name: 'artifact/a.txt', type: 'file', size: 5, linkname: '', data: 'hello' },
    { name: `${longDir}/`, type: 'dir', size: 0, linkname: '', data: '' },
    { name: longFile, type: 'file', size: 700, linkname: '', data: 'x'.repeat(700) },
    { name: 'artifact/empty', type: 'file', size: 0, linkname: '', data: '' },
    { name: 'artifact/fifo', type: 'device', size: 0, linkname: '', data: '' },
    { name: 'artifact/hard', type: 'hardlink', size: 0, linkname: 'artifact/a.txt', data: '' },
    { name: 'artifact/long-symlink', type: 'symlink', size: 0, linkname: longTarget, data: '' },
  ];

  it.each<[string, ReadEntry[]]>([
    ['gnu (GNU long names)', entries],
    ['posix (PAX headers)', entries],
    // ustar splits a long name into prefix and name, and cannot hold the long link at all.
    ['ustar (the prefix field)', entries.filter((e) => e.type !== 'symlink')],
  ])('reads every entry of a %s archive', async (label, expected) => {
    const format = label.split(' ')[0]!;
    const archive = join(dir, `${format}.tar`);
    const names = expected.map((e) => e.name.replace(/\/$/, ''));
    sh('tar', [`--format=${format}`, '--no-recursion', '--owner=0', '--group=0', '-C', src, '-cf', archive, ...names]);
    expect(await readAll(createReadStream(archive, { highWaterMark: 1000 }))).toEqual(expected);
  });
});
