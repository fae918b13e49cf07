/**
 * `pi-image netboot`: a verified release's image as what a network-booted
 * Raspberry Pi needs, read out of the image without mounting it. The root
 * file system as a tarball (or a directory tree to export as it is) with an
 * NFS root's fstab; the boot partition, byte for byte, as a TFTP tree (one
 * directory per board, or its root) with a cmdline.txt whose root is on NFS;
 * the server's dnsmasq and exports snippets, a README, and netboot.json,
 * which lists every file with its digest and ties the tree to the image's.
 *
 * The release is checked (its signature with a signer policy, else its
 * manifest) and the decompressed image's digest compared with the manifest's
 * before anything is read out of it. Everything is written into a staging
 * directory that becomes --out only when complete. Names come from the image
 * and are checked: a boot file named "..", a name holding "/", or two entries
 * of one name are refused, and a directory tree is written only from the
 * archive, whose paths are those checked names.
 */
import { link, mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { PiImageError } from '../core/errors';
import { execStream } from '../core/exec';
import { digestBytes, type FileDigest } from '../core/file-digest';
import { hasZstd, openCompressedSink, openFileSink } from '../core/file-sink';
import type { Logger } from '../core/logger';
import { SliceByteSource, type ByteSource } from '../image/byte-source';
import { Ext4FileSystem } from '../image/ext4';
import { FatFileSystem } from '../image/fat';
import { inspectImage, type ImageInspection } from '../image/inspect';
import { streamImageOnce } from '../image/random-access-image';
import { stageOutputDir } from '../release/output-dir';
import { fileOfRole, releasePath } from '../release/release-dir';
import { openCheckedRelease } from '../signing/checked-release';
import type { SignerPolicy } from '../signing/signer-policy';
import { dnsmasqConf, exportsLine, netbootCmdline, netbootFstab, type NetbootRequest } from './netboot-config';
import { netbootReadme } from './netboot-readme';
import { writeRootfsArchive, type RootfsArchiveSummary } from './rootfs-archive';

export interface NetbootExportOptions {
  releaseDir: string;
  out: string;
  request: NetbootRequest;
  policy?: SignerPolicy | undefined;
  trustedRoot?: unknown;
  /** Where the image is decompressed to (default: beside --out, where the export's space is). */
  workDir?: string | undefined;
  logger: Logger;
}

export interface NetbootFile {
  path: string;
  size: number;
  sha256: string;
}

export interface NetbootResult {
  out: string;
  release: { name: string; version: string; channel: string; checkedAgainst: 'signature' | 'manifest'; signer?: string };
  image: FileDigest;
  rootfs: { path: string; format: NetbootRequest['rootfs']; digest?: FileDigest } & RootfsArchiveSummary;
  /** The boot partition's files as the image holds them (cmdline.txt too), paths from its root. */
  boot: NetbootFile[];
  boards: { tftp: string; nfsroot: string; cmdline: string }[];
  fstabDropped: string[];
}

const MiB = 1024 * 1024;
const ROOTFS_FILE = { 'tar.gz': 'rootfs.tar.gz', 'tar.zst': 'rootfs.tar.zst', dir: 'rootfs' } as const;

/** A boot file's name as the TFTP tree gets it: one path component, nothing a file system or TFTP server reads otherwise. */
function checkBootName(name: string, path: string, image: string): void {
  // eslint-disable-next-line no-control-regex
  if (name === '' || name === '.' || name === '..' || /[/\\\u0000-\u001f]/.test(name))
    throw new PiImageError(
      'IMAGE_CORRUPT',
      `${image}: its boot partition holds an entry named ${JSON.stringify(name)} (at ${JSON.stringify(path)}), which no FAT file system writes`,
    );
}

function partitionOf(disk: ByteSource, inspection: ImageInspection, which: 'boot' | 'root'): SliceByteSource {
  const number = inspection[which]?.partition;
  const p = inspection.partitionTable.partitions.find((q) => q.number === number);
  if (!p) throw new PiImageError('IMAGE_NOT_DISK', `${disk.name}: no ${which === 'boot' ? 'FAT boot' : 'ext4 root'} partition found`);
  return new SliceByteSource(disk, p.startBytes, p.sizeBytes, `${disk.name} partition ${p.number}`);
}

/** The boot partition into tftp/ (per board, files linked after the first), each board with its own cmdline.txt. */
async function writeTftpTree(
  disk: ByteSource,
  inspection: ImageInspection,
  request: NetbootRequest,
  staging: string,
  logger: Logger,
): Promise<{ files: NetbootFile[]; boards: NetbootResult['boards'] }> {
  const part = partitionOf(disk, inspection, 'boot');
  const fat = await FatFileSystem.open(part, 2 * part.size + 64 * MiB);
  const entries = await fat.walkEntries();
  const seen = new Set<string>();
  for (const e of entries) {
    // Walked depth first: the parents' names are checked before their children's.
    checkBootName(e.entry.name, e.path, disk.name);
    // FAT names are case-insensitive: two entries of one name are a damaged directory.
    const key = e.path.toLowerCase();
    if (seen.has(key)) throw new PiImageError('IMAGE_CORRUPT', `${disk.name}: its boot partition holds ${e.path} twice`);
    seen.add(key);
  }
  const cmdlineEntry = entries.find((e) => e.path.toLowerCase() === '/cmdline.txt' && !e.directory);
  if (!cmdlineEntry)
    throw new PiImageError('IMAGE_CORRUPT', `${disk.name}: its boot partition has no cmdline.txt (the kernel command line to put the root on NFS in)`);
  const imageCmdline = await fat.readFile(cmdlineEntry.path, 64 * 1024);

  const tftp = join(staging, 'tftp');
  await mkdir(tftp);
  const files: NetbootFile[] = [];
  const boards: NetbootResult['boards'] = [];
  let first: string | undefined;
  for (const board of request.boards) {
    const base = board.tftpDir ? join(tftp, board.tftpDir) : tftp;
    if (board.tftpDir) await mkdir(base);
    for (const e of entries) {
      const target = join(base, ...e.path.split('/').slice(1));
      if (e.directory) {
        await mkdir(target);
        continue;
      }
      if (e === cmdlineEntry) continue;
      if (first !== undefined) {
        await link(join(first, ...e.path.split('/').slice(1)), target);
        continue;
      }
      const sink = openFileSink(target);
      try {
        for await (const chunk of fat.stream(e.entry)) await sink.write(chunk);
      } catch (err) {
        sink.abort();
        throw err;
      }
      const digest = await sink.end();
      if (digest.size !== e.size) throw new PiImageError('IMAGE_CORRUPT', `${disk.name}: boot file ${e.path} gave ${digest.size} bytes, not ${e.size}`);
      files.push({ path: e.path, size: digest.size, sha256: digest.sha256 });
    }
    if (first === undefined) {
      files.push({ path: cmdlineEntry.path, ...digestBytes(imageCmdline!) });
    }
    const cmdline = netbootCmdline(imageCmdline!.toString('utf8'), request.server, board.nfsRoot);
    await writeFile(join(base, cmdlineEntry.path.slice(1)), cmdline, { flag: 'wx' });
    boards.push({ tftp: board.tftpDir ? `tftp/${board.tftpDir}` : 'tftp', nfsroot: `${request.server}:${board.nfsRoot}`, cmdline: cmdline.trim() });
    first ??= base;
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  logger.info(`boot partition: ${files.length} files into tftp/ for ${request.boards.length} board(s)`);
  return { files, boards };
}

/** Where the root file system's archive goes: a compressed file, or GNU tar extracting it into a directory. */
interface RootfsSink {
  write(chunk: Buffer): Promise<void>;
  /** The compressed file's digest; none for a directory tree. */
  end(): Promise<FileDigest | undefined>;
  abort(): void;
  /** Archive bytes written so far. */
  raw(): number;
}

async function rootfsSink(format: NetbootRequest['rootfs'], path: string, logger: Logger): Promise<RootfsSink> {
  if (format !== 'dir') {
    const sink = openCompressedSink(path, format === 'tar.gz' ? 'gzip' : 'zstd');
    return { write: (chunk) => sink.write(chunk), end: () => sink.end(), abort: () => sink.abort(), raw: () => sink.rawBytes };
  }
  await mkdir(path, { mode: 0o755 });
  // The archive's paths are checked names, each once, never under a symlink (the walk descends into directories only);
  // GNU tar refuses ".." and absolute names besides.
  const tar = execStream(
    'tar',
    ['--extract', '--file', '-', '--directory', path, '--numeric-owner', '--same-owner', '--preserve-permissions', '--xattrs', '--xattrs-include=*'],
    { stdin: 'pipe', logger },
  );
  tar.child.stdout.resume();
  const stdin = tar.child.stdin!;
  let raw = 0;
  return {
    raw: () => raw,
    async write(chunk) {
      raw += chunk.length;
      if (!stdin.write(chunk)) await Promise.race([once(stdin, 'drain'), tar.done]);
    },
    async end() {
      stdin.end();
      await tar.done;
      return undefined;
    },
    abort() {
      void tar.stop();
    },
  };
}

async function writeRootfs(
  disk: ByteSource,
  inspection: ImageInspection,
  request: NetbootRequest,
  staging: string,
  logger: Logger,
): Promise<{ rootfs: NetbootResult['rootfs']; dropped: string[] }> {
  const part = partitionOf(disk, inspection, 'root');
  // Every file's data is read once, its metadata a few times: a budget past that is a loop.
  const fs = await Ext4FileSystem.open(part, 4 * part.size + 1024 * MiB);
  const replace = new Map<string, Buffer>();
  let dropped: string[] = [];
  const fstabInode = await fs.resolve('/etc/fstab', false);
  if (!fstabInode) logger.warn(`${disk.name}: the root file system has no /etc/fstab; nothing to adjust`);
  else if ((fstabInode.mode & 0o170000) !== 0o100000)
    throw new PiImageError('INPUT_INVALID', `${disk.name}: /etc/fstab is not a regular file, so its local root line cannot be taken out for an NFS root`);
  else {
    const bootMount = inspection.root?.fstab?.find((e) => e.vfstype === 'vfat' && e.file.startsWith('/boot'))?.file;
    const adjusted = netbootFstab((await fs.readInode(fstabInode, 1 << 20)).toString('utf8'), bootMount);
    dropped = adjusted.dropped;
    replace.set('/etc/fstab', Buffer.from(adjusted.text, 'utf8'));
    logger.info(`/etc/fstab: ${dropped.length ? `dropped ${dropped.map((d) => JSON.stringify(d)).join(', ')}` : 'no local root or boot line'}`);
  }
  const name = ROOTFS_FILE[request.rootfs];
  const sink = await rootfsSink(request.rootfs, join(staging, name), logger);
  let reported = 0;
  let summary: RootfsArchiveSummary;
  let digest: FileDigest | undefined;
  try {
    summary = await writeRootfsArchive(fs, {
      name: disk.name,
      logger,
      replace,
      write: async (chunk) => {
        await sink.write(chunk);
        if (sink.raw() - reported >= 64 * MiB) {
          reported = sink.raw();
          logger.progress(`root file system into ${name}`, reported, undefined);
        }
      },
    });
    digest = await sink.end();
  } catch (e) {
    sink.abort();
    throw e;
  }
  logger.info(
    `root file system: ${summary.entries} entries, ${summary.files} files (${(summary.bytes / MiB).toFixed(0)} MiB), ${summary.hardLinks} hard links into ${name}`,
  );
  return { rootfs: { path: name, format: request.rootfs, ...(digest ? { digest } : {}), ...summary }, dropped };
}

export async function exportNetboot(options: NetbootExportOptions): Promise<NetbootResult> {
  const { logger, request } = options;
  if (request.rootfs === 'dir' && process.getuid?.() !== 0)
    throw new PiImageError(
      'PREFLIGHT_FAILED',
      '--rootfs dir writes the files with their owners, device nodes and capabilities, which needs root: run as root, or write a tarball (tar.gz, tar.zst)',
    );
  if (request.rootfs === 'tar.zst' && !hasZstd())
    throw new PiImageError('TOOL_MISSING', `--rootfs tar.zst needs Node 22.15 or later (this is ${process.version}): use --rootfs tar.gz`);
  const staged = await stageOutputDir(options.out, { replace: false, noForce: true, inputs: [options.releaseDir], label: '--out' });
  try {
    const checked = await openCheckedRelease(options.releaseDir, { policy: options.policy, trustedRoot: options.trustedRoot, logger });
    const { release } = checked;
    const image = fileOfRole(release, 'image');
    if (!image) throw new PiImageError('INPUT_INVALID', `${release.dir}: manifest.json lists no image`);
    const streamed = await streamImageOnce(releasePath(release, image.path), 'xz', { logger, workDir: options.workDir ?? dirname(resolve(options.out)) });
    let result: NetbootResult;
    try {
      const expected = release.manifest.image.raw;
      if (streamed.pass.raw.sha256 !== expected.sha256 || streamed.pass.raw.size !== expected.size)
        throw new PiImageError(
          'FILE_MODIFIED',
          `${image.path} in ${release.dir} decompresses to ${streamed.pass.raw.size} bytes, sha256 ${streamed.pass.raw.sha256}; the ${checked.checkedAgainst === 'signature' ? 'signed ' : ''}manifest says ${expected.size} bytes, ${expected.sha256}`,
        );
      // Messages name the release's image, not the temporary copy it is read from.
      const disk = new SliceByteSource(streamed.disk, 0, streamed.disk.size, releasePath(release, image.path));
      const inspection = await inspectImage(disk);
      const tftp = await writeTftpTree(disk, inspection, request, staged.path, logger);
      const { rootfs, dropped } = await writeRootfs(disk, inspection, request, staged.path, logger);
      const { name, version, channel } = release.manifest;
      await writeFile(join(staged.path, 'dnsmasq.conf'), dnsmasqConf({ tftpRoot: request.tftpRoot, subnet: request.subnet, interface: request.interface }), {
        flag: 'wx',
      });
      await writeFile(join(staged.path, 'exports'), request.boards.map((b) => exportsLine(b.nfsRoot, request.clients)).join(''), { flag: 'wx' });
      await writeFile(
        join(staged.path, 'README.md'),
        netbootReadme({ request, release: { name, version, imageSha256: expected.sha256 }, rootfsFile: rootfs.path }),
        { flag: 'wx' },
      );
      result = {
        out: options.out,
        release: { name, version, channel, checkedAgainst: checked.checkedAgainst, ...(checked.signer ? { signer: checked.signer } : {}) },
        image: { size: expected.size, sha256: expected.sha256 },
        rootfs,
        boot: tftp.files,
        boards: tftp.boards,
        fstabDropped: dropped,
      };
      await writeFile(join(staged.path, 'netboot.json'), `${JSON.stringify(result, null, 2)}\n`, { flag: 'wx' });
    } finally {
      await streamed.close();
    }
    await staged.commit();
    return result;
  } catch (e) {
    await staged.discard();
    throw e;
  }
}
