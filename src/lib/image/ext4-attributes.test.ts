import { execFileSync } from 'node:child_process';
import { chownSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, missingTools, skipReason } from '../../../test/support/tools';
import { PiImageError } from '../core/errors';
import { FileByteSource } from './byte-source';
import { Ext4FileSystem } from './ext4';
import { blockXattrs, inodeXattrs, parseXattrEntries, XATTR_MAGIC } from './ext4-attributes';

const why = !isRoot()
  ? 'device nodes, owners and file capabilities need root'
  : missingTools(['mkfs.ext4', 'debugfs', 'mknod', 'setcap']).join(', ') || undefined;
if (why) skipReason('ext4 attributes against debugfs', why);

/** debugfs's own reading of one attribute: the independent oracle. */
const debugfsValue = (fs: string, path: string, name: string): Buffer => {
  const out = `${fs}.value`;
  execFileSync('debugfs', ['-R', `ea_get -f ${out} ${path} ${name}`, fs], { stdio: 'ignore' });
  return readFileSync(out);
};

describe.skipIf(why !== undefined)('ext4 owners, devices and extended attributes, read as debugfs reads them', () => {
  const work = mkdtempSync(join(tmpdir(), 'ext4-attributes-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('reads owners, links, times, device numbers, file capabilities and attributes in the inode and in a block', async () => {
    const tree = join(work, 'tree');
    mkdirSync(join(tree, 'dev'), { recursive: true });
    writeFileSync(join(tree, 'ping'), 'binary');
    execFileSync('setcap', ['cap_net_raw+ep', join(tree, 'ping')]);
    writeFileSync(join(tree, 'owned'), 'x');
    chownSync(join(tree, 'owned'), 1000, 70000);
    utimesSync(join(tree, 'owned'), 1768780800, 1768780800.5);
    linkSync(join(tree, 'owned'), join(tree, 'hardlink'));
    execFileSync('mknod', [join(tree, 'dev/null'), 'c', '1', '3']);
    // A minor above 255: the new device number encoding.
    execFileSync('mknod', [join(tree, 'dev/big'), 'b', '259', '70000']);
    const fsImage = join(work, 'root.ext4');
    execFileSync('truncate', ['-s', '16M', fsImage]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-I', '256', '-d', tree, fsImage]);
    // A small attribute stays in the inode; a large one goes to an attribute block (1 KiB blocks here).
    const big = join(work, 'big-value');
    writeFileSync(big, 'v'.repeat(900));
    // Nanoseconds and an epoch bit (a time after 2038) set in the inode's extra field: mkfs.ext4 -d keeps whole seconds.
    for (const cmd of ['ea_set /owned user.note small', `ea_set -f ${big} /owned user.large`, `sif /owned mtime_extra ${(123456789 * 4 + 1).toString()}`])
      execFileSync('debugfs', ['-w', '-R', cmd, fsImage], { stdio: 'ignore' });

    const source = await FileByteSource.open(fsImage);
    try {
      const fs = await Ext4FileSystem.open(source);
      const owned = (await fs.resolve('/owned', false))!;
      const stat = execFileSync('debugfs', ['-R', 'stat /owned', fsImage], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      const [, secondsHex, extraHex] = /mtime: 0x([0-9a-f]+):([0-9a-f]+)/.exec(stat)!;
      const extra = parseInt(extraHex!, 16);
      expect(extra).toBe(123456789 * 4 + 1);
      expect(fs.attributes(owned)).toEqual({
        uid: 1000,
        gid: 70000,
        links: 2,
        mtime: { seconds: parseInt(secondsHex!, 16) + 2 ** 32, nanoseconds: 123456789 },
        rdev: undefined,
        attributeBlock: expect.any(Number),
      });
      expect(parseInt(secondsHex!, 16)).toBe(1768780800);
      const xattrs = Object.fromEntries((await fs.xattrs(owned)).map((x) => [x.name, x.value]));
      expect(Object.keys(xattrs).sort()).toEqual(['user.large', 'user.note']);
      expect(xattrs['user.note']).toEqual(debugfsValue(fsImage, '/owned', 'user.note'));
      expect(xattrs['user.large']).toEqual(Buffer.from('v'.repeat(900)));
      expect(fs.attributes(owned).attributeBlock).toBeGreaterThan(0);

      const ping = (await fs.resolve('/ping'))!;
      const caps = await fs.xattrs(ping);
      expect(caps.map((x) => x.name)).toEqual(['security.capability']);
      expect(caps[0]!.value).toEqual(debugfsValue(fsImage, '/ping', 'security.capability'));

      expect(fs.attributes((await fs.resolve('/dev/null', false))!).rdev).toEqual({ major: 1, minor: 3 });
      expect(fs.attributes((await fs.resolve('/dev/big', false))!).rdev).toEqual({ major: 259, minor: 70000 });
      expect(fs.attributes((await fs.resolve('/ping'))!).rdev).toBeUndefined();
    } finally {
      await source.close();
    }
  });
});

describe('hostile extended attribute structures', () => {
  const entry = (name: string, index: number, valueOffset: number, valueSize: number, valueInode = 0): Buffer => {
    const b = Buffer.alloc((16 + name.length + 3) & ~3);
    b.writeUInt8(name.length, 0);
    b.writeUInt8(index, 1);
    b.writeUInt16LE(valueOffset, 2);
    b.writeUInt32LE(valueInode, 4);
    b.writeUInt32LE(valueSize, 8);
    b.write(name, 16, 'latin1');
    return b;
  };
  const refusal = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return e instanceof PiImageError ? `${e.code}: ${e.message}` : `not coded: ${String(e)}`;
    }
    return 'accepted';
  };

  it('reads a well-formed region, and refuses what points outside it, unknown prefixes, values in other inodes and endless lists', () => {
    const region = Buffer.concat([entry('note', 1, 24, 3), Buffer.alloc(4), Buffer.from('abc'), Buffer.alloc(1)]);
    expect(parseXattrEntries(region, 0, 0, 'x')).toEqual([{ name: 'user.note', value: Buffer.from('abc') }]);
    expect(refusal(() => parseXattrEntries(Buffer.concat([entry('n', 1, 60000, 10), Buffer.alloc(4)]), 0, 0, 'img: inode 12'))).toMatch(
      /^IMAGE_CORRUPT: img: inode 12: extended attribute user\.n claims 10 bytes at 60000, outside its region/,
    );
    expect(refusal(() => parseXattrEntries(Buffer.concat([entry('n', 5, 0, 0), Buffer.alloc(4)]), 0, 0, 'x'))).toMatch(
      /name index 5, which ext4 does not define/,
    );
    expect(refusal(() => parseXattrEntries(Buffer.concat([entry('n', 1, 0, 4, 77), Buffer.alloc(4)]), 0, 0, 'x'))).toMatch(
      /^FS_UNSUPPORTED: .*in inode 77 \(ea_inode\)/,
    );
    const name = Buffer.alloc(20);
    name.writeUInt8(200, 0);
    name.writeUInt8(1, 1);
    expect(refusal(() => parseXattrEntries(name, 0, 0, 'x'))).toMatch(/name runs past its region/);
    const many = Buffer.concat([...Array.from({ length: 300 }, () => entry('a', 1, 0, 0)), Buffer.alloc(4)]);
    expect(refusal(() => parseXattrEntries(many, 0, 0, 'x'))).toMatch(/more than 256 extended attributes/);
  });

  it('checks an attribute block header and an inode extra size', () => {
    expect(refusal(() => blockXattrs(Buffer.alloc(4096), 'x'))).toMatch(/has no 0xEA020000 magic/);
    const block = Buffer.alloc(4096);
    block.writeUInt32LE(XATTR_MAGIC, 0);
    block.writeUInt32LE(9, 8);
    expect(refusal(() => blockXattrs(block, 'x'))).toMatch(/claims 9 blocks; ext4 uses 1/);
    const inode = Buffer.alloc(256);
    inode.writeUInt16LE(400, 0x80);
    expect(refusal(() => inodeXattrs(inode, 'x'))).toMatch(/extra inode size 400 runs past the inode/);
    inode.writeUInt16LE(32, 0x80);
    expect(inodeXattrs(inode, 'x')).toEqual([]);
  });
});
