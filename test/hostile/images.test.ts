/**
 * Crafted disk images: file system and partition structures that claim what
 * they are not. `inspect` and `package` must refuse each with IMAGE_CORRUPT
 * (exit 2) naming the image and the structure, within a deadline, under a
 * 256 MiB heap, leaving nothing behind. The damage is made with e2fsprogs
 * (debugfs, dumpe2fs) on images built by mkfs, sfdisk and mtools.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS, type SmallImageOptions } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';
import { expectBounded, runBounded } from './support/bounded-cli';
import {
  blockSize,
  extentNode,
  freeBlocks,
  inodeExtentWords,
  patchGptHeader,
  setInodeBlocks,
  setInodeField,
  setSuperblockField,
  writeBlock,
} from './support/craft';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'debugfs', 'dumpe2fs', 'xz', '/usr/bin/time']);
if (missing.length > 0) skipReason('hostile images', `missing tools: ${missing.join(', ')}`);

const work = mkdtempSync(join(tmpdir(), 'hostile-images-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Builds a deploy directory holding one crafted image, runs inspect and package on it, and checks both refuse it well. */
async function refused(name: string, options: SmallImageOptions, structure: RegExp, code = 'IMAGE_CORRUPT'): Promise<void> {
  const deploy = join(work, `deploy-${name}`);
  mkdirSync(deploy);
  const image = join(deploy, '2026-01-19-hostile.img');
  makeSmallImage(image, options);
  writeFileSync(join(deploy, '2026-01-19-hostile.info'), makeInfo(2));
  const tmp = join(work, `tmp-${name}`);
  mkdirSync(tmp);
  const out = join(work, `out-${name}`);
  for (const args of [
    ['inspect', image],
    ['package', deploy, '--out', out, '--compression-level', '0'],
  ]) {
    const run = await runBounded(args, { env: { TMPDIR: tmp }, timeoutMs: 90_000 });
    expect(expectBounded(run, 60), `${args[0]} ${name}`).toEqual([]);
    expect(run.code, `${args[0]}: ${run.stderr}`).toBe(2);
    expect(run.stderr).toContain(image);
    expect(run.stderr).toMatch(structure);
    expect(run.stderr).toContain(`[${code}]`);
  }
  expect(readdirSync(tmp), 'temporary files left behind').toEqual([]);
  expect(
    readdirSync(work).filter((n) => n.includes('.partial-') || n === `out-${name}`),
    'partial output left behind',
  ).toEqual([]);
}

/** The /etc/os-release target (a regular file the inspection reads) of a small image's root file system. */
const TARGET = '/usr/lib/os-release';

