/**
 * Block devices as the kernel describes them in sysfs (/sys/class/block):
 * whole disk or partition, size, read-only flag, model, serial, WWN, its
 * partitions and what holds them (device-mapper, md, LVM). Read straight from
 * the kernel, not from udev (a device has no udev database on many systems,
 * and none in a container). The sysfs root is a parameter so tests can read a
 * fixture tree; the default is the machine's own.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface BlockDevice {
  /** The kernel's name: nvme1n1, sda, loop3, nvme1n1p2. */
  name: string;
  /** The device node: /dev/NAME. */
  path: string;
  /** major:minor. */
  devno: string;
  sizeBytes: number;
  readOnly: boolean;
  removable: boolean;
  isPartition: boolean;
  /** For a partition: the disk it is on, and where on it the partition starts. */
  parent?: string | undefined;
  startBytes?: number | undefined;
  model?: string | undefined;
  serial?: string | undefined;
  wwn?: string | undefined;
  /** Partitions the kernel knows on this disk (names). */
  partitions: string[];
  /** Devices built on this one or on its partitions (dm-0, md127). */
  holders: string[];
  logicalBlockSize: number;
  /** How much one write-zeroes request may cover: 0 when the device cannot zero without writing. */
  writeZeroesMaxBytes: number;
  /** A loop device's backing file. */
  backingFile?: string | undefined;
}

export class BlockDevices {
  constructor(
    readonly sysRoot = '/sys',
    readonly devRoot = '/dev',
  ) {}

  private dir(name: string): string {
    return join(this.sysRoot, 'class', 'block', name);
  }

  private text(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  private list(path: string): string[] {
    try {
      return readdirSync(path).sort();
    } catch {
      return [];
    }
  }

  /** Every block device the kernel lists, by name. */
  names(): string[] {
    return this.list(join(this.sysRoot, 'class', 'block'));
  }

  /** The device with kernel name `name`, or undefined. */
  byName(name: string): BlockDevice | undefined {
    if (!/^[A-Za-z0-9._:-]+$/.test(name)) return undefined;
    const dir = this.dir(name);
    const devno = this.text(join(dir, 'dev'));
    if (devno === undefined) return undefined;
    const isPartition = this.text(join(dir, 'partition')) !== undefined;
    let parent: string | undefined;
    if (isPartition) {
      try {
        parent = basename(dirname(realpathSync(dir)));
      } catch {
        parent = undefined;
      }
    }
    const partitions = isPartition ? [] : this.list(dir).filter((entry) => this.text(join(dir, entry, 'partition')) !== undefined);
    const holders = [...this.list(join(dir, 'holders')), ...partitions.flatMap((p) => this.list(join(dir, p, 'holders')))];
    const device = join(dir, 'device');
    return {
      name,
      path: join(this.devRoot, name),
      devno,
      sizeBytes: Number(this.text(join(dir, 'size')) ?? 0) * 512,
      readOnly: this.text(join(dir, 'ro')) === '1',
      removable: this.text(join(dir, 'removable')) === '1',
      isPartition,
      parent,
      startBytes: isPartition ? Number(this.text(join(dir, 'start')) ?? 0) * 512 : undefined,
      model: nonEmpty(this.text(join(device, 'model'))),
      serial: nonEmpty(this.text(join(dir, 'serial')) ?? this.text(join(device, 'serial'))),
      wwn: nonEmpty(this.text(join(dir, 'wwid')) ?? this.text(join(device, 'wwid')) ?? this.text(join(dir, 'wwn'))),
      partitions,
      holders: [...new Set(holders)],
      logicalBlockSize: Number(this.text(join(dir, 'queue', 'logical_block_size')) ?? 512) || 512,
      writeZeroesMaxBytes: Number(this.text(join(dir, 'queue', 'write_zeroes_max_bytes')) ?? 0) || 0,
      backingFile: nonEmpty(this.text(join(dir, 'loop', 'backing_file'))),
    };
  }

  /** The device with device number major:minor. */
  byDevno(devno: string): BlockDevice | undefined {
    try {
      return this.byName(basename(realpathSync(join(this.sysRoot, 'dev', 'block', devno))));
    } catch {
      return undefined;
    }
  }

  /** The device a /dev node (or a link to one) is, by its device number. */
  byNode(path: string): BlockDevice | undefined {
    const st = statSync(path);
    if (!st.isBlockDevice()) return undefined;
    return this.byDevno(devnoOf(st.rdev));
  }

  /**
   * The whole disks a device lives on: itself for a disk, its disk for a
   * partition, and for a device-mapper or md device the disks under it.
   */
  disksUnder(name: string, seen = new Set<string>()): string[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const device = this.byName(name);
    if (!device) return [];
    if (device.isPartition) return device.parent ? [device.parent] : [];
    const slaves = this.list(join(this.dir(name), 'slaves'));
    if (slaves.length === 0) return [name];
    return [...new Set(slaves.flatMap((s) => this.disksUnder(s, seen)))];
  }
}

/** A stat rdev as major:minor (Linux's encoding). */
export function devnoOf(rdev: number): string {
  const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
  return `${major}:${minor >>> 0}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
