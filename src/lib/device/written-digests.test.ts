import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WrittenDigests } from './written-digests';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const i of items) yield await Promise.resolve(i);
}
async function drain(g: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of g) n++;
  return n;
}

describe('what the read-back compares with', () => {
  const bytes = Buffer.from(Array.from({ length: 64 }, (_, i) => i + 1));
  const piece = (start: number, end: number): { offset: number; data: Buffer } => ({ offset: start, data: bytes.subarray(start, end) });

  it('hashes each range past the head, clipping a range that starts inside it; passes every piece through', async () => {
    const d = new WrittenDigests(
      [
        { start: 0, end: 24 },
        { start: 32, end: 40 },
        { start: 48, end: 64 },
      ],
      16,
    );
    const n = await drain(d.track(from([piece(0, 10), piece(10, 24), piece(32, 40), piece(48, 56), piece(56, 64)])));
    expect(n).toBe(5);
    expect(d.written).toEqual([
      { start: 16, end: 24, sha256: sha(bytes.subarray(16, 24)) },
      { start: 32, end: 40, sha256: sha(bytes.subarray(32, 40)) },
      { start: 48, end: 64, sha256: sha(bytes.subarray(48, 64)) },
    ]);
  });

  it('leaves out ranges wholly inside the head (compared byte for byte instead)', async () => {
    const d = new WrittenDigests(
      [
        { start: 0, end: 8 },
        { start: 8, end: 16 },
        { start: 20, end: 30 },
      ],
      16,
    );
    await drain(d.track(from([piece(0, 8), piece(8, 16), piece(20, 30)])));
    expect(d.written).toEqual([{ start: 20, end: 30, sha256: sha(bytes.subarray(20, 30)) }]);
  });

  it('without a block map (one whole range), hashes everything past the head', async () => {
    const d = new WrittenDigests([{ start: 0, end: 64 }], 16);
    await drain(d.track(from([piece(0, 20), piece(20, 64)])));
    expect(d.written).toEqual([{ start: 16, end: 64, sha256: sha(bytes.subarray(16, 64)) }]);
  });
});
