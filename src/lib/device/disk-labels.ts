/**
 * The labels a disk holds, found on the disk itself rather than in udev's
 * database or the kernel's partition list (either may be missing or stale):
 * the partition table read from the disk's first sectors (MBR or GPT, with
 * GPT partition names), the kernel's partitions too, and each partition's
 * file system label probed by `blkid -p` (low-level probing of the
 * superblock, any file system blkid knows), and a file system on the whole
 * disk. A label anywhere on the disk counts.
 */
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import type { Logger } from '../core/logger';
import { FileByteSource } from '../image/byte-source';
import { readPartitionTable, type PartitionTable } from '../image/partition-table';
import type { BlockDevice, BlockDevices } from './block-devices';

export interface DiskPartitionFacts {
  /** 1-based, or undefined for a file system on the whole disk. */
  number?: number | undefined;
  startBytes: number;
  sizeBytes: number;
  /** GPT partition name (PARTLABEL). */
  partLabel?: string | undefined;
  /** File system label (LABEL) and type, as blkid probes them. */
  label?: string | undefined;
  fsType?: string | undefined;
}

export interface DiskLabels {
  table?: 'mbr' | 'gpt' | undefined;
  /** What the disk's own table says, or why it could not be read. */
  tableError?: string | undefined;
  partitions: DiskPartitionFacts[];
}

/** `blkid -p -o export` output as KEY=VALUE pairs (blkid escapes what needs it). */
export function parseBlkidExport(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).replace(/\\(.)/g, '$1');
  }
  return out;
}

async function probe(path: string, logger: Logger, range?: { offset: number; size: number }): Promise<Record<string, string>> {
  const args = ['-p', '-o', 'export', ...(range ? ['--offset', String(range.offset), '--size', String(range.size)] : []), path];
  const r = await execCapture('blkid', args, { logger, allowFailure: true });
  // 2: nothing found there; anything else but 0 is a probe that failed, which must not pass for "no label".
  if (r.code === 2) return {};
  if (r.code !== 0)
    throw new PiImageError('IO_FAILED', `blkid could not probe ${path}${range ? ` at ${range.offset}` : ''}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return parseBlkidExport(r.stdout);
}

/** Every label on `disk`: its own partition table's partitions, the kernel's, and the whole disk. */
export async function readDiskLabels(disk: BlockDevice, devices: BlockDevices, logger: Logger): Promise<DiskLabels> {
  const out: DiskLabels = { partitions: [] };
  let table: PartitionTable | undefined;
  const reader = await FileByteSource.openDevice(disk.path, disk.sizeBytes);
  try {
    table = await readPartitionTable(reader);
    out.table = table.scheme;
  } catch (e) {
    out.tableError = (e as Error).message;
  } finally {
    await reader.close();
  }
  const seen = new Set<string>();
  const add = (p: DiskPartitionFacts): void => {
    const key = `${p.startBytes}:${p.sizeBytes}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.partitions.push(p);
  };
  for (const p of table?.partitions ?? []) {
    if (p.sizeBytes === 0 || p.startBytes + p.sizeBytes > disk.sizeBytes) continue;
    const fs = await probe(disk.path, logger, { offset: p.startBytes, size: p.sizeBytes });
    add({
      number: p.number,
      startBytes: p.startBytes,
      sizeBytes: p.sizeBytes,
      partLabel: p.name === undefined || p.name === '' ? undefined : p.name,
      label: fs.LABEL,
      fsType: fs.TYPE,
    });
  }
  for (const name of disk.partitions) {
    const part = devices.byName(name);
    if (!part) continue;
    const start = part.startBytes ?? 0;
    const fs = await probe(part.path, logger);
    add({
      number: Number(/(\d+)$/.exec(name)?.[1] ?? 0) || undefined,
      startBytes: start,
      sizeBytes: part.sizeBytes,
      partLabel: fs.PART_ENTRY_NAME,
      label: fs.LABEL,
      fsType: fs.TYPE,
    });
  }
  const whole = await probe(disk.path, logger);
  if (whole.LABEL !== undefined || (whole.TYPE !== undefined && whole.PTTYPE === undefined)) {
    add({ startBytes: 0, sizeBytes: disk.sizeBytes, label: whole.LABEL, fsType: whole.TYPE });
  }
  return out;
}
