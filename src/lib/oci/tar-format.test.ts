import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, missingTools, sh, skipReason } from '../../../test/support/tools';
import { BLOCK, paxRecord, TAR_END, tarHeader, tarPadding, type TarHeaderFields, ustarBlock } from './tar-format';
import { readTar, type TarEntry } from './tar-reader';

const MTIME = 1768780800; // 2026-01-19T00:00:00Z
const LONG_DIR = `artifact/${'d'.repeat(60)}`;
const LONG_NAME = `${LONG_DIR}/${'n'.repeat(80)}.img.xz`; // 150 bytes: past ustar's 100-byte name field
const LONG_LINK = `${LONG_DIR}/${'l'.repeat(70)}.img.xz`;

interface Item {
  fields: TarHeaderFields;
  data?: Buffer;
}

/** A whole archive as tar-format writes one: headers, data, padding, end marker. */
function archive(items: readonly Item[]): Buffer {
  return Buffer.concat([...items.flatMap((i) => [tarHeader(i.fields), ...(i.data ? [i.data, tarPadding(i.data.length)] : [])]), TAR_END]);
}

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function readAll(source: AsyncIterable<Buffer>): Promise<(TarEntry & { data: string })[]> {
  const out: (TarEntry & { data: string })[] = [];
  await readTar(source, async (entry) => {
    const parts: Buffer[] = [];
    out.push({ ...entry, data: '' });
    const index = out.length - 1;
    return {
      write: async (chunk) => void parts.push(Buffer.from(chunk)),
      end: async () => {
        out[index]!.data = Buffer.concat(parts).toString('utf8');
      },
    };
  });
  return out;
}

const field = (block: Buffer, start: number, length: number): string => block.subarray(start, start + length).toString('latin1');

describe('paxRecord', () => {
  it.each<[string, string, string]>([
    ['path', 'a', '9 path=a\n'],
    ['path', 'ab', '11 path=ab\n'],
    ['path', 'é', '11 path=é\n'],
    ['size', '8589934592', '19 size=8589934592\n'],
    ['path', 'x'.repeat(90), `99 path=${'x'.repeat(90)}\n`],
    ['path', 'x'.repeat(91), `101 path=${'x'.repeat(91)}\n`],
  ])('writes %s=%s with a length that counts itself', (key, value, expected) => {
    const record = paxRecord(key, value);
    expect(record).toBe(expected);
    expect(Buffer.byteLength(record)).toBe(parseInt(record, 10));
  });
});

describe('tarPadding', () => {
  it.each<[number, number]>([
    [0, 0],
    [1, 511],
    [511, 1],
    [512, 0],
    [513, 511],
    [1024, 0],
  ])('pads %d bytes with %d zero bytes', (size, padding) => {
    const pad = tarPadding(size);
    expect(pad.length).toBe(padding);
    expect(pad.every((b) => b === 0)).toBe(true);
  });
});

