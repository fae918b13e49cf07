/**
 * The boot kit: a generic arm64 kernel and a base initramfs (busybox, the
 * virtio and file-system modules, /init and the probe), made from Debian's
 * packages and cached by their digests. A run adds its own small cpio (the
 * probe's settings and the product's checks) after the base: the kernel
 * unpacks both.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import type { Logger } from '../core/logger';
import { cpioArchive, withParents, type CpioEntry } from './cpio';
import { collect, readDebData } from './deb-package';
import { fetchDebianPackages, type DebianArchive } from './debian-archive';
import { loadOrder, moduleKey, readModuleInfo, type ModuleInfo } from './kernel-module';
import { INIT_SCRIPT, PROBE_SCRIPT, PROBE_UNIT, PROBE_VERSION } from './probe-scripts';

/** What the initramfs loads: virtio disks, network and entropy, ext4 for the root and DATA, vfat for the boot partition. */
export const WANTED_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'virtio_rng', 'ext4', 'crc32c_generic', 'vfat', 'nls_cp437', 'nls_ascii'];
/** Loaded when the kernel has them (built in or not at all elsewhere): the rest must be there. */
// virtio_net only serves --network: a kernel without it still boots the test, without a network.
const OPTIONAL_MODULES = ['virtio_net', 'virtio_rng', 'crc32c_generic', 'nls_cp437', 'nls_ascii'];
const MAX_MODULE_BYTES = 32 * 1024 * 1024;

export interface BootKit {
  kernel: string;
  initrd: string;
  kernelVersion: string;
  /** Where the kernel came from: package name, version and sha256, for the evidence. */
  source: { kernel: string; busybox: string };
}

const MODULE_FILE = /^(?:usr\/)?lib\/modules\/([^/]+)\/kernel\/.*\/([^/]+)\.ko(\.xz|\.zst)?$/;

/** A module file's bytes, decompressed when the package compresses them. */
async function moduleBytes(bytes: Buffer, compression: string | undefined, where: string, logger: Logger, scratch: string): Promise<Buffer> {
  if (!compression) return bytes;
  const packed = join(scratch, `module${compression}`);
  await writeFile(packed, bytes);
  const tool = compression === '.xz' ? 'xz' : 'zstd';
  await execCapture(tool, ['--decompress', '--force', '--quiet', packed], { logger }).catch((e: unknown) => {
    if (e instanceof PiImageError && e.code === 'TOOL_MISSING') throw e;
    throw new PiImageError('INPUT_INVALID', `${where} cannot be decompressed`, { cause: e });
  });
  const plain = join(scratch, 'module');
  const out = await readFile(plain);
  await rm(plain, { force: true });
  return out;
}

/**
 * Kernel image and the modules `wanted` needs, from a Debian kernel package:
 * one pass for the kernel, modules.builtin and the first modules; one more
 * for each level of dependencies not yet read.
 */
