import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingTools, sh, skipReason } from '../../../test/support/tools';
import { BlockMapBuilder, BMAP_BLOCK_SIZE, parseBmap, renderBmap, type BlockMap } from './bmap';

const missing = missingTools(['bmaptool']);
if (missing.length > 0) skipReason('block map tests against bmaptool', 'bmaptool (bmap-tools) is not installed');

const dir = mkdtempSync(join(tmpdir(), 'bmap-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sparse file of `blocks` blocks with pseudo-random data in the blocks listed. */
function sparseImage(name: string, blocks: number, data: number[]): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  try {
    for (const b of data) {
      const block = Buffer.alloc(BMAP_BLOCK_SIZE);
      for (let i = 0; i < block.length; i++) block[i] = (b * 31 + i * 7 + 1) & 0xff || 1;
      writeSync(fd, block, 0, block.length, b * BMAP_BLOCK_SIZE);
    }
  } finally {
    closeSync(fd);
  }
  sh('truncate', ['-s', String(blocks * BMAP_BLOCK_SIZE), path]);
  return path;
}

/** The block map pi-image makes of a file, streaming it block by block as package does. */
function mapOf(path: string): BlockMap {
  const bytes = readFileSync(path);
  const builder = new BlockMapBuilder();
  for (let at = 0; at < bytes.length; at += BMAP_BLOCK_SIZE) {
    const block = bytes.subarray(at, at + BMAP_BLOCK_SIZE);
    if (block.some((b) => b !== 0)) builder.addMapped(block, 1);
    else builder.addUnmapped(1);
  }
  return builder.finish(bytes.length);
}

const rebuild = (text: string, change: (t: string) => string): string => {
  // Re-sign after a change, so only the change is wrong.
  const changed = change(text).replace(/<BmapFileChecksum> [0-9a-f]{64} <\/BmapFileChecksum>/, `<BmapFileChecksum> ${'0'.repeat(64)} </BmapFileChecksum>`);
  return changed.replace('0'.repeat(64), createHash('sha256').update(changed).digest('hex'));
};

describe('block maps', () => {
  const image = sparseImage('disk.img', 300, [0, 1, 2, 7, 100, 101, 299]);
  const ours = renderBmap(mapOf(image));

  it('round-trips: what renderBmap writes, parseBmap reads back', () => {
    expect(parseBmap(ours)).toEqual(mapOf(image));
    expect(parseBmap(ours).ranges.map((r) => [r.first, r.last])).toEqual([
      [0, 2],
      [7, 7],
      [100, 101],
      [299, 299],
    ]);
  });

  it.skipIf(missing.length > 0)('reads the block map bmaptool makes of the same image, range for range and checksum for checksum', () => {
    const theirs = sh('bmaptool', ['create', image]);
    expect(parseBmap(theirs, 'bmaptool.bmap')).toEqual(parseBmap(ours));
  });

  it.skipIf(missing.length > 0)('writes a block map bmaptool copy accepts, checking every range', () => {
    const bmap = join(dir, 'disk.bmap');
    writeFileSync(bmap, ours);
    const out = join(dir, 'copy.img');
    sh('bmaptool', ['copy', '--bmap', bmap, image, out]);
    expect(readFileSync(out).equals(readFileSync(image))).toBe(true);
  });

  it.each([
    ['a changed range without a new checksum', (t: string) => t.replace('"> 7 </Range>', '"> 8 </Range>'), false, /its checksum does not match its contents/],
    ['ranges out of order', (t: string) => t.replace('"> 7 </Range>', '"> 150 </Range>'), true, /range 100-101 overlaps or comes before the one before it/],
    ['overlapping ranges', (t: string) => t.replace('"> 7 </Range>', '"> 2 </Range>'), true, /range 2-2 overlaps or comes before/],
    ['a range past the image', (t: string) => t.replace('"> 299 </Range>', '"> 300 </Range>'), true, /range 300-300 lies past the image's 300 blocks/],
    ['a range ending before it starts', (t: string) => t.replace('"> 100-101 </Range>', '"> 101-100 </Range>'), true, /range 101-100 ends before it starts/],
    [
      'a range that does not parse (once skipped, its blocks never written)',
      (t: string) => t.replace('"> 7 </Range>', '"> seven </Range>'),
      true,
      /range 2 is not <Range/,
    ],
    [
      'a mapped count that does not add up',
      (t: string) => t.replace(/<MappedBlocksCount> \d+/, '<MappedBlocksCount> 3'),
      true,
      /its ranges map 7 blocks, not the 3/,
    ],
    [
      'a block count that does not fit the size',
      (t: string) => t.replace('<BlocksCount> 300', '<BlocksCount> 301'),
      true,
      /301 blocks of 4096 bytes do not make an image of 1228800 bytes/,
    ],
    ['a block size that is not a power of two', (t: string) => t.replace('<BlockSize> 4096', '<BlockSize> 4095'), true, /block size|do not make an image/],
    [
      'a size beyond what a number holds',
      (t: string) => t.replace('<ImageSize> 1228800', '<ImageSize> 99999999999999999999'),
      true,
      /<ImageSize> "99999999999999999999" is not a whole number/,
    ],
    ['sha1 (bmap 1.x)', (t: string) => t.replace('<ChecksumType> sha256', '<ChecksumType> sha1'), true, /only sha256 block maps are read/],
    ['version 1', (t: string) => t.replace('<bmap version="2.0">', '<bmap version="1.4">'), true, /not a bmap version 2 file/],
  ])('refuses %s, naming the file', (_what, change, resign, message) => {
    const text = resign ? rebuild(ours, change) : change(ours);
    expect(() => parseBmap(text, 'os.bmap')).toThrow(/^os\.bmap: /);
    expect(() => parseBmap(text, 'os.bmap')).toThrow(message);
  });
});
