/**
 * Assembles a disk image from directories, with no loop device and no mount:
 * the partition table written on the file by sfdisk, each FAT file system made
 * in place (mkfs.fat --offset) and filled with mtools, each ext4 made in place
 * from its directory (mkfs.ext4 -d, -E offset). Every identifier is decided
 * first (disk-identifiers.ts) and written into fstab and cmdline.txt for each
 * slot before that slot's file systems are made; the source directories are
 * put back as they were afterwards.
 *
 * With an epoch (SOURCE_DATE_EPOCH) the result is byte for byte the same for
 * the same directories and seed: ids from the seed, mkfs and mtools told the
 * time, content added in sorted order, ext4 times clamped afterwards.
 */
import { lstat, mkdir, mkdtemp, open, readdir, readFile, realpath, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import { execCapture, execStream, type ExecResult } from '../core/exec';
import type { Logger } from '../core/logger';
import { temporaryPathFor } from '../core/atomic-file';
import { diskIdentifiers } from './disk-identifiers';
import { planDisk, sfdiskScript, type DiskPlan, type PlannedPartition } from './disk-plan';
import { clampExt4Times } from './ext4-timestamps';
import { setFatLabelTime } from './fat-label-time';
import { autobootText, type Layout } from './layouts';

export interface AssembleOptions {
  /** The root file system's content (its boot/firmware empty: the boot files are in bootDir). */
  rootDir: string;
  /** The boot partition's content. */
  bootDir: string;
  layout: Layout;
  /** Stable seed (product, version): identifiers derived from it. Without one they are random. */
  seed?: string | undefined;
  /** SOURCE_DATE_EPOCH: every time in the image at most this, and the image reproducible. */
  epoch?: number | undefined;
  /** The raw image to write (appears whole or not at all). */
  output: string;
  /**
   * The prefix that runs a command as root (`sudo -n`) when pi-image itself is
   * not: the trees pi-gen prepared are root's, with directories only root can
   * read. What reads or changes the trees goes through it; the image file is
   * this process's own.
   */
  asRoot?: readonly string[];
  logger: Logger;
}

export interface AssembleResult {
  plan: DiskPlan;
  rootContentBytes: number;
}

/** Files whose BOOTDEV and ROOTDEV placeholders (pi-gen's) name the slot's partitions. */
const FSTAB = 'etc/fstab';
const CMDLINE = 'cmdline.txt';

/** export-image's ROOT_SIZE: du of the tree without the apt cache and the boot files. */
async function contentBytes(rootDir: string, options: AssembleOptions): Promise<number> {
  const r = await asRoot(
    options,
    'du',
    ['-x', '--apparent-size', '-s', '--exclude', 'var/cache/apt/archives', '--exclude', 'boot/firmware', '--block-size=1', rootDir],
    {},
  );
  const bytes = Number(r.stdout.split('\t')[0]);
  if (!Number.isSafeInteger(bytes)) throw new PiImageError('INTERNAL', `du printed "${r.stdout.trim()}" for ${rootDir}`);
  return bytes;
}

/**
 * Runs a command as root: directly when this process is, else through the
 * prefix, with the variables it needs given on the command line (sudo resets
 * the environment).
 */
function asRoot(options: AssembleOptions, cmd: string, args: readonly string[], vars: Record<string, string>): Promise<ExecResult> {
  const prefix = options.asRoot ?? [];
  if (prefix.length === 0) return execCapture(cmd, args, { logger: options.logger, env: { ...process.env, ...vars } });
  const pairs = Object.entries(vars).map(([k, v]) => `${k}=${v}`);
  return execCapture(prefix[0]!, [...prefix.slice(1), 'env', ...pairs, cmd, ...args], { logger: options.logger });
}

/**
 * Rewrites fstab or cmdline.txt in place (owner and mode kept): through the
 * root prefix when the tree is not this process's to write.
 */
async function rewriteTreeFile(path: string, text: string, scratch: string, options: AssembleOptions): Promise<void> {
  if ((options.asRoot ?? []).length === 0) return writeFile(path, text);
  const staged = join(scratch, 'tree-file');
  await writeFile(staged, text);
  // cp onto an existing file truncates and writes it: the file keeps its owner and mode.
  await asRoot(options, 'cp', ['--', staged, path], {});
}

/**
 * fstab or cmdline.txt, when there: a regular file only. Running as root, a
 * symlink (an absolute one to the host's own /etc/fstab) would have the
 * export read and rewrite a file outside the tree.
 */
async function readOptional(path: string, treeDir: string): Promise<string | undefined> {
  const st = await lstat(path).catch((e: unknown) => ((e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : Promise.reject(e as Error)));
  if (!st) return undefined;
  if (!st.isFile())
    throw new PiImageError('INPUT_INVALID', `${path} is not a regular file (a symlink or other): the export writes partition ids into it and follows no links`);
  // A linked directory on the way (etc -> /etc) would lead the rewrite out of the tree just as well.
  const [real, tree] = await Promise.all([realpath(path), realpath(treeDir)]);
  if (!real.startsWith(`${tree}/`))
    throw new PiImageError('INPUT_INVALID', `${path} leads out of ${treeDir} (to ${real}) through a linked directory: the export follows no links`);
  return readFile(path, 'utf8');
}

async function checkDir(path: string, what: string): Promise<void> {
  const s = await lstat(path).catch(() => undefined);
  if (!s?.isDirectory()) throw new PiImageError('INPUT_INVALID', `${what} ${path} is not a directory`);
}

/**
 * The regular files and directories of a boot directory, sorted by bytes (the
 * order content goes into the image). FAT holds neither links nor device
 * nodes: they are left out with a warning, as upstream's rsync to the vfat
 * mount leaves them, and never followed (as root, a link could bring any file
 * of this host into the image).
 */
async function sortedEntries(dir: string, logger: Logger): Promise<{ name: string; dir: boolean }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const kept = entries.filter((e) => {
    if (e.isFile() || e.isDirectory()) return true;
    logger.warn(`export: ${join(dir, e.name)} is not a regular file or directory (a link or other): left out of the FAT file system`);
    return false;
  });
  return kept.map((e) => ({ name: e.name, dir: e.isDirectory() })).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

export async function assembleImage(options: AssembleOptions): Promise<AssembleResult> {
  const { logger, layout } = options;
  await checkDir(options.rootDir, 'root file system');
  await checkDir(options.bootDir, 'boot files');
  const firmware = join(options.rootDir, 'boot/firmware');
  if ((await lstat(firmware).catch(() => undefined))?.isDirectory() && (await readdir(firmware)).length > 0) {
    throw new PiImageError(
      'INPUT_INVALID',
      `${firmware} is not empty: the boot files belong in the boot directory, the root file system keeps an empty mount point`,
    );
  }

  const rootContentBytes = await contentBytes(options.rootDir, options);
  const plan = planDisk(layout, rootContentBytes, diskIdentifiers(layout.table, layout.partitions.length, options.seed));
  logger.info(
    `export: ${layout.name} layout, ${plan.table === 'dos' ? 'MBR' : 'GPT'} ${plan.diskId}, ${(plan.imageBytes / 1048576).toFixed(0)} MiB: ` +
      plan.partitions.map((p) => `${p.number} ${p.label} ${p.fs} ${(p.bytes / 1048576).toFixed(0)} MiB (${p.role})`).join(', '),
  );

  const fstabPath = join(options.rootDir, FSTAB);
  const cmdlinePath = join(options.bootDir, CMDLINE);
  const fstab = await readOptional(fstabPath, options.rootDir);
  const cmdline = await readOptional(cmdlinePath, options.bootDir);
  if (fstab === undefined || !/\b(ROOTDEV|BOOTDEV)\b/.test(fstab))
    logger.warn(`export: ${fstabPath} has no BOOTDEV/ROOTDEV placeholder: fstab will not name the image's partitions`);
  if (cmdline === undefined || !/\bROOTDEV\b/.test(cmdline))
    logger.warn(`export: ${cmdlinePath} has no ROOTDEV placeholder: cmdline.txt will not name the root partition`);

  // mtools reads no user's ~/.mtoolsrc, and takes the FAT file systems mkfs.fat made as they are.
  // TZ=UTC: the FAT times mtools and mkfs.fat write are local times; the same epoch gives the same bytes anywhere.
  const vars: Record<string, string> = { MTOOLSRC: '/dev/null', MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };
  if (options.epoch !== undefined) {
    vars.SOURCE_DATE_EPOCH = String(options.epoch);
    vars.E2FSPROGS_FAKE_TIME = String(options.epoch);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...vars };

  const temp = temporaryPathFor(options.output);
  const scratch = await mkdtemp(join(tmpdir(), 'pi-image-export-'));
  // The trees are put back as they were however the export ends, an interruption included.
  const putBack = async (): Promise<void> => {
    if (fstab !== undefined) await rewriteTreeFile(fstabPath, fstab, scratch, options);
    if (cmdline !== undefined) await rewriteTreeFile(cmdlinePath, cmdline, scratch, options);
  };
  const unregister = registerCleanup(async () => {
    await putBack();
    await rm(temp, { force: true });
    await rm(scratch, { recursive: true, force: true });
  });
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.truncate(plan.imageBytes);
    } finally {
      await handle.close();
    }
    const sfdisk = execStream('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', temp], { logger, env, stdin: 'pipe' });
    sfdisk.child.stdin!.end(sfdiskScript(plan));
    await sfdisk.done;

    const slots = [
      { boot: 'boot', root: 'root' },
      { boot: 'boot-b', root: 'root-b' },
    ] as const;
    for (const slot of slots) {
      const boot = plan.partitions.find((p) => p.content === slot.boot);
      const root = plan.partitions.find((p) => p.content === slot.root);
      if (!boot || !root) continue;
      const name = (p: PlannedPartition): string => `PARTUUID=${p.ids.partUuid}`;
      if (fstab !== undefined)
        await rewriteTreeFile(fstabPath, fstab.replace(/\bBOOTDEV\b/g, name(boot)).replace(/\bROOTDEV\b/g, name(root)), scratch, options);
      if (cmdline !== undefined) await rewriteTreeFile(cmdlinePath, cmdline.replace(/\bROOTDEV\b/g, name(root)), scratch, options);
      await makeFileSystem(temp, boot, options.bootDir, env, vars, options);
      await makeFileSystem(temp, root, options.rootDir, env, vars, options);
    }
    for (const p of plan.partitions) {
      if (p.content === 'autoboot') {
        const bootA = plan.partitions.find((q) => q.content === 'boot')!;
        const bootB = plan.partitions.find((q) => q.content === 'boot-b')!;
        const dir = join(scratch, 'autoboot');
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'autoboot.txt'), autobootText(bootA.number, bootB.number));
        await makeFileSystem(temp, p, dir, env, vars, options);
      } else if (p.content === 'data' || p.content === 'empty') {
        await makeFileSystem(temp, p, undefined, env, vars, options);
      }
    }
    await rename(temp, options.output);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  } finally {
    await putBack();
    await rm(scratch, { recursive: true, force: true });
    unregister();
  }
  return { plan, rootContentBytes };
}

