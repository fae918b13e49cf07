/**
 * What the read-back compares the disk with: what was written, not what the
 * image's block map says. They differ where the flash changes bytes (a GPT's
 * primary header when its backup moves to the end of a larger disk), and a
 * bare image has no block map at all. So the head (the held-back first MiB)
 * is kept and compared byte for byte, and every range past it is hashed as
 * its pieces go by on their way to the disk.
 */
import { createHash, type Hash } from 'node:crypto';
import type { ByteRange } from '../image/mapped-bytes';

/** A stretch of the disk and the sha256 of what was written there. */
export interface WrittenRange {
  start: number;
  end: number;
  sha256: string;
}

export class WrittenDigests {
  private index = 0;
  private hash: Hash | undefined;
  private readonly done: WrittenRange[] = [];

  /** `headEnd`: bytes before it are the held-back head, compared whole. */
  constructor(
    private readonly ranges: readonly ByteRange[],
    private readonly headEnd: number,
  ) {}

  /** Passes the pieces through, hashing the part of each past the head into its range's digest. */
  async *track<P extends { offset: number; data: Buffer }>(pieces: AsyncIterable<P>): AsyncGenerator<P> {
    for await (const piece of pieces) {
      const end = piece.offset + piece.data.length;
      while (this.index < this.ranges.length && piece.offset >= this.ranges[this.index]!.end) this.close();
      if (end > this.headEnd) {
        this.hash ??= createHash('sha256');
        this.hash.update(piece.offset >= this.headEnd ? piece.data : piece.data.subarray(this.headEnd - piece.offset));
      }
      yield piece;
    }
    while (this.index < this.ranges.length) this.close();
  }

  private close(): void {
    const r = this.ranges[this.index++]!;
    const start = Math.max(r.start, this.headEnd);
    if (r.end > start) this.done.push({ start, end: r.end, sha256: (this.hash ?? createHash('sha256')).digest('hex') });
    this.hash = undefined;
  }

  /** The ranges past the head, as written (complete once `track` has finished). */
  get written(): readonly WrittenRange[] {
    return this.done;
  }
}