describe('tarHeader', () => {
  it('writes one ustar block for a short name: owner 0:0, octal fields, a matching checksum', () => {
    const block = tarHeader({ name: 'artifact/manifest.json', type: 'file', size: 1000, mtime: MTIME });
    expect(block.length).toBe(BLOCK);
    expect(field(block, 0, 23)).toBe('artifact/manifest.json\0');
    expect(field(block, 100, 8)).toBe('0000644\0');
    expect(field(block, 108, 16)).toBe('0000000\x000000000\0');
    expect(field(block, 124, 12)).toBe('00000001750\0');
    expect(field(block, 136, 12)).toBe(`${MTIME.toString(8)}\0`);
    expect(field(block, 156, 1)).toBe('0');
    expect(field(block, 257, 8)).toBe('ustar\x0000');
    expect(field(block, 265, 5)).toBe('root\0');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
    expect(field(block, 148, 8)).toBe(`${sum.toString(8).padStart(6, '0')}\0 `);
  });

  it('ends a directory name with "/", gives it mode 755 and no size', () => {
    const block = tarHeader({ name: 'artifact', type: 'dir', size: 99, mtime: MTIME });
    expect(field(block, 0, 10)).toBe('artifact/\0');
    expect(field(block, 100, 8)).toBe('0000755\0');
    expect(field(block, 124, 12)).toBe('00000000000\0');
    expect(field(block, 156, 1)).toBe('5');
  });

  it('gives a hard link its target and no size', () => {
    const block = tarHeader({ name: 'artifact/os.img.xz', type: 'hardlink', linkname: 'artifact/a.img.xz', size: 5, mtime: MTIME });
    expect(field(block, 124, 12)).toBe('00000000000\0');
    expect(field(block, 156, 1)).toBe('1');
    expect(field(block, 157, 18)).toBe('artifact/a.img.xz\0');
  });

  it('uses the mode given', () => {
    expect(field(tarHeader({ name: 'x', type: 'file', mode: 0o600, mtime: 0 }), 100, 8)).toBe('0000600\0');
  });

  it('puts a name of exactly 100 bytes in the ustar field, and one of 101 in a PAX header', () => {
    expect(tarHeader({ name: 'a'.repeat(100), type: 'file', mtime: 0 }).length).toBe(BLOCK);
    const long = tarHeader({ name: 'a'.repeat(101), type: 'file', mtime: 0 });
    expect(long.length).toBe(3 * BLOCK);
    expect(field(long, 156, 1)).toBe('x');
    expect(
      long
        .subarray(BLOCK, 2 * BLOCK)
        .toString('utf8')
        .replace(/\0+$/, ''),
    ).toBe(paxRecord('path', 'a'.repeat(101)));
    expect(field(long, 2 * BLOCK + 156, 1)).toBe('0');
  });

  it('refuses a negative or fractional size with INTERNAL, naming the entry', () => {
    expect(() => tarHeader({ name: 'artifact/a', type: 'file', size: -1, mtime: 0 })).toThrow(
      expect.objectContaining({ code: 'INTERNAL', message: 'tar entry artifact/a: bad size -1' }),
    );
    expect(() => tarHeader({ name: 'artifact/a', type: 'file', size: 1.5, mtime: 0 })).toThrow(
      expect.objectContaining({ code: 'INTERNAL', message: 'tar entry artifact/a: bad size 1.5' }),
    );
  });
});

describe('tar-format read back by tar-reader', () => {
  const items: Item[] = [
    { fields: { name: 'artifact', type: 'dir', mtime: MTIME } },
    { fields: { name: 'artifact/manifest.json', type: 'file', size: 1000, mtime: MTIME }, data: Buffer.alloc(1000, 'm') },
    { fields: { name: 'artifact/empty', type: 'file', size: 0, mtime: MTIME }, data: Buffer.alloc(0) },
    { fields: { name: 'artifact/block', type: 'file', size: 512, mtime: MTIME }, data: Buffer.alloc(512, 'b') },
    { fields: { name: LONG_NAME, type: 'file', size: 3, mtime: MTIME }, data: Buffer.from('xyz') },
    { fields: { name: 'artifact/é-ünïcode.txt', type: 'file', size: 2, mtime: MTIME }, data: Buffer.from('ok') },
    { fields: { name: 'artifact/os.img.xz', type: 'hardlink', linkname: LONG_LINK, mtime: MTIME } },
  ];
  const bytes = archive(items);
  const expected = [
    { name: 'artifact/', type: 'dir', typeflag: '5', size: 0, linkname: '', mode: 0o755, data: '' },
    { name: 'artifact/manifest.json', type: 'file', typeflag: '0', size: 1000, linkname: '', mode: 0o644, data: 'm'.repeat(1000) },
    { name: 'artifact/empty', type: 'file', typeflag: '0', size: 0, linkname: '', mode: 0o644, data: '' },
    { name: 'artifact/block', type: 'file', typeflag: '0', size: 512, linkname: '', mode: 0o644, data: 'b'.repeat(512) },
    { name: LONG_NAME, type: 'file', typeflag: '0', size: 3, linkname: '', mode: 0o644, data: 'xyz' },
    { name: 'artifact/é-ünïcode.txt', type: 'file', typeflag: '0', size: 2, linkname: '', mode: 0o644, data: 'ok' },
    { name: 'artifact/os.img.xz', type: 'hardlink', typeflag: '1', size: 0, linkname: LONG_LINK, mode: 0o644, data: '' },
  ];

  it.each([1, 100, 511, 512, 513, 1 << 20])('reads every entry back, its long name and link too, in chunks of %d bytes', async (size) => {
    expect(await readAll(chunks(bytes, size))).toEqual(expected);
  });

  it("carries a size past ustar's 8 GiB limit in a PAX record", async () => {
    const size = 8 ** 11; // one byte more than 11 octal digits hold
    const header = tarHeader({ name: 'artifact/huge.img', type: 'file', size, mtime: MTIME });
    expect(header.length).toBe(3 * BLOCK);
    expect(
      header
        .subarray(BLOCK, 2 * BLOCK)
        .toString('utf8')
        .replace(/\0+$/, ''),
    ).toBe(paxRecord('size', '8589934592'));
    expect(field(header, 2 * BLOCK + 124, 12)).toBe('00000000000\0');
    const seen: number[] = [];
    // No data follows: the reader must expect 8 GiB of it, and say that it is missing.
    const read = readTar(chunks(header, BLOCK), async (e) => void seen.push(e.size));
    await expect(read).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE', message: 'the tar ends 8589934592 bytes early' });
    expect(seen).toEqual([size]);
  });
});

