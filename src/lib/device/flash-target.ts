/**
 * The disk a flash writes: named by a path (/dev/nvme1n1, a /dev/disk/by-id
 * link, any symlink to one), a serial or a WWN; resolved once to the kernel's
 * device, checked against the disk policy, and resolved again just before it
 * is opened, so a disk swapped under the same name in between is not written.
 */
import { realpathSync, statSync } from 'node:fs';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { devnoOf, type BlockDevice, type BlockDevices } from './block-devices';
import { readDiskLabels } from './disk-labels';
import { checkDisk, describeDisk, type DiskPolicy, type TargetFacts } from './disk-policy';
import { mountDevnos, readSystemUsage, SYSTEM_MOUNT_POINTS, type SystemUsage } from './system-usage';

export type TargetSpec = { path: string } | { serial: string } | { wwn: string };

export function describeSpec(spec: TargetSpec): string {
  return 'path' in spec ? spec.path : 'serial' in spec ? `the disk with serial ${spec.serial}` : `the disk with WWN ${spec.wwn}`;
}

/** Finds the device a spec names; nothing is opened. */
export function resolveTarget(spec: TargetSpec, devices: BlockDevices): BlockDevice {
  if ('path' in spec) {
    let real: string;
    try {
      real = realpathSync(spec.path);
    } catch (e) {
      throw new PiImageError('DISK_NOT_FOUND', `${spec.path}: no such disk (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
    }
    const st = statSync(real);
    if (!st.isBlockDevice()) {
      throw new PiImageError(
        'DISK_NOT_BLOCK_DEVICE',
        `${spec.path}${real !== spec.path ? ` (${real})` : ''} is not a block device: give a disk such as /dev/nvme1n1`,
      );
    }
    const device = devices.byDevno(devnoOf(st.rdev));
    if (!device)
      throw new PiImageError('DISK_NOT_FOUND', `${spec.path} (${real}) is a block device the kernel does not list in ${devices.sysRoot}/class/block`);
    return device;
  }
  const wanted = 'serial' in spec ? spec.serial : spec.wwn;
  const matches = devices
    .names()
    .map((n) => devices.byName(n))
    .filter((d): d is BlockDevice => d !== undefined && !d.isPartition && ('serial' in spec ? d.serial === wanted : d.wwn === wanted));
  if (matches.length === 0) throw new PiImageError('DISK_NOT_FOUND', `no disk has ${'serial' in spec ? 'serial' : 'WWN'} ${wanted}`);
  if (matches.length > 1) {
    throw new PiImageError(
      'DISK_NOT_FOUND',
      `${matches.length} disks have ${'serial' in spec ? 'serial' : 'WWN'} ${wanted} (${matches.map((d) => d.path).join(', ')}): name one by path`,
    );
  }
  return matches[0]!;
}

/** Everything the disk policy decides on: labels, mounts, swap and the running system, for this disk. */
export async function gatherTargetFacts(
  device: BlockDevice,
  devices: BlockDevices,
  logger: Logger,
  usage: SystemUsage = readSystemUsage(),
): Promise<TargetFacts> {
  const onThisDisk = (devno: string): string | undefined => {
    const d = devices.byDevno(devno);
    if (!d) return undefined;
    const disks = devices.disksUnder(d.name);
    // A partition given as the target: what stands anywhere on its disk counts too.
    const disk = device.isPartition ? (device.parent ?? device.name) : device.name;
    return disks.includes(disk) || d.name === device.name ? d.path : undefined;
  };
  const mounts: TargetFacts['mounts'] = [];
  const systemMounts: string[] = [];
  for (const m of usage.mounts) {
    for (const devno of mountDevnos(m)) {
      const on = onThisDisk(devno);
      if (!on) continue;
      mounts.push({ device: on, mountPoint: m.mountPoint });
      if (SYSTEM_MOUNT_POINTS.includes(m.mountPoint)) systemMounts.push(m.mountPoint);
    }
  }
  const swap = usage.swapDevnos.flatMap((d) => onThisDisk(d) ?? []);
  const disk = device.isPartition && device.parent ? (devices.byName(device.parent) ?? device) : device;
  const labels = await readDiskLabels(disk, devices, logger);
  return { device, labels, mounts, swap, systemMounts: [...new Set(systemMounts)] };
}

/** Resolves, gathers facts and applies the policy: the disk, checked, or a coded refusal naming it. */
export async function checkedTarget(
  spec: TargetSpec,
  policy: DiskPolicy,
  devices: BlockDevices,
  logger: Logger,
): Promise<{ device: BlockDevice; facts: TargetFacts }> {
  const device = resolveTarget(spec, devices);
  const facts = await gatherTargetFacts(device, devices, logger);
  checkDisk(facts, policy);
  return { device, facts };
}

/** The same disk still: same device number, size and serial under the path first resolved. */
export function recheckTarget(spec: TargetSpec, before: BlockDevice, devices: BlockDevices): void {
  let now: BlockDevice;
  try {
    now = resolveTarget(spec, devices);
  } catch (e) {
    throw new PiImageError('DISK_CHANGED', `${describeDisk(before)} went away before it was opened`, { cause: e });
  }
  if (now.devno !== before.devno || now.sizeBytes !== before.sizeBytes || now.serial !== before.serial) {
    throw new PiImageError('DISK_CHANGED', `${describeSpec(spec)} is now ${describeDisk(now)}, not the ${describeDisk(before)} checked: nothing written`);
  }
}
