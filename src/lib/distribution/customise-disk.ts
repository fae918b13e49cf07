/**
 * `pi-image customise --disk DISK` and `flash --hostname …/--user-data …`: the
 * first-boot seed (boot-seed.ts) written into the boot partition of a flashed
 * disk, never mounted. The disk is checked by the same policy as a flash (a
 * partition, a disk in use or mounted, the running system's, a protected disk
 * such as the one holding OURBOX_DATA, a read-only disk: each refused with its
 * code before anything is read), checked again when it is claimed, and held
 * exclusively (O_EXCL) while the files are written, so nothing mounts it
 * meanwhile. The writes are flushed and the disk's cached pages dropped before
 * the read-back, so the files compared are the ones on the disk.
 */
import { PiImageError } from '../core/errors';
import { FileByteSource } from '../image/byte-source';
import { BlockDevices } from '../device/block-devices';
import { DiskIo, dropDeviceCache } from '../device/disk-io';
import { describeDisk, type DiskPolicy } from '../device/disk-policy';
import { checkedTarget, recheckTarget, type TargetSpec } from '../device/flash-target';
import { writeSeed, type SeedOptions, type SeedResult, type SeedTarget } from './boot-seed';

export interface DiskSeedOptions extends SeedOptions {
  disk: TargetSpec;
  policy: Omit<DiskPolicy, 'imageSize'>;
  devices?: BlockDevices | undefined;
}

async function claimedDisk(options: DiskSeedOptions): Promise<{ target: SeedTarget; release: () => Promise<void> }> {
  const { logger } = options;
  const devices = options.devices ?? new BlockDevices();
  // Nothing is written beyond the partitions already there: no size to need.
  const { device } = await checkedTarget(options.disk, { ...options.policy, imageSize: 0 }, devices, logger);
  recheckTarget(options.disk, device, devices);
  const claim = await DiskIo.open(device.path, { write: true, blockSize: device.logicalBlockSize, logger });
  const target: SeedTarget = {
    name: describeDisk(device),
    path: device.path,
    open: () => FileByteSource.openDevice(device.path, device.sizeBytes),
    settle: async () => {
      try {
        await claim.sync();
      } catch (e) {
        throw new PiImageError('IO_FAILED', `${describeDisk(device)}: the customisation could not be flushed to the disk: ${(e as Error).message}`, {
          cause: e,
        });
      }
      await dropDeviceCache(device.path, logger);
    },
  };
  return { target, release: () => claim.close() };
}

export async function customiseDisk(options: DiskSeedOptions): Promise<SeedResult> {
  const { target, release } = await claimedDisk(options);
  try {
    return await writeSeed(target, options);
  } finally {
    await release();
  }
}
