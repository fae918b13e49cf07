/**
 * Which disks may be flashed: a pure decision over facts gathered about a
 * target (target-facts.ts). A disk is refused when it is a partition, read-only,
 * the running system's, in use (mounted, swap, held by device-mapper, md or
 * LVM), protected (a protected file-system or partition label anywhere on it,
 * or a protected serial), or smaller than the image. Every reason found is
 * reported; the error's code is the first in that order.
 */
import { PiImageError, type ErrorCode } from '../core/errors';
import type { BlockDevice } from './block-devices';
import type { DiskLabels } from './disk-labels';

/** The DATA disk's label in the OurBox product contract: never flashed unless the user overrides the protection list. */
export const DEFAULT_PROTECTED_LABELS: readonly string[] = ['OURBOX_DATA'];

export interface DiskPolicy {
  protectedLabels: readonly string[];
  protectedSerials: readonly string[];
  /** Bytes the image needs on the disk. */
  imageSize: number;
}

export interface TargetFacts {
  device: BlockDevice;
  labels: DiskLabels;
  /** Mount points on this disk (any partition, or the disk), with the device mounted. */
  mounts: { device: string; mountPoint: string }[];
  /** Devices on this disk in use as swap. */
  swap: string[];
  /** Mount points of the running system (/, /boot, …) that live on this disk. */
  systemMounts: string[];
}

export interface DiskRefusal {
  code: ErrorCode;
  reason: string;
}

const GiB = 1024 ** 3;

/** "/dev/nvme1n1 (Samsung SSD 980, serial S64DNX0R123456, 931.5 GiB)": what a person checks against the label on the drive. */
export function describeDisk(device: BlockDevice): string {
  const size = device.sizeBytes >= GiB ? `${(device.sizeBytes / GiB).toFixed(1)} GiB` : `${(device.sizeBytes / 1024 ** 2).toFixed(1)} MiB`;
  const parts = [device.model ?? 'no model', `serial ${device.serial ?? 'none'}`, size];
  if (device.backingFile) parts.push(`loop on ${device.backingFile}`);
  return `${device.path} (${parts.join(', ')})`;
}

function labelsOn(labels: DiskLabels): { where: string; kind: 'file system label' | 'partition label'; value: string }[] {
  return labels.partitions.flatMap((p) => {
    const where = p.number === undefined ? 'the whole disk' : `partition ${p.number}`;
    return [
      ...(p.label !== undefined ? [{ where, kind: 'file system label' as const, value: p.label }] : []),
      ...(p.partLabel !== undefined ? [{ where, kind: 'partition label' as const, value: p.partLabel }] : []),
    ];
  });
}

export function diskRefusals(facts: TargetFacts, policy: DiskPolicy): DiskRefusal[] {
  const { device } = facts;
  const out: DiskRefusal[] = [];
  if (device.isPartition) {
    out.push({ code: 'DISK_NOT_WHOLE', reason: `it is partition ${device.name} of ${device.parent ?? 'a disk'}, not a whole disk: give the disk itself` });
  }
  if (device.readOnly) out.push({ code: 'DISK_READ_ONLY', reason: 'the kernel has it read-only' });
  if (facts.systemMounts.length > 0) {
    out.push({ code: 'DISK_SYSTEM', reason: `the running system lives on it (${facts.systemMounts.join(', ')})` });
  }
  if (facts.mounts.length > 0) {
    out.push({ code: 'DISK_IN_USE', reason: `mounted: ${facts.mounts.map((m) => `${m.device} on ${m.mountPoint}`).join(', ')}` });
  }
  if (facts.swap.length > 0) out.push({ code: 'DISK_IN_USE', reason: `used as swap: ${facts.swap.join(', ')}` });
  if (device.holders.length > 0) {
    out.push({ code: 'DISK_IN_USE', reason: `held by ${device.holders.join(', ')} (device-mapper, md or LVM)` });
  }
  const protectedLabels = new Set(policy.protectedLabels.map((l) => l.toUpperCase()));
  for (const l of labelsOn(facts.labels)) {
    if (protectedLabels.has(l.value.toUpperCase())) {
      out.push({ code: 'DISK_PROTECTED', reason: `${l.where} has the protected ${l.kind} ${l.value}` });
    }
  }
  if (device.serial !== undefined && policy.protectedSerials.some((s) => s.toUpperCase() === device.serial!.toUpperCase())) {
    out.push({ code: 'DISK_PROTECTED', reason: `its serial ${device.serial} is protected` });
  }
  if (device.sizeBytes < policy.imageSize) {
    out.push({ code: 'DISK_TOO_SMALL', reason: `it holds ${device.sizeBytes} bytes; the image needs ${policy.imageSize}` });
  }
  return out;
}

/** Throws the first refusal's code with every reason, naming the disk; returns when there is none. */
export function checkDisk(facts: TargetFacts, policy: DiskPolicy): void {
  const refusals = diskRefusals(facts, policy);
  const first = refusals[0];
  if (!first) return;
  throw new PiImageError(first.code, `refusing to write ${describeDisk(facts.device)}: ${refusals.map((r) => r.reason).join('; ')}`);
}