describe.skipIf(missing.length > 0)('crafted images: bounded by what is read, never by what a structure claims', () => {
  it('an extent tree that fans out through shared blocks (4 levels × 84 entries, once 5 GB and a V8 crash)', async () => {
    await refused(
      'fanout',
      {
        patchRoot: (fs) => {
          const size = blockSize(fs);
          const [a, b, c, d] = freeBlocks(fs, 4, 3000);
          const fan = (target: number) => Array.from({ length: 84 }, () => ({ logical: 0, target }));
          writeBlock(fs, a!, extentNode(size, 2, fan(b!)), size);
          writeBlock(fs, b!, extentNode(size, 1, fan(c!)), size);
          // The leaf itself is in order: the fan-out, not an overlap, is what is refused.
          writeBlock(
            fs,
            c!,
            extentNode(
              size,
              0,
              Array.from({ length: 84 }, (_, i) => ({ logical: i, target: d! })),
            ),
            size,
          );
          setInodeBlocks(
            fs,
            TARGET,
            inodeExtentWords(
              extentNode(
                60,
                3,
                [0, 1, 2, 3].map(() => ({ logical: 0, target: a! })),
              ),
            ),
          );
        },
      },
      /partition 2: inode \d+: its extent tree refers to block \d+ twice \(a loop\)/,
    );
  });

  it('an extent header claiming 1000 entries in a node that holds 4 (once a raw RangeError)', async () => {
    await refused(
      'entries',
      { patchRoot: (fs) => setInodeBlocks(fs, TARGET, inodeExtentWords(extentNode(60, 0, [{ logical: 0, target: 1 }], 1000))) },
      /an extent node claims 1000 of 4 entries; it holds at most 4/,
    );
  });

  it('an extent tree whose levels do not step down one by one', async () => {
    await refused(
      'depth',
      {
        patchRoot: (fs) => {
          const size = blockSize(fs);
          const [a] = freeBlocks(fs, 1, 3000);
          writeBlock(fs, a!, extentNode(size, 3, [{ logical: 0, target: a! }]), size);
          setInodeBlocks(fs, TARGET, inodeExtentWords(extentNode(60, 1, [{ logical: 0, target: a! }])));
        },
      },
      /extent tree depth 3 where 0 belongs/,
    );
  });

  it('extents that overlap (a file read twice over, once a way to multiply what is read)', async () => {
    await refused(
      'overlap-extents',
      {
        patchRoot: (fs) => {
          const size = blockSize(fs);
          const [a] = freeBlocks(fs, 1, 3000);
          setInodeField(fs, TARGET, 'size', 3 * size);
          setInodeBlocks(
            fs,
            TARGET,
            inodeExtentWords(
              extentNode(60, 0, [
                { logical: 0, target: a!, length: 2 },
                { logical: 1, target: a!, length: 2 },
              ]),
            ),
          );
        },
      },
      /its extents overlap or are out of order \(a run starts at block 1, before block 2 where the one before ended\)/,
    );
  });

  it('group descriptors of a size no ext4 has (48 bytes: every inode read from the wrong place)', async () => {
    await refused('desc-size', { patchRoot: (fs) => setSuperblockField(fs, 'desc_size', 48) }, /ext superblock gives group descriptors of 48 bytes: damaged/);
  });

  it('a directory of more than 100 000 entries in 1.3 MB (each one an inode to read when listed)', async () => {
    await refused(
      'many-entries',
      {
        patchRoot: (fs) => {
          const size = blockSize(fs);
          const blocks = Math.ceil(110_000 / Math.floor(size / 12));
          const free = freeBlocks(fs, blocks, 3000);
          if (free.some((b, i) => b !== free[0]! + i)) throw new Error(`no ${blocks} contiguous free blocks: ${free.join(' ')}`);
          // Entries of 12 bytes (inode 11, a one-letter name), the last of each block stretched to its end.
          const block = Buffer.alloc(size);
          const perBlock = Math.floor(size / 12);
          for (let i = 0; i < perBlock; i++) {
            const at = i * 12;
            block.writeUInt32LE(11, at);
            block.writeUInt16LE(i === perBlock - 1 ? size - at : 12, at + 4);
            block[at + 6] = 1;
            block[at + 7] = 1;
            block[at + 8] = 0x61;
          }
          for (const b of free) writeBlock(fs, b, block, size);
          setInodeField(fs, '/usr', 'size', blocks * size);
          setInodeBlocks(fs, '/usr', inodeExtentWords(extentNode(60, 0, [{ logical: 0, target: free[0]!, length: blocks }])));
        },
      },
      /directory inode \d+ holds more than 100000 entries: not a directory of a system image/,
    );
  });

  for (const bs of [4096, 1024] as const) {
    it(`a triple-indirect block pointing at itself, claimed size 2^40, ${bs}-byte blocks (once "invalid size" and 1.6 GB)`, async () => {
      await refused(
        `tind-${bs}`,
        {
          ext4Features: '^extent,^64bit',
          ext4BlockSize: bs,
          patchRoot: (fs) => {
            const [t] = freeBlocks(fs, 1, 3000);
            const self = Buffer.alloc(bs);
            for (let i = 0; i < bs / 4; i++) self.writeUInt32LE(t!, i * 4);
            writeBlock(fs, t!, self, bs);
            setInodeField(fs, TARGET, 'size', 2 ** 40);
            setInodeField(fs, TARGET, 'block[TIND]', t!);
          },
        },
        /its indirect block map refers to block \d+ twice \(a loop\)/,
      );
    });
  }

  it('a directory whose size claims gigabytes', async () => {
    await refused('bigdir', { patchRoot: (fs) => setInodeField(fs, '/etc', 'size', 3 * 2 ** 30) }, /directory inode \d+ claims 3221225472 bytes/);
  });

  it("a FAT whose root directory's cluster chain loops back on itself", async () => {
    await refused(
      'fat-loop',
      {
        patchBoot: (fs) => {
          // FAT32 from mkfs.vfat: the FAT follows the reserved sectors; the root directory is cluster 2.
          const boot = Buffer.alloc(512);
          const fd = openSync(fs, 'r+');
          try {
            readSync(fd, boot, 0, 512, 0);
            const fatAt = boot.readUInt16LE(14) * boot.readUInt16LE(11);
            const entry = Buffer.alloc(4);
            entry.writeUInt32LE(2);
            writeSync(fd, entry, 0, 4, fatAt + 2 * 4);
          } finally {
            closeSync(fd);
          }
        },
      },
      /partition 1: FAT cluster chain from 2 loops \(cluster 2 twice\)/,
    );
  });

  it('a GPT whose first usable sector lies after its last (valid CRC)', async () => {
    await refused(
      'gpt-range',
      { gpt: true, patchDisk: (d) => patchGptHeader(d, (h) => h.writeBigUInt64LE(h.readBigUInt64LE(48) + 1n, 40)) },
      /GPT first usable sector \d+ lies after the last \d+/,
    );
  });

  it('a GPT entry size of 129 bytes (valid CRC)', async () => {
    await refused(
      'gpt-entry',
      { gpt: true, patchDisk: (d) => patchGptHeader(d, (h) => h.writeUInt32LE(129, 84)) },
      /GPT entry size 129 is not 128 × a power of two/,
    );
  });

  it('a GPT header that fails its CRC', async () => {
    await refused('gpt-crc', { gpt: true, patchDisk: (d) => patchGptHeader(d, (h) => h.writeUInt32LE(7, 80), false) }, /GPT header fails its CRC-32 check/);
  });

  it('a GPT whose entries fail their CRC', async () => {
    await refused(
      'gpt-entries',
      {
        gpt: true,
        patchDisk: (d) => {
          // Rename partition 1 in the entry table without updating the table's CRC.
          execFileSync('dd', [`of=${d}`, 'bs=1', `seek=${1024 + 56}`, 'conv=notrunc', 'status=none'], { input: Buffer.from('e\0v\0i\0l\0', 'latin1') });
        },
      },
      /GPT entry table fails its CRC-32 check/,
    );
  });

  it('an MBR whose partitions overlap', async () => {
    await refused(
      'overlap',
      {
        patchDisk: (d) => {
          // Partition 2 starts inside partition 1.
          const start = Buffer.alloc(4);
          start.writeUInt32LE(8 * 2048 + 100);
          execFileSync('dd', [`of=${d}`, 'bs=1', `seek=${446 + 16 + 8}`, 'conv=notrunc', 'status=none'], { input: start });
        },
      },
      /partitions 1 and 2 overlap/,
    );
  });

  it('a valid MBR with no file system at all is not released (once only warnings)', async () => {
    const deploy = join(work, 'deploy-nofs');
    mkdirSync(deploy);
    const image = join(deploy, '2026-01-19-hostile.img');
    execFileSync('truncate', ['-s', '64M', image]);
    execFileSync('sh', ['-c', 'printf "label: dos\\nstart=16384, size=32768, type=c\\nstart=49152, type=83\\n" | sfdisk --quiet "$1"', 'sh', image]);
    writeFileSync(join(deploy, '2026-01-19-hostile.info'), makeInfo(2));
    const run = await runBounded(['package', deploy, '--out', join(work, 'out-nofs'), '--compression-level', '0'], { timeoutMs: 60_000 });
    expect(expectBounded(run, 30)).toEqual([]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `${image}: no FAT boot partition found \\(2 partitions: 1 unknown, 2 unknown\\): not a Raspberry Pi OS image a device can boot \\[IMAGE_CORRUPT\\]`,
      ),
    );
    expect(readdirSync(work).filter((n) => n.includes('.partial-') || n === 'out-nofs')).toEqual([]);
  });
});
