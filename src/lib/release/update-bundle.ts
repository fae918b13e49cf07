/**
 * The update bundle of an A/B image: slot A's boot and root file systems, each
 * compressed with its block map, as files of the release directory (so listed
 * in the manifest and covered by the signature). It is what an updater writes
 * into the inactive slot's partitions. The file systems name slot A's
 * partitions (cmdline.txt's root=, fstab's lines): the bundle records those
 * PARTUUIDs, which an updater replaces with the target slot's own. Each image
 * is read once: hashed, mapped and compressed in the same pass.
 */
import { createReadStream } from 'node:fs';
import type { Logger } from '../core/logger';
import { renderBmap } from '../image/bmap';
import type { ImageInspection } from '../image/inspect';
import { rawImagePass } from '../image/raw-image-pass';
import type { ReleaseWriter } from './release-dir';

export interface UpdateBundlePart {
  content: 'boot' | 'root';
  /** The partition of the image the file system comes from. */
  partition: number;
  filesystem: string;
  /** The PARTUUID this slot's files name for this partition. */
  partuuid: string;
  file: string;
  bmap: string;
  raw: { size: number; sha256: string };
}

export interface UpdateBundle {
  slot: 'A';
  parts: UpdateBundlePart[];
}

export async function writeUpdateBundle(options: {
  writer: ReleaseWriter;
  name: string;
  /** The raw image on disk (the file itself, or the sparse copy of a compressed one). */
  diskPath: string;
  contents: ImageInspection;
  level: number;
  threads: number;
  logger: Logger;
}): Promise<UpdateBundle | null> {
  const { contents, writer, logger } = options;
  const slot = contents.slots?.a;
  if (slot?.root === undefined) return null;
  const parts: UpdateBundlePart[] = [];
  for (const [content, number] of [
    ['boot', slot.boot],
    ['root', slot.root],
  ] as const) {
    const p = contents.partitionTable.partitions.find((q) => q.number === number)!;
    const fsName = p.filesystem.type === 'vfat' ? 'vfat' : p.filesystem.type;
    const file = `${options.name}.slot-${content}.${fsName}.xz`;
    const bmap = `${options.name}.slot-${content}.bmap`;
    logger.info(`update bundle: partition ${number} (${content}, ${fsName}) → ${file}`);
    const pass = await rawImagePass(createReadStream(options.diskPath, { start: p.startBytes, end: p.startBytes + p.sizeBytes - 1 }), {
      logger,
      sourceName: `${options.diskPath} partition ${number}`,
      expectedSize: p.sizeBytes,
      xz: { path: writer.path(file), level: options.level, threads: options.threads },
    });
    writer.record(file, content === 'boot' ? 'update-boot' : 'update-root', pass.compressed!);
    await writer.writeText(bmap, 'update-bmap', renderBmap(pass.bmap));
    parts.push({
      content,
      partition: number,
      filesystem: fsName,
      partuuid: p.partuuid.toLowerCase(),
      file,
      bmap,
      raw: { size: pass.raw.size, sha256: pass.raw.sha256 },
    });
  }
  return { slot: 'A', parts };
}
