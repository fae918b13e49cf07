/**
 * arm64 emulation for builds on x86 hosts: binfmt_misc mounted with the static
 * qemu interpreters registered, and `qemu-aarch64` / `qemu-arm` on PATH (pi-gen
 * checks for those names; Debian's qemu-user-static installs *-static ones, so
 * a shim directory of symlinks is put first on PATH). On ARM hosts nothing is
 * set up.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import type { Logger } from '../core/logger';
import { isArmHost } from './preflight';

export interface EmulationOptions {
  arch: string;
  /** Prefix for commands that need root: [] when root, ['sudo'] otherwise. */
  asRoot: string[];
  /** Install qemu-user-static and binfmt-support with apt-get when missing (CI runners). */
  install: boolean;
  shimDir: string;
  logger: Logger;
}

const STATIC_DIRS = ['/usr/bin', '/usr/local/bin'];

function findStatic(name: string): string | undefined {
  for (const dir of STATIC_DIRS) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** Returns directories to put first on PATH for the build (empty on ARM hosts). */
export async function ensureEmulation(options: EmulationOptions): Promise<string[]> {
  const { logger } = options;
  if (isArmHost(options.arch)) {
    logger.info(`host is ${options.arch}: no emulation needed`);
    return [];
  }
  const root = (cmd: string, args: string[]) =>
    execCapture(options.asRoot[0] ?? cmd, options.asRoot.length > 0 ? [...options.asRoot.slice(1), cmd, ...args] : args, { logger });

  if (!findStatic('qemu-aarch64-static')) {
    if (!options.install) {
      throw new PiImageError('TOOL_MISSING', 'qemu-aarch64-static is not installed: sudo apt-get install qemu-user-static binfmt-support');
    }
    logger.info('installing qemu-user-static and binfmt-support for arm64 emulation');
    await root('apt-get', ['update', '-qq']);
    await root('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', 'qemu-user-static', 'binfmt-support']);
  }
  if (!existsSync('/proc/sys/fs/binfmt_misc/status')) {
    logger.info('mounting binfmt_misc');
    await root('mount', ['-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']);
  }
  for (const arch of ['aarch64', 'arm']) {
    const entry = `/proc/sys/fs/binfmt_misc/qemu-${arch}`;
    if (!existsSync(entry)) {
      if (existsSync('/usr/sbin/update-binfmts')) await root('update-binfmts', ['--enable', `qemu-${arch}`]);
      else if (existsSync('/usr/lib/systemd/systemd-binfmt')) await root('/usr/lib/systemd/systemd-binfmt', []);
    }
  }
  if (!existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64')) {
    throw new PiImageError('TOOL_MISSING', 'qemu-aarch64 could not be registered with binfmt_misc: sudo update-binfmts --enable qemu-aarch64');
  }
  await rm(options.shimDir, { recursive: true, force: true });
  await mkdir(options.shimDir, { recursive: true });
  for (const arch of ['aarch64', 'arm']) {
    const target = findStatic(`qemu-${arch}-static`);
    if (target) await symlink(target, join(options.shimDir, `qemu-${arch}`));
  }
  logger.info('arm64 emulation ready (qemu-user-static via binfmt_misc)');
  return [options.shimDir];
}