async function makeFileSystem(
  image: string,
  p: PlannedPartition,
  content: string | undefined,
  env: NodeJS.ProcessEnv,
  vars: Record<string, string>,
  options: AssembleOptions,
): Promise<void> {
  const { logger } = options;
  if (p.fs === 'none') return;
  const started = Date.now();
  if (p.fs === 'fat16' || p.fs === 'fat32') {
    const sector = p.start / 512;
    // mkfs.fat takes its times from SOURCE_DATE_EPOCH (env); --invariant would also fix the volume id, which -i sets.
    const args = ['-F', p.fs === 'fat16' ? '16' : '32', '-s', '1', '-n', p.label, '-i', p.ids.volumeId, '--offset', String(sector), '-h', String(sector)];
    await execCapture('mkfs.fat', [...args, image, String(p.bytes / 1024)], { logger, env });
    if (options.epoch !== undefined) await withImage(image, (h) => setFatLabelTime(h, p.start, p.bytes, options.epoch!, `${image} partition ${p.number}`));
    if (content) await copyIntoFat(`${image}@@${p.start}`, content, '::', vars, options);
  } else {
    const args = [
      '-q',
      '-F',
      '-t',
      'ext4',
      '-L',
      p.label,
      '-O',
      '^64bit,^huge_file',
      '-U',
      p.ids.fsUuid,
      '-E',
      `offset=${p.start},hash_seed=${p.ids.hashSeed}`,
    ];
    if (content) args.push('-d', content);
    // mkfs.ext4 -d reads the whole tree: as root, or directories only root may enter would be left out.
    await asRoot(options, 'mkfs.ext4', [...args, image, `${p.bytes / 1024}k`], vars);
    if (options.epoch !== undefined) await withImage(image, (h) => clampExt4Times(h, p.start, p.bytes, options.epoch!, `${image} partition ${p.number}`));
  }
  logger.info(`export: partition ${p.number} ${p.label} (${p.fs}${content ? `, from ${content}` : ''}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function withImage(image: string, work: (handle: FileHandle) => Promise<unknown>): Promise<void> {
  const handle = await open(image, 'r+');
  try {
    await work(handle);
  } finally {
    await handle.close();
  }
}

/**
 * Copies a directory tree into a FAT file system with mtools, in sorted order,
 * one mcopy per directory. Without an epoch file times are kept (-m); with
 * one, mtools stamps everything with SOURCE_DATE_EPOCH.
 */
async function copyIntoFat(target: string, dir: string, at: string, vars: Record<string, string>, options: AssembleOptions): Promise<void> {
  const entries = await sortedEntries(dir, options.logger);
  const files = entries.filter((e) => !e.dir).map((e) => join(dir, e.name));
  const dirs = entries.filter((e) => e.dir);
  const keep = options.epoch === undefined ? ['-m'] : [];
  if (files.length > 0) await asRoot(options, 'mcopy', ['-i', target, '-p', '-D', 'o', ...keep, ...files, `${at}/`], vars);
  for (const d of dirs) {
    await asRoot(options, 'mmd', ['-i', target, `${at}/${d.name}`], vars);
    await copyIntoFat(target, join(dir, d.name), `${at}/${d.name}`, vars, options);
  }
}