const missing = missingTools(['tar']);
if (missing.length > 0) skipReason('tar-format against GNU tar', 'tar is not installed');
const gnuTar = missing.length === 0 && sh('tar', ['--version']).startsWith('tar (GNU tar)');
if (missing.length === 0 && !gnuTar) skipReason('tar-format against GNU tar', 'tar is not GNU tar');

describe.skipIf(!gnuTar)('tar-format against GNU tar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-format-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'release.tar');
  writeFileSync(
    file,
    archive([
      { fields: { name: 'artifact', type: 'dir', mtime: MTIME } },
      { fields: { name: 'artifact/manifest.json', type: 'file', size: 1000, mtime: MTIME }, data: Buffer.alloc(1000, 'm') },
      { fields: { name: LONG_DIR, type: 'dir', mtime: MTIME } },
      { fields: { name: LONG_LINK, type: 'file', size: 3, mtime: MTIME }, data: Buffer.from('xyz') },
      { fields: { name: 'artifact/os.img.xz', type: 'hardlink', linkname: LONG_LINK, mtime: MTIME } },
      { fields: { name: 'artifact/é.txt', type: 'file', size: 2, mode: 0o600, mtime: MTIME }, data: Buffer.from('ok') },
    ]),
  );

  it('lists every entry with its type, mode, owner, size, time and link, long names whole', () => {
    const listing = sh('tar', ['--full-time', '-tvf', file], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' } });
    expect(listing.split('\n').map((l) => l.replace(/ +/g, ' '))).toEqual([
      'drwxr-xr-x root/root 0 2026-01-19 00:00:00 artifact/',
      '-rw-r--r-- root/root 1000 2026-01-19 00:00:00 artifact/manifest.json',
      `drwxr-xr-x root/root 0 2026-01-19 00:00:00 ${LONG_DIR}/`,
      `-rw-r--r-- root/root 3 2026-01-19 00:00:00 ${LONG_LINK}`,
      `hrw-r--r-- root/root 0 2026-01-19 00:00:00 artifact/os.img.xz link to ${LONG_LINK}`,
      '-rw------- root/root 2 2026-01-19 00:00:00 artifact/é.txt',
      '',
    ]);
  });

  it('extracts to the same files, the alias a hard link to its target', () => {
    const out = join(dir, 'out');
    mkdirSync(out);
    const result = spawnSync('tar', ['-xf', file, '-C', out, '--no-same-owner'], { encoding: 'utf8' });
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(readFileSync(join(out, 'artifact/manifest.json'), 'utf8')).toBe('m'.repeat(1000));
    expect(readFileSync(join(out, LONG_LINK), 'utf8')).toBe('xyz');
    expect(statSync(join(out, 'artifact/os.img.xz')).ino).toBe(statSync(join(out, LONG_LINK)).ino);
    expect(statSync(join(out, 'artifact/os.img.xz')).nlink).toBe(2);
    expect(readFileSync(join(out, 'artifact/é.txt'), 'utf8')).toBe('ok');
    expect(statSync(join(out, 'artifact/é.txt')).mtimeMs).toBe(MTIME * 1000);
  });

  it.each([
    [253402300799, '9999-12-31 23:59:59'],
    [-1, '1969-12-31 23:59:59'],
    [8 ** 11, '2242-03-16 12:56:32'],
    [8 ** 11 - 1, '2242-03-16 12:56:31'],
  ])('writes any time (%d: past 2242 or before 1970 in a PAX record), read by tar as %s', (mtime, shown) => {
    const path = join(dir, `time-${mtime}.tar`);
    writeFileSync(path, archive([{ fields: { name: 'artifact/t', type: 'file', size: 1, mtime }, data: Buffer.from('t') }]));
    const result = spawnSync('tar', ['--full-time', '-tvf', path], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' } });
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(result.stdout.replace(/ +/g, ' ')).toBe(`-rw-r--r-- root/root 1 ${shown} artifact/t\n`);
  });

  it('checks the header checksums as tar does (a hostile block built with ustarBlock)', () => {
    const block = ustarBlock({ name: 'x', typeflag: '0', size: 0, mode: 0o644, mtime: MTIME, linkname: '' });
    const broken = Buffer.from(block);
    broken[0] = 'y'.charCodeAt(0);
    writeFileSync(join(dir, 'ok.tar'), Buffer.concat([block, TAR_END]));
    writeFileSync(join(dir, 'broken.tar'), Buffer.concat([broken, TAR_END]));
    expect(sh('tar', ['-tf', join(dir, 'ok.tar')])).toBe('x\n');
    const result = spawnSync('tar', ['-tf', join(dir, 'broken.tar')], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/This does not look like a tar archive/);
  });
});

const rootWhy = !gnuTar
  ? 'GNU tar is missing'
  : !isRoot()
    ? 'owners, device nodes and capabilities are restored only by root'
    : missingTools(['getcap']).join(', ') || undefined;
if (rootWhy) skipReason("tar-format's root file system entries against GNU tar", rootWhy);

describe.skipIf(rootWhy !== undefined)("tar-format's root file system entries, restored by GNU tar as root", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-format-root-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // security.capability for cap_net_raw+ep: version 2 with the effective flag, then permitted and inheritable (CAP_NET_RAW is bit 13).
  const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');

  it('gives back owners past ustar, modes, a nanosecond time, symlinks, devices, a FIFO and the file capability', () => {
    const file = join(dir, 'rootfs.tar');
    writeFileSync(
      file,
      archive([
        { fields: { name: 'usr', type: 'dir', mtime: MTIME } },
        {
          fields: { name: 'usr/ping', type: 'file', size: 4, mode: 0o4755, mtime: MTIME, xattrs: [{ name: 'security.capability', value: CAP_NET_RAW }] },
          data: Buffer.from('ping'),
        },
        {
          fields: { name: 'home', type: 'file', size: 1, mode: 0o600, uid: 1000, gid: 3_000_000, mtime: MTIME, mtimeNanoseconds: 123456789 },
          data: Buffer.from('h'),
        },
        { fields: { name: 'lib', type: 'symlink', linkname: 'usr/lib', mtime: MTIME, mode: 0o777 } },
        { fields: { name: 'null', type: 'char', device: { major: 1, minor: 3 }, mode: 0o666, mtime: MTIME } },
        { fields: { name: 'nvme', type: 'block', device: { major: 259, minor: 70000 }, mode: 0o660, gid: 6, mtime: MTIME } },
        { fields: { name: 'pipe', type: 'fifo', mode: 0o600, mtime: MTIME } },
      ]),
    );
    const out = join(dir, 'out');
    mkdirSync(out);
    const result = spawnSync('tar', ['-xpf', file, '-C', out, '--numeric-owner', '--xattrs', '--xattrs-include=*'], { encoding: 'utf8' });
    expect([result.status, result.stderr]).toEqual([0, '']);
    const stat = (name: string) =>
      sh('stat', ['-c', '%F %a %u:%g %t:%T %N', join(out, name)])
        .trim()
        .replace(`${out}/`, '');
    expect(stat('usr/ping')).toBe("regular file 4755 0:0 0:0 'usr/ping'");
    expect(sh('getcap', [join(out, 'usr/ping')]).trim()).toBe(`${join(out, 'usr/ping')} cap_net_raw=ep`);
    expect(stat('home')).toBe("regular file 600 1000:3000000 0:0 'home'");
    expect(statSync(join(out, 'home'), { bigint: true }).mtimeNs).toBe(BigInt(MTIME) * 1_000_000_000n + 123456789n);
    expect(stat('lib')).toBe("symbolic link 777 0:0 0:0 'lib' -> 'usr/lib'");
    expect(stat('null')).toBe("character special file 666 0:0 1:3 'null'");
    // stat prints the device numbers in hex.
    expect(stat('nvme')).toBe(`block special file 660 0:6 103:${(70000).toString(16)} 'nvme'`);
    expect(stat('pipe')).toBe("fifo 600 0:0 0:0 'pipe'");
  });
});
