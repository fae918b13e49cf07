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
  const found = [...text.matchAll(new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`, 'g'))];
  if (found.length !== 1) throw invalid(source, found.length === 0 ? `no <${name}>` : `<${name}> more than once`);
  return found[0]![1]!;
}

function invalid(source: string, what: string): PiImageError {
  return new PiImageError('INPUT_INVALID', `${source}: not a usable block map: ${what}`);
}

function count(text: string, name: string, source: string, min = 0): number {
  const value = tag(text, name, source);
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min)
    throw invalid(source, `<${name}> "${value.slice(0, 20)}" is not a whole number of at least ${min}`);
  return Number(value);
}

/**
 * Reads a version 2.x .bmap (pi-image's or bmaptool's) and checks all of it
 * before anything is written from it: its own checksum, a power-of-two block
 * size, a block count that fits the image size, and ranges that are well
 * formed, in order, apart, inside the image and add up to the mapped count.
 * A range that does not parse is an error, never skipped: a flash that
 * skipped it would leave those blocks unwritten.
 */
export function parseBmap(text: string, source = '.bmap'): BlockMap {
  const version = /<bmap version="(\d+)\.(\d+)"/.exec(text);
  if (version?.[1] !== '2') throw invalid(source, 'not a bmap version 2 file');
  // Comments may mention tags (bmaptool's do); only the elements count.
  const body = text.replace(/<!--[\s\S]*?-->/g, '');
  if (tag(body, 'ChecksumType', source) !== 'sha256') throw invalid(source, 'only sha256 block maps are read');
  const stored = tag(body, 'BmapFileChecksum', source);
  if (!/^[0-9a-f]{64}$/.test(stored)) throw invalid(source, '<BmapFileChecksum> is not a sha256');
  const zeroed = text.replace(new RegExp(`(<BmapFileChecksum>\\s*)${stored}(\\s*</BmapFileChecksum>)`), `$1${ZERO_CHECKSUM}$2`);
  if (createHash('sha256').update(zeroed).digest('hex') !== stored) throw invalid(source, 'its checksum does not match its contents (changed or damaged)');

  const imageSize = count(body, 'ImageSize', source);
  const blockSize = count(body, 'BlockSize', source, 512);
  const blocksCount = count(body, 'BlocksCount', source);
  const mappedBlocksCount = count(body, 'MappedBlocksCount', source);
  if ((blockSize & (blockSize - 1)) !== 0 || blockSize > 1 << 20) throw invalid(source, `block size ${blockSize} is not a power of two up to 1 MiB`);
  if (blocksCount !== Math.ceil(imageSize / blockSize))
    throw invalid(source, `${blocksCount} blocks of ${blockSize} bytes do not make an image of ${imageSize} bytes`);

  const ranges: BmapRange[] = [];
  let mapped = 0;
  let next = 0;
  for (const m of body.matchAll(/<Range\b([^>]*)>([^<]*)<\/Range>/g)) {
    const chksum = /^\s+chksum="([0-9a-f]{64})"\s*$/.exec(m[1]!);
    const span = /^\s*(\d{1,16})(?:\s*-\s*(\d{1,16}))?\s*$/.exec(m[2]!);
    if (!chksum || !span) throw invalid(source, `range ${ranges.length + 1} is not <Range chksum="SHA256"> FIRST[-LAST] </Range>`);
    const first = Number(span[1]);
    const last = Number(span[2] ?? span[1]);
    if (last < first) throw invalid(source, `range ${first}-${last} ends before it starts`);
    if (first < next) throw invalid(source, `range ${first}-${last} overlaps or comes before the one before it`);
    if (last >= blocksCount) throw invalid(source, `range ${first}-${last} lies past the image's ${blocksCount} blocks`);
    ranges.push({ first, last, sha256: chksum[1]! });
    mapped += last - first + 1;
    next = last + 1;
  }
  if ((body.match(/<Range\b/g) ?? []).length !== ranges.length) throw invalid(source, 'a <Range> element is not closed');
  if (mapped !== mappedBlocksCount) throw invalid(source, `its ranges map ${mapped} blocks, not the ${mappedBlocksCount} it says`);
  return { imageSize, blockSize, blocksCount, mappedBlocksCount, ranges };
}
