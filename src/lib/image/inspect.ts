/**
 * Reads what matters out of a disk image without mounting it: the partition
 * table, each partition's file system and label, the boot partition's files,
 * config.txt and cmdline.txt, and from the root file system os-release, the
 * product's release file, fstab and the enabled systemd units.
 */
import { detectFirstBoot, type FirstBootSupport } from './first-boot';
import { PiImageError } from '../core/errors';
import { type ByteSource, SliceByteSource } from './byte-source';
import { Ext4FileSystem } from './ext4';
import { FatFileSystem, type FatWalkEntry } from './fat';
import { type Partition, readPartitionTable } from './partition-table';
import { parseAutoboot, PARTITION_ROLES, rootPartuuid } from './partition-roles';

export interface FileSystemInfo {
  type: 'vfat' | 'ext2' | 'ext3' | 'ext4' | 'unknown';
  label?: string;
  uuid?: string;
}

export interface InspectedPartition extends Partition {
  filesystem: FileSystemInfo;
  /** What the image's own files say it is for (partition-roles.ts); absent when nothing says. */
  role?: string;
}

export interface FstabEntry {
  spec: string;
  file: string;
  vfstype: string;
  options: string;
  freq: number;
  passno: number;
}

export interface EnabledUnit {
  unit: string;
  /** The target or unit whose .wants/.requires directory holds the link. */
  wantedBy: string;
  relation: 'wants' | 'requires';
}

export interface ImageInspection {
  sizeBytes: number;
  partitionTable: { scheme: 'mbr' | 'gpt'; diskId: string; partitions: InspectedPartition[] };
  boot?: {
    partition: number;
    files: FatWalkEntry[];
    configTxt?: string;
    cmdlineTxt?: string;
  };
  root?: {
    partition: number;
    osRelease?: Record<string, string>;
    productRelease?: { path: string; values: Record<string, string> };
    hostname?: string;
    fstab?: FstabEntry[];
    enabledUnits: EnabledUnit[];
    maskedUnits: string[];
    /** Which first-boot customisation the image takes (Imager's init_format), and why. */
    firstBoot: FirstBootSupport;
  };
  /** A/B images: the common boot partition's autoboot.txt and the slots it names. */
  slots?: {
    autoboot: { partition: number; text: string };
    a: { boot: number; root?: number };
    b?: { boot: number; root?: number };
  };
  warnings: string[];
}

export interface InspectOptions {
  /** Where the product keeps its KEY=VALUE release file (OurBox: /etc/ourbox/release). */
  productReleaseFile?: string;
}

export const DEFAULT_PRODUCT_RELEASE_FILE = '/etc/ourbox/release';

/** Parses os-release style KEY=VALUE text (quotes removed, comments skipped). */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    if (/^"(.*)"$/s.test(value)) value = value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    else if (/^'(.*)'$/s.test(value)) value = value.slice(1, -1);
    out[m[1]!] = value;
  }
  return out;
}

export function parseFstab(text: string): FstabEntry[] {
  const out: FstabEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const f = trimmed.split(/\s+/);
    if (f.length < 4) continue;
    out.push({ spec: f[0]!, file: f[1]!, vfstype: f[2]!, options: f[3]!, freq: Number(f[4] ?? 0), passno: Number(f[5] ?? 0) });
  }
  return out;
}

async function identify(part: ByteSource): Promise<{ info: FileSystemInfo; fat?: FatFileSystem; ext?: Ext4FileSystem }> {
  if (part.size >= 2048) {
    const head = await part.read(0, 2048);
    if (Ext4FileSystem.looksLikeExt(head.subarray(1024))) {
      const ext = await Ext4FileSystem.open(part);
      const info: FileSystemInfo = { type: ext.kind, uuid: ext.uuid };
      if (ext.label) info.label = ext.label;
      return { info, ext };
    }
    if (FatFileSystem.looksLikeFat(head.subarray(0, 512))) {
      const fat = await FatFileSystem.open(part);
      const info: FileSystemInfo = { type: 'vfat', uuid: fat.volumeId };
      if (fat.label) info.label = fat.label;
      return { info, fat };
    }
  }
  return { info: { type: 'unknown' } };
}

const text = (b: Buffer | undefined): string | undefined => (b === undefined ? undefined : b.toString('utf8'));

