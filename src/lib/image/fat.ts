/**
 * A read-only FAT12/16/32 reader (the Pi's boot partition), with long file
 * names. Reads through a ByteSource: no mount, no root, no vfat in the kernel.
 */
import { PiImageError } from '../core/errors';
import type { ByteSource } from './byte-source';

export interface FatEntry {
  name: string;
  directory: boolean;
  size: number;
  firstCluster: number;
}

export interface FatWalkEntry {
  path: string;
  directory: boolean;
  size: number;
}

const MAX_FAT_BYTES = 64 * 1024 * 1024;
const MAX_WALK_ENTRIES = 100_000;
/** A directory larger than this is not one a boot partition has. */
const MAX_DIRECTORY_BYTES = 4 * 1024 * 1024;
/** Everything read from one file system for one inspection. */
export const DEFAULT_READ_BUDGET = 256 * 1024 * 1024;

export class FatFileSystem {
  /** The volume label: the root directory's label entry, else the boot sector's. */
  label: string | undefined;

  private constructor(
    private readonly src: ByteSource,
    readonly type: 'FAT12' | 'FAT16' | 'FAT32',
    readonly volumeId: string,
    private readonly clusterBytes: number,
    private readonly dataStart: number,
    private readonly rootDir: { offset: number; length: number } | { cluster: number },
    private readonly fat: Buffer,
    private readonly clusterCount: number,
    private budget: number,
  ) {}

  private corrupt(what: string): PiImageError {
    return new PiImageError('IMAGE_CORRUPT', `${this.src.name}: ${what}`);
  }

  /** Every read is counted: a structure can make the reader walk, never walk without end. */
  private read(offset: number, length: number): Promise<Buffer> {
    this.budget -= length;
    if (this.budget < 0)
      throw this.corrupt(`reading the FAT file system needed more than ${DEFAULT_READ_BUDGET / 1048576} MiB: a damaged or hostile structure`);
    return this.src.read(offset, length);
  }

  /** True when the boot sector looks like FAT (used to identify a partition). */
  static looksLikeFat(boot: Buffer): boolean {
    if (boot.length < 512 || boot.readUInt16LE(510) !== 0xaa55) return false;
    const bps = boot.readUInt16LE(11);
    const spc = boot[13]!;
    return [512, 1024, 2048, 4096].includes(bps) && spc > 0 && (spc & (spc - 1)) === 0 && boot[16]! > 0 && boot.readUInt16LE(14) > 0;
  }

  static async open(src: ByteSource, readBudget = DEFAULT_READ_BUDGET): Promise<FatFileSystem> {
    const g = parseFatBootSector(await src.read(0, 512), src.name, src.size, MAX_FAT_BYTES);
    const { boot, bps, spc, reserved, dataSector, clusters, type, fatBytes } = g;
    const fat = await src.read(reserved * bps, fatBytes);
    const bpbLabel = boot.toString('latin1', type === 'FAT32' ? 71 : 43, type === 'FAT32' ? 82 : 54).trimEnd();
    const volumeId = boot
      .readUInt32LE(type === 'FAT32' ? 67 : 39)
      .toString(16)
      .padStart(8, '0')
      .toUpperCase();
    const rootDir = g.rootDir;
    const fs = new FatFileSystem(
      src,
      type,
      `${volumeId.slice(0, 4)}-${volumeId.slice(4)}`,
      spc * bps,
      dataSector * bps,
      rootDir,
      fat,
      clusters,
      readBudget - fatBytes,
    );
    const volumeLabel = await fs.rootVolumeLabel();
    fs.label = volumeLabel ?? (bpbLabel && bpbLabel !== 'NO NAME' ? bpbLabel : undefined);
    return fs;
  }

  private next(cluster: number): number {
    if (cluster > this.clusterCount + 1) throw this.corrupt(`FAT cluster ${cluster} lies past the data area`);
    if (this.type === 'FAT32') return this.fat.readUInt32LE(cluster * 4) & 0x0fffffff;
    if (this.type === 'FAT16') return this.fat.readUInt16LE(cluster * 2);
    const v = this.fat.readUInt16LE(Math.floor(cluster * 1.5));
    return cluster & 1 ? v >> 4 : v & 0xfff;
  }

  private isEnd(cluster: number): boolean {
    const eoc = this.type === 'FAT32' ? 0x0ffffff8 : this.type === 'FAT16' ? 0xfff8 : 0xff8;
    return cluster >= eoc || cluster < 2;
  }

  /**
   * Reads a cluster chain up to `limit` bytes. The chain is followed only as
   * far as needed; one that leaves the data area or loops is refused.
   */
  private async readChain(first: number, limit: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    const seen = new Set<number>();
    let got = 0;
    for (let c = first; !this.isEnd(c) && got < limit; c = this.next(c)) {
      if (c > this.clusterCount + 1) throw this.corrupt(`FAT cluster chain from ${first} leaves the data area (cluster ${c})`);
      if (seen.has(c)) throw this.corrupt(`FAT cluster chain from ${first} loops (cluster ${c} twice)`);
      seen.add(c);
      const len = Math.min(this.clusterBytes, limit - got);
      parts.push(await this.read(this.dataStart + (c - 2) * this.clusterBytes, len));
      got += len;
    }
    return Buffer.concat(parts);
  }

