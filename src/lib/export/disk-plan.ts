/**
 * Where each partition of an exported image starts and how big it is, with
 * export-image's arithmetic: everything aligned to 8 MiB, the first partition
 * at 8 MiB, a root partition sized from its content plus 20 % plus 200 MiB.
 * Pure: the content size and the identifiers come in, the plan goes out.
 */
import type { DiskIdentifiers, PartitionIdentifiers } from './disk-identifiers';
import { PARTITION_ROLES } from '../image/partition-roles';
import { MiB, type Layout, type PartitionSpec } from './layouts';

export const ALIGN = 8 * MiB;
/** Room after the last partition of a GPT disk for the backup table (33 sectors; 1 MiB keeps the end aligned). */
export const GPT_TAIL = MiB;

export interface PlannedPartition extends PartitionSpec {
  number: number;
  start: number;
  bytes: number;
  role: string;
  ids: PartitionIdentifiers;
}

export interface DiskPlan {
  layout: Layout['name'];
  table: Layout['table'];
  diskId: string;
  imageBytes: number;
  partitions: PlannedPartition[];
}

const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** export-image: ROOT_MARGIN = ROOT_SIZE * 0.2 + 200 MiB (bc, truncated), then aligned up. */
export function rootPartitionBytes(contentBytes: number): number {
  return alignUp(contentBytes + Math.floor(contentBytes / 5) + 200 * MiB);
}

export function planDisk(layout: Layout, rootContentBytes: number, ids: DiskIdentifiers): DiskPlan {
  let start = ALIGN;
  const partitions = layout.partitions.map((p, i) => {
    const bytes = p.size === 'auto' ? rootPartitionBytes(rootContentBytes) : alignUp(p.size);
    const planned: PlannedPartition = { ...p, number: i + 1, start, bytes, role: PARTITION_ROLES[p.content], ids: ids.partitions[i]! };
    start += bytes;
    return planned;
  });
  return { layout: layout.name, table: layout.table, diskId: ids.diskId, imageBytes: start + (layout.table === 'gpt' ? GPT_TAIL : 0), partitions };
}

const GPT_TYPES = { fat: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' };

function isFat(p: PartitionSpec): boolean {
  return p.fs === 'fat16' || p.fs === 'fat32' || (p.fs === 'none' && p.content === 'boot-b');
}

/** The sfdisk script that writes the plan's table (sfdisk reads it on stdin). */
export function sfdiskScript(plan: DiskPlan): string {
  const head = plan.table === 'dos' ? [`label: dos`, `label-id: 0x${plan.diskId}`] : [`label: gpt`, `label-id: ${plan.diskId.toUpperCase()}`];
  const lines = plan.partitions.map((p) => {
    const fields = [`start=${p.start / 512}`, `size=${p.bytes / 512}`];
    if (plan.table === 'dos') fields.push(`type=${isFat(p) ? 'c' : '83'}`);
    else fields.push(`type=${isFat(p) ? GPT_TYPES.fat : GPT_TYPES.linux}`, `uuid=${p.ids.partUuid.toUpperCase()}`, `name=${p.label}`);
    return fields.join(', ');
  });
  return [...head, 'unit: sectors', '', ...lines, ''].join('\n');
}
