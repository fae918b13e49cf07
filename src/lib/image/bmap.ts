/**
 * Block maps in bmap-tools' format, version 2.0 (what `bmaptool copy` reads).
 * A block is "mapped" when it holds any non-zero byte: pi-gen runs zerofree
 * before export, so free space is zeros, and a sparse or fresh target reads
 * zeros where nothing is written. Each mapped range carries the sha256 of its
 * bytes; the file carries its own sha256, computed with that field all zeros.
 */
import { createHash } from 'node:crypto';
import { PiImageError } from '../core/errors';

export const BMAP_BLOCK_SIZE = 4096;

export interface BmapRange {
  first: number;
  last: number;
  sha256: string;
}

export interface BlockMap {
  imageSize: number;
  blockSize: number;
  blocksCount: number;
  mappedBlocksCount: number;
  ranges: BmapRange[];
}

/**
 * Builds a block map from the image's bytes as they stream past, block by block.
 * Memory: one hash state plus one small record per mapped range.
 */
export class BlockMapBuilder {
  private readonly ranges: BmapRange[] = [];
  private block = 0;
  private mapped = 0;
  private open: { first: number; hash: ReturnType<typeof createHash> } | undefined;

  constructor(readonly blockSize = BMAP_BLOCK_SIZE) {}

  /** Adds `count` consecutive blocks whose bytes are `data` (the last one may be short). */
  addMapped(data: Buffer, count: number): void {
    this.open ??= { first: this.block, hash: createHash('sha256') };
    this.open.hash.update(data);
    this.block += count;
    this.mapped += count;
  }

  addUnmapped(count: number): void {
    this.closeRange();
    this.block += count;
  }

  private closeRange(): void {
    if (!this.open) return;
    this.ranges.push({ first: this.open.first, last: this.block - 1, sha256: this.open.hash.digest('hex') });
    this.open = undefined;
  }

  finish(imageSize: number): BlockMap {
    this.closeRange();
    const blocksCount = Math.ceil(imageSize / this.blockSize);
    if (blocksCount !== this.block) {
      throw new PiImageError('INTERNAL', `block map saw ${this.block} blocks, image has ${blocksCount}`);
    }
    return { imageSize, blockSize: this.blockSize, blocksCount, mappedBlocksCount: this.mapped, ranges: this.ranges };
  }
}

function humanSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

const ZERO_CHECKSUM = '0'.repeat(64);

/** The .bmap text. Deterministic: the same map gives the same bytes. */
export function renderBmap(map: BlockMap): string {
  const percent = map.blocksCount === 0 ? 0 : (map.mappedBlocksCount * 100) / map.blocksCount;
  const lines = [
    '<?xml version="1.0" ?>',
    // No double hyphen may appear inside an XML comment.
    '<!-- Block map written by pi-image (pi-image-release) in bmap-tools format 2.0.',
    '     Only the listed blocks hold data; the rest are zeros and need not be',
    '     written. Flash it with bmaptool copy, giving this file as the bmap. -->',
    '<bmap version="2.0">',
    `    <!-- Image size: ${humanSize(map.imageSize)} -->`,
    `    <ImageSize> ${map.imageSize} </ImageSize>`,
    `    <BlockSize> ${map.blockSize} </BlockSize>`,
    `    <BlocksCount> ${map.blocksCount} </BlocksCount>`,
    `    <!-- Mapped: ${humanSize(map.mappedBlocksCount * map.blockSize)} or ${percent.toFixed(1)}% -->`,
    `    <MappedBlocksCount> ${map.mappedBlocksCount} </MappedBlocksCount>`,
    '    <ChecksumType> sha256 </ChecksumType>',
    '    <!-- sha256 of this file with the value below replaced by 64 zeros -->',
    `    <BmapFileChecksum> ${ZERO_CHECKSUM} </BmapFileChecksum>`,
    '    <BlockMap>',
    ...map.ranges.map((r) => `        <Range chksum="${r.sha256}"> ${r.first === r.last ? r.first : `${r.first}-${r.last}`} </Range>`),
    '    </BlockMap>',
    '</bmap>',
    '',
  ];
  const withZeros = lines.join('\n');
  const checksum = createHash('sha256').update(withZeros).digest('hex');
  return withZeros.replace(`<BmapFileChecksum> ${ZERO_CHECKSUM} </BmapFileChecksum>`, `<BmapFileChecksum> ${checksum} </BmapFileChecksum>`);
}

function tag(text: string, name: string, source: string): string {
  const m = new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`).exec(text);
  if (!m) throw new PiImageError('INPUT_INVALID', `${source}: no <${name}> in block map`);
  return m[1]!;
}

/** Reads a version 2.x .bmap and checks its own checksum. */
export function parseBmap(text: string, source = '.bmap'): BlockMap {
  const version = /<bmap version="(\d+)\.(\d+)"/.exec(text);
  if (version?.[1] !== '2') throw new PiImageError('INPUT_INVALID', `${source}: not a bmap version 2 file`);
  if (tag(text, 'ChecksumType', source) !== 'sha256') throw new PiImageError('INPUT_INVALID', `${source}: only sha256 block maps are read`);
  const stored = tag(text, 'BmapFileChecksum', source);
  const actual = createHash('sha256')
    .update(text.replace(stored, '0'.repeat(stored.length)))
    .digest('hex');
  if (actual !== stored) throw new PiImageError('INPUT_INVALID', `${source}: block map checksum does not match its contents`);
  const ranges: BmapRange[] = [];
  for (const m of text.matchAll(/<Range chksum="([0-9a-f]{64})">\s*(\d+)(?:-(\d+))?\s*<\/Range>/g)) {
    ranges.push({ first: Number(m[2]), last: Number(m[3] ?? m[2]), sha256: m[1]! });
  }
  return {
    imageSize: Number(tag(text, 'ImageSize', source)),
    blockSize: Number(tag(text, 'BlockSize', source)),
    blocksCount: Number(tag(text, 'BlocksCount', source)),
    mappedBlocksCount: Number(tag(text, 'MappedBlocksCount', source)),
    ranges,
  };
}