  private async rootBytes(): Promise<Buffer> {
    if ('cluster' in this.rootDir) return this.readChain(this.rootDir.cluster, MAX_DIRECTORY_BYTES);
    return this.read(this.rootDir.offset, Math.min(this.rootDir.length, MAX_DIRECTORY_BYTES));
  }

  private async rootVolumeLabel(): Promise<string | undefined> {
    const raw = await this.rootBytes();
    for (let at = 0; at + 32 <= raw.length; at += 32) {
      if (raw[at] === 0) break;
      if (raw[at] === 0xe5) continue;
      const attr = raw[at + 11]!;
      if (attr !== 0x0f && attr & 0x08) return raw.toString('latin1', at, at + 11).trimEnd();
    }
    return undefined;
  }

  private static parseDirectory(raw: Buffer): FatEntry[] {
    const entries: FatEntry[] = [];
    let lfn: string[] = [];
    for (let at = 0; at + 32 <= raw.length; at += 32) {
      const first = raw[at]!;
      if (first === 0) break;
      if (first === 0xe5) {
        lfn = [];
        continue;
      }
      const attr = raw[at + 11]!;
      if (attr === 0x0f) {
        const seq = first & 0x1f;
        const chars = Buffer.concat([raw.subarray(at + 1, at + 11), raw.subarray(at + 14, at + 26), raw.subarray(at + 28, at + 32)]);
        let part = chars.toString('utf16le');
        const end = part.indexOf('\0');
        if (end >= 0) part = part.slice(0, end);
        if (first & 0x40) lfn = [];
        lfn[seq - 1] = part;
        continue;
      }
      if (attr & 0x08) {
        lfn = [];
        continue;
      }
      const base = raw.toString('latin1', at, at + 8).trimEnd();
      const ext = raw.toString('latin1', at + 8, at + 11).trimEnd();
      const caseFlags = raw[at + 12]!;
      const shortName = (caseFlags & 0x08 ? base.toLowerCase() : base) + (ext ? '.' + (caseFlags & 0x10 ? ext.toLowerCase() : ext) : '');
      const name = lfn.length > 0 ? lfn.join('') : shortName;
      lfn = [];
      if (name === '.' || name === '..') continue;
      entries.push({
        name,
        directory: (attr & 0x10) !== 0,
        size: raw.readUInt32LE(at + 28),
        firstCluster: (raw.readUInt16LE(at + 20) << 16) | raw.readUInt16LE(at + 26),
      });
    }
    return entries;
  }

  private async listEntry(dir: FatEntry | undefined): Promise<FatEntry[]> {
    const raw = dir ? await this.readChain(dir.firstCluster, MAX_DIRECTORY_BYTES) : await this.rootBytes();
    return FatFileSystem.parseDirectory(raw);
  }

  private async lookup(path: string): Promise<FatEntry | undefined | null> {
    const parts = path.split('/').filter(Boolean);
    let current: FatEntry | undefined;
    for (const part of parts) {
      if (current && !current.directory) return null;
      const found = (await this.listEntry(current)).find((e) => e.name.toLowerCase() === part.toLowerCase());
      if (!found) return null;
      current = found;
    }
    return current;
  }

  /** Lists a directory; `/` is the root. */
  async list(path = '/'): Promise<FatEntry[]> {
    const entry = await this.lookup(path);
    if (entry === null || (entry && !entry.directory)) throw new PiImageError('INPUT_INVALID', `${this.src.name}: no directory ${path}`);
    return this.listEntry(entry);
  }

  /** Reads a file, or undefined when there is none. Files past `maxBytes` are cut there. */
  async readFile(path: string, maxBytes = 1 << 20): Promise<Buffer | undefined> {
    const entry = await this.lookup(path);
    if (!entry || entry.directory) return undefined;
    if (entry.size === 0) return Buffer.alloc(0);
    return this.readChain(entry.firstCluster, Math.min(entry.size, maxBytes));
  }

  /** Every file and directory, depth first, sorted by name within a directory. */
  async walk(): Promise<FatWalkEntry[]> {
    return (await this.walkEntries()).map(({ path, directory, size }) => ({ path, directory, size }));
  }