export async function inspectImage(disk: ByteSource, options: InspectOptions = {}): Promise<ImageInspection> {
  const table = await readPartitionTable(disk);
  const warnings: string[] = [];
  const partitions: InspectedPartition[] = [];
  const fats: { n: number; fs: FatFileSystem }[] = [];
  const exts: { n: number; fs: Ext4FileSystem }[] = [];

  for (const p of table.partitions) {
    if (p.type === '05' || p.type === '0f') {
      partitions.push({ ...p, filesystem: { type: 'unknown' } });
      continue;
    }
    const slice = new SliceByteSource(disk, p.startBytes, p.sizeBytes, `${disk.name} partition ${p.number}`);
    try {
      const found = await identify(slice);
      partitions.push({ ...p, filesystem: found.info });
      if (found.fat) fats.push({ n: p.number, fs: found.fat });
      if (found.ext) exts.push({ n: p.number, fs: found.ext });
    } catch (e) {
      // A file system this reader does not support is a warning; a damaged one is the image's fault.
      if (!(e instanceof PiImageError && e.code === 'FS_UNSUPPORTED')) throw e;
      warnings.push(`partition ${p.number}: ${e.message}`);
      partitions.push({ ...p, filesystem: { type: 'unknown' } });
    }
  }
  if (partitions.length === 0) {
    throw new PiImageError('IMAGE_NOT_DISK', `${disk.name}: the partition table lists no partition`);
  }

  const result: ImageInspection = {
    sizeBytes: disk.size,
    partitionTable: { scheme: table.scheme, diskId: table.diskId, partitions },
    warnings,
  };

  // Which FAT boots and which ext is its root: autoboot.txt and cmdline.txt say, else the first of each.
  let fatFs = fats[0];
  let extFs = exts[0];
  const role = (n: number | undefined, r: string): void => {
    const p = partitions.find((q) => q.number === n);
    if (p) p.role = r;
  };
  const rootOf = async (boot: { fs: FatFileSystem } | undefined): Promise<{ n: number; fs: Ext4FileSystem } | undefined> => {
    const cmdline = boot ? text(await boot.fs.readFile('/cmdline.txt')) : undefined;
    const uuid = cmdline === undefined ? undefined : rootPartuuid(cmdline);
    const p = uuid ? partitions.find((q) => q.partuuid.toLowerCase() === uuid) : undefined;
    return p ? exts.find((e) => e.n === p.number) : undefined;
  };
  for (const f of fats) {
    const autobootText = text(await f.fs.readFile('/autoboot.txt'));
    if (autobootText === undefined) continue;
    const autoboot = parseAutoboot(autobootText);
    const bootA = fats.find((q) => q.n === autoboot.bootPartition);
    if (!bootA) {
      warnings.push(`autoboot.txt in partition ${f.n} names boot partition ${autoboot.bootPartition ?? '(none)'}, which holds no FAT file system`);
      break;
    }
    const bootB = fats.find((q) => q.n === autoboot.trybootPartition);
    const rootA = await rootOf(bootA);
    const rootB = await rootOf(bootB);
    fatFs = bootA;
    extFs = rootA ?? extFs;
    result.slots = { autoboot: { partition: f.n, text: autobootText }, a: { boot: bootA.n, ...(rootA ? { root: rootA.n } : {}) } };
    if (autoboot.trybootPartition !== undefined) result.slots.b = { boot: autoboot.trybootPartition, ...(rootB ? { root: rootB.n } : {}) };
    role(f.n, PARTITION_ROLES.autoboot);
    role(bootA.n, PARTITION_ROLES.boot);
    role(rootA?.n, PARTITION_ROLES.root);
    role(autoboot.trybootPartition, PARTITION_ROLES['boot-b']);
    role(rootB?.n, PARTITION_ROLES['root-b']);
    break;
  }
  if (!result.slots) {
    extFs = (await rootOf(fatFs)) ?? extFs;
    role(fatFs?.n, 'boot');
    role(extFs?.n, 'root');
  }

  if (fatFs) {
    const { fs, n } = fatFs;
    const boot: NonNullable<ImageInspection['boot']> = { partition: n, files: await fs.walk() };
    const config = text(await fs.readFile('/config.txt'));
    const cmdline = text(await fs.readFile('/cmdline.txt'));
    if (config !== undefined) boot.configTxt = config;
    else warnings.push('boot partition has no config.txt');
    if (cmdline !== undefined) boot.cmdlineTxt = cmdline;
    else warnings.push('boot partition has no cmdline.txt');
    result.boot = boot;
  } else warnings.push('no FAT boot partition found');

  if (extFs) {
    const { fs, n } = extFs;
    const root: NonNullable<ImageInspection['root']> = { partition: n, enabledUnits: [], maskedUnits: [], firstBoot: { initFormat: 'none', evidence: [] } };
    const osRelease = text(await fs.readFile('/etc/os-release'));
    if (osRelease !== undefined) root.osRelease = parseKeyValues(osRelease);
    else warnings.push('root file system has no /etc/os-release');
    const releasePath = options.productReleaseFile ?? DEFAULT_PRODUCT_RELEASE_FILE;
    const product = text(await fs.readFile(releasePath));
    if (product !== undefined) root.productRelease = { path: releasePath, values: parseKeyValues(product) };
    const hostname = text(await fs.readFile('/etc/hostname'));
    if (hostname !== undefined) root.hostname = hostname.trim();
    const fstab = text(await fs.readFile('/etc/fstab'));
    if (fstab !== undefined) root.fstab = parseFstab(fstab);
    else warnings.push('root file system has no /etc/fstab');
    const system = (await fs.list('/etc/systemd/system')) ?? [];
    for (const entry of system) {
      const m = /^(.+)\.(wants|requires)$/.exec(entry.name);
      if (entry.type === 'directory' && m) {
        for (const link of (await fs.list(`/etc/systemd/system/${entry.name}`)) ?? []) {
          root.enabledUnits.push({ unit: link.name, wantedBy: m[1]!, relation: m[2] as 'wants' | 'requires' });
        }
      } else if (entry.type === 'symlink' && entry.target === '/dev/null') {
        root.maskedUnits.push(entry.name);
      }
    }
    root.enabledUnits.sort((a, b) => (a.unit + a.wantedBy < b.unit + b.wantedBy ? -1 : 1));
    root.firstBoot = await detectFirstBoot(
      {
        exists: (path) => fs.exists(path),
        readText: async (path) => text(await fs.readFile(path)),
        list: async (path) => (await fs.list(path))?.map((e) => e.name),
      },
      { fstab: root.fstab, maskedUnits: root.maskedUnits, abSlots: result.slots !== undefined },
    );
    result.root = root;
  } else warnings.push('no ext root partition found');

  return result;
}
