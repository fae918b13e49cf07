/**
 * Loop devices for the flash tests: real block devices over files the test
 * made, and nothing else. Every device attached and everything mounted is
 * recorded and undone by `release()`, which tests call in afterEach/afterAll,
 * so a failing test still detaches what it attached.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isRoot, missingTools } from './tools';

export const LOOP_TOOLS = ['losetup', 'blkid', 'blockdev', 'partx', 'sfdisk', 'mkfs.ext4', 'mount', 'umount'];

/** Why loop devices cannot be used here, or undefined when they can. */
export function loopDevicesUnavailable(): string | undefined {
  if (!isRoot()) return 'loop devices need root';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (no loop driver)';
  const missing = missingTools(LOOP_TOOLS);
  return missing.length > 0 ? `missing: ${missing.join(', ')}` : undefined;
}

export class LoopDevices {
  private readonly attached: string[] = [];
  private readonly mounted: string[] = [];

  /** Attaches `file` (which the test made) as a loop device, scanning partitions; read-only when asked. */
  attach(file: string, options: { readOnly?: boolean } = {}): string {
    if (!file.startsWith('/tmp/')) throw new Error(`refusing to attach ${file}: tests attach only files they made under /tmp`);
    const dev = execFileSync('losetup', ['--find', '--show', '--partscan', ...(options.readOnly ? ['--read-only'] : []), file], { encoding: 'utf8' }).trim();
    this.attached.push(dev);
    return dev;
  }

  /** Attaches one byte range of `file` (a partition of an image the test made), read-only unless asked: no partition table scan needed. */
  attachRange(file: string, offset: number, size: number, options: { writable?: boolean } = {}): string {
    if (!file.startsWith('/tmp/')) throw new Error(`refusing to attach ${file}: tests attach only files they made under /tmp`);
    const readOnly = options.writable ? [] : ['--read-only'];
    const dev = execFileSync('losetup', ['--find', '--show', ...readOnly, '--offset', String(offset), '--sizelimit', String(size), file], {
      encoding: 'utf8',
    }).trim();
    this.attached.push(dev);
    return dev;
  }

  mount(device: string, dir: string): void {
    execFileSync('mount', [device, dir]);
    this.mounted.push(dir);
  }

  /** Unmounts and detaches everything, in reverse; keeps going past failures and reports them at the end. */
  release(): void {
    const failures: string[] = [];
    for (const dir of this.mounted.splice(0).reverse()) {
      try {
        execFileSync('umount', [dir]);
      } catch (e) {
        failures.push(`umount ${dir}: ${(e as Error).message}`);
      }
    }
    for (const dev of this.attached.splice(0).reverse()) {
      try {
        execFileSync('losetup', ['--detach', dev]);
      } catch (e) {
        failures.push(`losetup -d ${dev}: ${(e as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(failures.join('; '));
  }
}

/** The sha256 of a whole device (or file): to prove a disk was not touched. */
export function deviceSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Makes `device` (a 64 MiB loop device the test attached) the OurBox DATA disk: an MBR with one
 * partition holding an ext4 labelled OURBOX_DATA, made at its offset (no partition node needed).
 */
export function makeDataDisk(device: string): void {
  execFileSync('sfdisk', ['-q', device], { input: 'label: dos\n\nstart=2048, type=83\n' });
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'OURBOX_DATA', '-E', `offset=${1024 * 1024}`, device, `${62 * 1024}`]);
}
