/**
 * The root file system archive (src/lib/distribution/rootfs-archive.ts) of a
 * real ext4 made by mkfs.ext4 -d, extracted by GNU tar as root, compared entry
 * by entry with what e2fsprogs' debugfs reads from the same file system: every
 * name, type, mode (setuid included), owner and size from `ls -l`, every
 * file's bytes from `rdump`, device numbers from `stat`; hard links as links,
 * the file capability by getcap. A damaged name is refused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { writeRootfsArchive } from '../../src/lib/distribution/rootfs-archive';
import { FileByteSource } from '../../src/lib/image/byte-source';
import { Ext4FileSystem } from '../../src/lib/image/ext4';
import { debugfsFacts, extractedFacts } from '../support/rootfs-facts';
import { isRoot, missingTools, sh, skipReason } from '../support/tools';

const why = !isRoot()
  ? 'owners, devices and capabilities need root'
  : missingTools(['mkfs.ext4', 'debugfs', 'tar', 'mknod', 'mkfifo', 'setcap', 'getcap']).join(', ') || undefined;
if (why) skipReason('root file system archive against debugfs', why);

describe.skipIf(why !== undefined)('the root file system archive, against debugfs', () => {
  const work = mkdtempSync(join(tmpdir(), 'rootfs-archive-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const archive = async (fsImage: string, tarFile: string) => {
    const source = await FileByteSource.open(fsImage);
    const out = await open(tarFile, 'w');
    try {
      const fs = await Ext4FileSystem.open(source, 1024 * 1024 * 1024);
      return await writeRootfsArchive(fs, {
        write: async (b) => {
          await out.write(b);
        },
        logger: new MemoryLogger(),
        name: fsImage,
      });
    } finally {
      await out.close();
      await source.close();
    }
  };

  it('holds every entry debugfs reads, with its type, mode, owner, size, bytes, device number, links and capability', async () => {
    const tree = join(work, 'tree');
    mkdirSync(join(tree, 'usr/bin'), { recursive: true });
    mkdirSync(join(tree, 'dev'));
    mkdirSync(join(tree, 'home/alice/.ssh'), { recursive: true });
    writeFileSync(join(tree, 'usr/bin/ping'), 'ping binary');
    execFileSync('chmod', ['4755', join(tree, 'usr/bin/ping')]);
    execFileSync('setcap', ['cap_net_raw+ep', join(tree, 'usr/bin/ping')]);
    linkSync(join(tree, 'usr/bin/ping'), join(tree, 'usr/bin/ping6'));
    writeFileSync(join(tree, 'home/alice/.ssh/authorized_keys'), 'ssh-ed25519 AAAA alice\n', { mode: 0o600 });
    chownSync(join(tree, 'home/alice/.ssh/authorized_keys'), 1000, 1000);
    chownSync(join(tree, 'home/alice'), 1000, 1000);
    // Several chunks of the reader (1 MiB each), and a file with a hole.
    writeFileSync(join(tree, 'usr/big'), Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 7) % 251)));
    execFileSync('sh', ['-c', 'truncate -s 5M "$1" && printf x | dd of="$1" bs=1 seek=4194304 conv=notrunc status=none', 'sh', join(tree, 'usr/sparse')]);
    writeFileSync(join(tree, 'empty'), '');
    symlinkSync('/usr/bin', join(tree, 'bin'));
    symlinkSync('../usr/big', join(tree, 'dev/relative'));
    execFileSync('mknod', [join(tree, 'dev/null'), 'c', '1', '3']);
    execFileSync('mknod', [join(tree, 'dev/nvme0n1'), 'b', '259', '70000']);
    execFileSync('mkfifo', [join(tree, 'dev/initctl')]);
    const fsImage = join(work, 'root.ext4');
    execFileSync('truncate', ['-s', '64M', fsImage]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-I', '256', '-d', tree, fsImage]);

    const tarFile = join(work, 'rootfs.tar');
    const summary = await archive(fsImage, tarFile);
    expect(summary).toMatchObject({ hardLinks: 1, skipped: [] });
    const out = join(work, 'extracted');
    mkdirSync(out);
    const x = spawnSync('tar', ['-xpf', tarFile, '-C', out, '--numeric-owner', '--xattrs', '--xattrs-include=*'], { encoding: 'utf8' });
    expect([x.status, x.stderr]).toEqual([0, '']);

    const expected = debugfsFacts(fsImage, work);
    const got = extractedFacts(out);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, facts] of expected) expect({ path, ...got.get(path) }).toEqual({ path, ...facts });
    expect(expected.get('/usr/bin/ping')!.mode).toBe('104755');
    expect(lstatSync(join(out, 'usr/bin/ping6')).ino).toBe(lstatSync(join(out, 'usr/bin/ping')).ino);
    expect(sh('getcap', [join(out, 'usr/bin/ping6')]).trim()).toBe(`${join(out, 'usr/bin/ping6')} cap_net_raw=ep`);
    expect(readlinkSync(join(out, 'bin'))).toBe('/usr/bin');
  });

  it('refuses a name no file system writes (a crafted "a/")', async () => {
    const tree = join(work, 'tree2');
    mkdirSync(join(tree, 'etc'), { recursive: true });
    writeFileSync(join(tree, 'etc/xx'), 'x');
    const fsImage = join(work, 'crafted.ext4');
    execFileSync('truncate', ['-s', '16M', fsImage]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, fsImage]);
    // Rename the entry "xx" to "a/" in place: the name bytes in the directory block.
    const bytes = readFileSync(fsImage);
    const at = bytes.indexOf(Buffer.from([2, 1, 0x78, 0x78])); // name_len 2, type file, "xx"
    expect(at).toBeGreaterThan(0);
    bytes.write('a/', at + 2, 'latin1');
    writeFileSync(fsImage, bytes);
    await expect(archive(fsImage, join(work, 'crafted.tar'))).rejects.toThrow(/directory etc holds an entry named "a\/", which no file system writes/);
  });
});
