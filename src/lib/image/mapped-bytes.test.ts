import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BlockMapBuilder } from './bmap';
import { mappedBytes, piecesFromFile, piecesFromStream, rangesOf } from './mapped-bytes';

const BS = 4096;
/** An image of 8 blocks: data in blocks 0-1, 4 and 7 (pseudo-random), zeros elsewhere. */
const image = Buffer.alloc(8 * BS);
for (const b of [0, 1, 4, 7]) for (let i = 0; i < BS; i++) image[b * BS + i] = ((b + 1) * 37 + i) & 0xff || 1;
const map = (() => {
  const builder = new BlockMapBuilder(BS);
  for (let b = 0; b < 8; b++) {
    const block = image.subarray(b * BS, (b + 1) * BS);
    if (block.some((x) => x !== 0)) builder.addMapped(block, 1);
    else builder.addUnmapped(1);
  }
  return builder.finish(image.length);
})();
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function collect(pieces: AsyncIterable<{ offset: number; data: Buffer }>): Promise<Buffer> {
  const disk = Buffer.alloc(image.length);
  for await (const p of pieces) p.data.copy(disk, p.offset);
  return disk;
}
const expected = Buffer.from(image);

describe('the mapped bytes of an image', () => {
  it('ranges in bytes from a block map; one whole range without one', () => {
    expect(rangesOf(map, image.length).map((r) => [r.start, r.end])).toEqual([
      [0, 2 * BS],
      [4 * BS, 5 * BS],
      [7 * BS, 8 * BS],
    ]);
    expect(mappedBytes(rangesOf(map, image.length))).toBe(4 * BS);
    expect(rangesOf(undefined, 100, 'ab')).toEqual([{ start: 0, end: 100, sha256: 'ab' }]);
  });

  it.each([1, 1000, BS, 3 * BS + 5, 1 << 20])('from a stream in chunks of %d: only mapped bytes, at their offsets; the whole digest', async (chunk) => {
    const chunks: Buffer[] = [];
    for (let at = 0; at < image.length; at += chunk) chunks.push(image.subarray(at, at + chunk));
    const stream = piecesFromStream(Readable.from(chunks), rangesOf(map, image.length), image.length, 'x.img.xz');
    expect((await collect(stream.pieces)).equals(expected)).toBe(true);
    expect(stream.digest()).toEqual({ size: image.length, sha256: sha(image) });
  });

  it('from a file: only the mapped ranges are read', async () => {
    const reads: [number, number][] = [];
    const stream = piecesFromFile(
      (offset, length) => {
        reads.push([offset, length]);
        return Promise.resolve(Buffer.from(image.subarray(offset, offset + length)));
      },
      rangesOf(map, image.length),
      'x.img',
    );
    expect((await collect(stream.pieces)).equals(expected)).toBe(true);
    expect(reads).toEqual([
      [0, 2 * BS],
      [4 * BS, BS],
      [7 * BS, BS],
    ]);
  });

  it("refuses a range whose bytes are not the block map's (IMAGE_CORRUPT), before the next range", async () => {
    const bad = Buffer.from(image);
    bad[4 * BS + 10] = bad[4 * BS + 10]! ^ 0xff;
    const stream = piecesFromStream(Readable.from([bad]), rangesOf(map, image.length), image.length, 'x.img.xz');
    const offsets: number[] = [];
    await expect(
      (async () => {
        for await (const p of stream.pieces) offsets.push(p.offset);
      })(),
    ).rejects.toMatchObject({ code: 'IMAGE_CORRUPT', message: expect.stringMatching(/x\.img\.xz: bytes 16384–20479 do not match the block map/) });
    expect(offsets).not.toContain(7 * BS);
    expect(stream.digest()).toBeUndefined();
  });

  it.each([
    ['shorter', image.subarray(0, 6 * BS), /is 24576 bytes, not the 32768 its block map describes/],
    ['longer', Buffer.concat([image, Buffer.alloc(10)]), /longer than the 32768 bytes its block map describes/],
  ])('refuses a stream %s than the image', async (_what, bytes, message) => {
    const stream = piecesFromStream(Readable.from([bytes]), rangesOf(map, image.length), image.length, 'x.img.xz');
    await expect(collect(stream.pieces)).rejects.toThrow(message);
  });

  it('without a block map, checks the one whole range against the image digest', async () => {
    const bad = Buffer.from(image);
    bad[5] = bad[5]! ^ 1;
    const ok = piecesFromStream(Readable.from([image]), rangesOf(undefined, image.length, sha(image)), image.length, 'x.img.gz');
    expect((await collect(ok.pieces)).equals(image)).toBe(true);
    const wrong = piecesFromStream(Readable.from([bad]), rangesOf(undefined, image.length, sha(image)), image.length, 'x.img.gz');
    await expect(collect(wrong.pieces)).rejects.toMatchObject({ code: 'IMAGE_CORRUPT' });
  });
});