export async function kernelFromDeb(
  deb: string,
  wanted: readonly string[],
  scratch: string,
  logger: Logger,
): Promise<{ kernel: Buffer; version: string; modules: { name: string; bytes: Buffer }[] }> {
  let kernel: Buffer | undefined;
  let version: string | undefined;
  let builtin = new Set<string>();
  const info = new Map<string, ModuleInfo>();
  const bytes = new Map<string, Buffer>();
  const missing = new Set<string>();
  let pending = new Set(wanted.map(moduleKey));
  for (let pass = 0; pending.size > 0; pass++) {
    if (pass > 8) throw new PiImageError('INPUT_INVALID', `${deb}: module dependencies deeper than 8 levels`);
    const found: { name: string; data: Buffer; compression: string | undefined; path: string }[] = [];
    const asked = pending;
    await readDebData(
      deb,
      (entry) => {
        if (entry.type !== 'file') return Promise.resolve(undefined);
        if (pass === 0 && entry.path.startsWith('boot/vmlinuz-')) {
          version = entry.path.slice('boot/vmlinuz-'.length);
          return Promise.resolve(collect(64 * 1024 * 1024, `${deb}: ${entry.path}`, (b) => (kernel = b)));
        }
        if (pass === 0 && /^(?:usr\/)?lib\/modules\/[^/]+\/modules\.builtin$/.test(entry.path)) {
          return Promise.resolve(
            collect(4 * 1024 * 1024, `${deb}: ${entry.path}`, (b) => {
              builtin = new Set(
                b
                  .toString('utf8')
                  .split('\n')
                  .filter(Boolean)
                  .map((l) => moduleKey(l.replace(/^.*\//, '').replace(/\.ko$/, ''))),
              );
            }),
          );
        }
        const m = MODULE_FILE.exec(entry.path);
        if (!m || !asked.has(moduleKey(m[2]!))) return Promise.resolve(undefined);
        return Promise.resolve(
          collect(MAX_MODULE_BYTES, `${deb}: ${entry.path}`, (data) => found.push({ name: moduleKey(m[2]!), data, compression: m[3], path: entry.path })),
        );
      },
      logger,
    );
    if (pass === 0 && (!kernel || !version)) throw new PiImageError('INPUT_INVALID', `${deb} holds no boot/vmlinuz-*: not a kernel package`);
    const next = new Set<string>();
    for (const f of found) {
      const plain = await moduleBytes(f.data, f.compression, `${deb}: ${f.path}`, logger, scratch);
      const mi = readModuleInfo(plain, `${deb}: ${f.path}`);
      info.set(f.name, mi);
      bytes.set(f.name, plain);
      for (const d of mi.depends) next.add(d);
    }
    for (const a of asked) if (!info.has(a)) missing.add(a);
    pending = new Set([...next].filter((n) => !info.has(n) && !builtin.has(n) && !missing.has(n)));
  }
  const present = wanted.map(moduleKey).filter((w) => info.has(w) || builtin.has(w) || !OPTIONAL_MODULES.includes(w));
  const order = loadOrder(present, info, builtin);
  return { kernel: kernel!, version: version!, modules: order.map((name) => ({ name, bytes: bytes.get(name)! })) };
}

/** The base initramfs: busybox, the modules in load order, /init, the probe. */
export function baseInitramfs(busybox: Buffer, modules: readonly { name: string; bytes: Buffer }[]): Buffer {
  const entries: CpioEntry[] = [
    { type: 'file', path: 'init', data: INIT_SCRIPT, mode: 0o755 },
    { type: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { type: 'dir', path: 'root' },
    { type: 'file', path: 'modules/order', data: modules.map((m) => `${m.name}\n`).join('') },
    ...modules.map((m): CpioEntry => ({ type: 'file', path: `modules/${m.name}.ko`, data: m.bytes })),
    { type: 'file', path: 'probe/probe.sh', data: PROBE_SCRIPT, mode: 0o755 },
    { type: 'file', path: 'probe/systemd/pi-image-probe.service', data: PROBE_UNIT },
    { type: 'symlink', path: 'probe/systemd/multi-user.target.wants/pi-image-probe.service', target: '../pi-image-probe.service' },
  ];
  return cpioArchive(withParents(entries));
}

export interface BootKitOptions {
  archive: DebianArchive;
  /** A kernel package (.deb) to use instead of the suite's linux-image-arm64. */
  kernelDeb?: string | undefined;
}

/** The kit for `options`, made once and cached under the archive's cache directory. */
export async function prepareBootKit(options: BootKitOptions): Promise<BootKit> {
  const { archive } = options;
  const logger = archive.logger;
  const wanted = [...(options.kernelDeb ? [] : [{ name: 'linux-image-arm64', follow: /^linux-image-\d[^ ]*-arm64$/ }]), { name: 'busybox-static' }];
  const fetched = await fetchDebianPackages(archive, wanted);
  const busyboxDeb = fetched.find((f) => f.pkg.name === 'busybox-static')!;
  const kernelPkg = fetched.find((f) => f.pkg.name !== 'busybox-static');
  const kernelDeb = options.kernelDeb ?? kernelPkg!.path;
  const kernelId = kernelPkg ? `${kernelPkg.pkg.name} ${kernelPkg.pkg.version} (sha256 ${kernelPkg.pkg.sha256})` : `${options.kernelDeb}`;
  const kernelDigest = kernelPkg
    ? kernelPkg.pkg.sha256
    : createHash('sha256')
        .update(await readFile(kernelDeb))
        .digest('hex');
  const key = createHash('sha256')
    .update(`${PROBE_VERSION}\n${kernelDigest}\n${busyboxDeb.pkg.sha256}\n${WANTED_MODULES.join(',')}`)
    .digest('hex')
    .slice(0, 24);
  const dir = join(archive.cacheDir, 'boot-kit', key);
  const source = { kernel: kernelId, busybox: `busybox-static ${busyboxDeb.pkg.version} (sha256 ${busyboxDeb.pkg.sha256})` };
  if (existsSync(join(dir, 'kit.json'))) {
    const kit = JSON.parse(await readFile(join(dir, 'kit.json'), 'utf8')) as { kernelVersion: string };
    return { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.cpio'), kernelVersion: kit.kernelVersion, source };
  }
  logger.info(`making the boot kit from ${source.kernel} and ${source.busybox}`);
  const work = `${dir}.partial-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const k = await kernelFromDeb(kernelDeb, WANTED_MODULES, work, logger);
    let busybox: Buffer | undefined;
    await readDebData(
      busyboxDeb.path,
      (e) => Promise.resolve(e.type === 'file' && /^(usr\/)?bin\/busybox$/.test(e.path) ? collect(16 * 1024 * 1024, e.path, (b) => (busybox = b)) : undefined),
      logger,
    );
    if (!busybox) throw new PiImageError('INPUT_INVALID', `${busyboxDeb.path} holds no bin/busybox`);
    await writeFile(join(work, 'vmlinuz'), k.kernel);
    await writeFile(join(work, 'initrd.cpio'), baseInitramfs(busybox, k.modules));
    await writeFile(join(work, 'kit.json'), `${JSON.stringify({ kernelVersion: k.version, modules: k.modules.map((m) => m.name), ...source }, null, 2)}\n`);
    // A directory without kit.json is one a crash left half made.
    if (!existsSync(join(dir, 'kit.json'))) await rm(dir, { recursive: true, force: true });
    try {
      await rename(work, dir);
    } catch (e) {
      // Another run made the same kit meanwhile: use it.
      if (!existsSync(join(dir, 'kit.json'))) throw new PiImageError('IO_FAILED', `cannot write the boot kit ${dir}: ${(e as Error).message}`, { cause: e });
      await rm(work, { recursive: true, force: true });
    }
    return { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.cpio'), kernelVersion: k.version, source };
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
}