  /**
   * The same walk, each entry with its directory record: read a file by its
   * record (stream), not by its path, which a damaged directory can give twice.
   */
  async walkEntries(): Promise<(FatWalkEntry & { entry: FatEntry })[]> {
    const out: (FatWalkEntry & { entry: FatEntry })[] = [];
    const visited = new Set<number>();
    const visit = async (dir: FatEntry | undefined, prefix: string, depth: number): Promise<void> => {
      if (depth > 32) throw this.corrupt('directories nest deeper than 32 levels');
      if (dir) {
        if (visited.has(dir.firstCluster)) throw this.corrupt(`directory ${prefix} is reached twice (a loop)`);
        visited.add(dir.firstCluster);
      }
      const entries = (await this.listEntry(dir)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        if (out.length >= MAX_WALK_ENTRIES) throw this.corrupt(`more than ${MAX_WALK_ENTRIES} entries`);
        const path = `${prefix}/${e.name}`;
        out.push({ path, directory: e.directory, size: e.directory ? 0 : e.size, entry: e });
        if (e.directory) await visit(e, path, depth + 1);
      }
    };
    await visit(undefined, '', 0);
    return out;
  }

  /**
   * A file's bytes in chunks of at most `chunkBytes` (whole clusters): memory
   * stays bounded whatever its size. A chain shorter than the size its record
   * gives, leaving the data area or looping, is refused.
   */
  async *stream(file: FatEntry, chunkBytes = 1 << 20): AsyncGenerator<Buffer> {
    if (file.directory) throw this.corrupt(`${file.name} is a directory, not a file`);
    const perChunk = Math.max(1, Math.floor(chunkBytes / this.clusterBytes));
    const seen = new Set<number>();
    let left = file.size;
    let c = file.firstCluster;
    while (left > 0) {
      const run: number[] = [];
      for (; run.length < perChunk && left - run.length * this.clusterBytes > 0; c = this.next(c)) {
        if (this.isEnd(c)) throw this.corrupt(`${file.name}: its cluster chain ends before its ${file.size} bytes`);
        if (c > this.clusterCount + 1) throw this.corrupt(`${file.name}: its cluster chain leaves the data area (cluster ${c})`);
        if (seen.has(c)) throw this.corrupt(`${file.name}: its cluster chain loops (cluster ${c} twice)`);
        seen.add(c);
        run.push(c);
      }
      const parts: Buffer[] = [];
      for (const cluster of run) {
        const len = Math.min(this.clusterBytes, left);
        parts.push(await this.read(this.dataStart + (cluster - 2) * this.clusterBytes, len));
        left -= len;
      }
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
  }
}

/** A FAT file system's geometry, from its boot sector: checked before anything is read by it. */
export interface FatGeometry {
  boot: Buffer;
  bps: number;
  spc: number;
  reserved: number;
  fats: number;
  fatSectors: number;
  fatBytes: number;
  rootSectors: number;
  dataSector: number;
  clusters: number;
  type: 'FAT12' | 'FAT16' | 'FAT32';
  /** FAT12/16: a fixed region (bytes from the start); FAT32: the first cluster of a chain. */
  rootDir: { offset: number; length: number } | { cluster: number };
}

/** Reads and checks the boot sector of a FAT file system `size` bytes long; a FAT larger than `maxFatBytes` is not read here. */
export function parseFatBootSector(boot: Buffer, name: string, size: number, maxFatBytes = Infinity): FatGeometry {
  if (!FatFileSystem.looksLikeFat(boot)) throw new PiImageError('IMAGE_CORRUPT', `${name}: not a FAT file system`);
  const bps = boot.readUInt16LE(11);
  const spc = boot[13]!;
  const reserved = boot.readUInt16LE(14);
  const fats = boot[16]!;
  const rootEntries = boot.readUInt16LE(17);
  const total = boot.readUInt16LE(19) || boot.readUInt32LE(32);
  const fatSectors = boot.readUInt16LE(22) || boot.readUInt32LE(36);
  const rootSectors = Math.ceil((rootEntries * 32) / bps);
  const dataSector = reserved + fats * fatSectors + rootSectors;
  const clusters = Math.floor((total - dataSector) / spc);
  if (fatSectors === 0 || total <= dataSector || clusters < 1) throw new PiImageError('IMAGE_CORRUPT', `${name}: FAT boot sector has implausible geometry`);
  if (total * bps > size) {
    throw new PiImageError(
      'IMAGE_CORRUPT',
      `${name}: the FAT file system (${total * bps} bytes) is larger than its partition (${size} bytes): truncated or damaged`,
    );
  }
  const type = clusters < 4085 ? 'FAT12' : clusters < 65525 ? 'FAT16' : 'FAT32';
  const fatBytes = fatSectors * bps;
  if (fatBytes > maxFatBytes) throw new PiImageError('FS_UNSUPPORTED', `${name}: FAT of ${fatBytes} bytes is larger than this reader allows`);
  const entryBits = type === 'FAT32' ? 32 : type === 'FAT16' ? 16 : 12;
  if (fatBytes * 8 < (clusters + 2) * entryBits)
    throw new PiImageError('IMAGE_CORRUPT', `${name}: the FAT (${fatBytes} bytes) is too small for ${clusters} clusters`);
  const rootDir = type === 'FAT32' ? { cluster: boot.readUInt32LE(44) } : { offset: (reserved + fats * fatSectors) * bps, length: rootSectors * bps };
  return { boot, bps, spc, reserved, fats, fatSectors, fatBytes, rootSectors, dataSector, clusters, type, rootDir };
}
