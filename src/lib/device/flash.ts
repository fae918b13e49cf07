/**
 * Flashing a checked source onto a checked disk:
 *  1. the target is resolved and refused by the disk policy if it must be
 *     (a partition, in use, the running system's, protected, read-only, too
 *     small), then confirmed by the caller (a person types the serial back);
 *  2. optionally the image's span is zeroed by the device (write-zeroes), so
 *     blocks the image leaves empty read as zeros;
 *  3. the target is resolved again and opened exclusively; its first and
 *     last MiB are zeroed: from here until the end it holds no partition
 *     table (primary or backup), so an interrupted flash leaves nothing that
 *     boots or mounts half-written;
 *  4. the mapped ranges are written in large aligned writes, each range
 *     checked against the block map as it passes; the image's first MiB (its
 *     partition table) is held back;
 *  5. after a flush, a GPT's backup is moved to the disk's end, the held-back
 *     first MiB is written, flushed again, and the kernel re-reads the table;
 *  6. the mapped ranges are read back from the disk (bypassing the page
 *     cache) and compared with the block map; the partitions and labels are
 *     compared with what the image holds.
 */
import { createHash } from 'node:crypto';
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import type { Logger } from '../core/logger';
import { openRegularFile } from '../core/file-digest';
import { openRawImage } from '../image/decompress';
import { inspectImage, type ImageInspection } from '../image/inspect';
import { FileByteSource } from '../image/byte-source';
import { mappedBytes, piecesFromFile, piecesFromStream, rangesOf, type ByteRange, type PieceStream } from '../image/mapped-bytes';
import { BlockDevices, type BlockDevice } from './block-devices';
import { DiskIo, dropDeviceCache, IO_CHUNK, rereadPartitions } from './disk-io';
import { describeDisk, type DiskPolicy, type TargetFacts } from './disk-policy';
import { checkedTarget, recheckTarget, type TargetSpec } from './flash-target';
import type { FlashSource } from './flash-source';
import { relocateGpt } from './gpt-backup';
import { WrittenDigests, type WrittenRange } from './written-digests';
import { summariseSigner, type SignerSummary } from '../signing/signer-certificate';

/** The image's first MiB holds its partition table (MBR, or GPT with its entries): written last. */
export const HELD_BACK = 1024 * 1024;

export interface FlashPlan {
  source: FlashSource;
  device: BlockDevice;
  facts: TargetFacts;
  ranges: ByteRange[];
  bytesToWrite: number;
}

export interface FlashOptions {
  source: FlashSource;
  target: TargetSpec;
  policy: Omit<DiskPolicy, 'imageSize'>;
  /** Shows the plan and returns when the user agreed; throws CONFIRMATION_REQUIRED otherwise. */
  confirm: (plan: FlashPlan) => Promise<void>;
  /** Read the written ranges back and compare (default true). */
  verify: boolean;
  /** Have the device zero the image's span first, where it can without writing the zeros. */
  zeroUnmapped: boolean;
  logger: Logger;
  devices?: BlockDevices | undefined;
  /** Called once the image is on the disk, before it is read back (a front end can say so; tests inject faults here). */
  onWritten?: ((device: BlockDevice) => Promise<void>) | undefined;
}

export interface FlashReceipt {
  schemaVersion: 1;
  startedAt: string;
  finishedAt: string;
  source: {
    input: string;
    image: string;
    compression: string;
    imageSize: number;
    imageSha256: string | null;
    bmap: string | null;
    release: { name: string; version: string; channel: string } | null;
    checkedAgainst: FlashSource['checkedAgainst'];
    signer: SignerSummary | null;
  };
  target: { path: string; name: string; model: string | null; serial: string | null; wwn: string | null; sizeBytes: number };
  written: { bytes: number; ranges: number; zeroedFirst: boolean; gptBackupMoved: boolean; directIo: boolean; seconds: number };
  verification: {
    readBack: 'passed' | 'skipped';
    bytesRead: number;
    seconds: number;
    partitions: { number: number; startBytes: number; sizeBytes: number; label: string | null; type: string }[];
  };
}

const seconds = (from: number): number => Math.round((Date.now() - from) / 100) / 10;

export async function flash(options: FlashOptions): Promise<FlashReceipt> {
  const { source, logger } = options;
  const devices = options.devices ?? new BlockDevices();
  const startedAt = new Date();
  const { device, facts } = await checkedTarget(options.target, { ...options.policy, imageSize: source.imageSize }, devices, logger);
  const ranges = rangesOf(source.bmap, source.imageSize, source.imageSha256);
  const plan: FlashPlan = { source, device, facts, ranges, bytesToWrite: mappedBytes(ranges) };
  await options.confirm(plan);

  let zeroedFirst = false;
  if (options.zeroUnmapped) zeroedFirst = await zeroSpan(device, source.imageSize, logger);

  recheckTarget(options.target, device, devices);
  const io = await DiskIo.open(device.path, { write: true, blockSize: device.logicalBlockSize, logger });
  const writeStart = Date.now();
  let gptBackupMoved = false;
  let written: WrittenDigests | undefined;
  let held = Buffer.alloc(0);
  try {
    logger.info(`writing ${describeDisk(device)}${io.direct ? '' : ' (through the page cache: O_DIRECT is not available)'}`);
    await wipeTables(io, device.sizeBytes);
    held = Buffer.alloc(Math.min(HELD_BACK, io.padded(source.imageSize)));
    const stream = await openPieces(source, ranges, logger);
    written = new WrittenDigests(ranges, held.length);
    try {
      await writePieces(io, written.track(stream.pieces), held, plan.bytesToWrite, logger);
      await stream.done();
    } catch (e) {
      await stream.abort();
      throw e;
    }
    const whole = stream.digest();
    if (whole && source.imageSha256 && whole.sha256 !== source.imageSha256) {
      throw new PiImageError(
        'IMAGE_CORRUPT',
        `${source.imagePath}: the raw image's sha256 is ${whole.sha256}, not the ${source.imageSha256} the release records`,
      );
    }
    await io.sync();
    if (device.sizeBytes > source.imageSize) {
      const backup = relocateGpt(held, device.sizeBytes);
      if (backup) {
        await writeBytes(io, backup.bytes, backup.offset);
        gptBackupMoved = true;
        logger.info(`GPT backup header moved to the end of the disk (sector ${(device.sizeBytes / 512 - 1).toFixed(0)})`);
      }
    }
    // Last: the partition table. Until this write the disk holds none.
    await writeBytes(io, held, 0);
    await io.sync();
  } finally {
    await io.close();
  }
  const writeSeconds = seconds(writeStart);
  logger.info(`written: ${plan.bytesToWrite} bytes in ${ranges.length} ranges, ${writeSeconds} s`);
  await rereadPartitions(device.path, logger);
  await options.onWritten?.(device);

  let readBackResult: FlashReceipt['verification']['readBack'] = 'skipped';
  let bytesRead = 0;
  const verifyStart = Date.now();
  if (options.verify) {
    bytesRead = await readBack(device, held, written.written, source.imagePath, logger);
    readBackResult = 'passed';
    logger.info(`read back and matched: ${bytesRead} bytes, ${seconds(verifyStart)} s`);
  } else {
    logger.warn('the disk was not read back (--no-verify): what reached it is unchecked');
  }
  const partitions = await checkPartitions(device, source, logger);

  const signer = source.verified?.signer;
  return {
    schemaVersion: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    source: {
      input: source.input,
      image: source.imagePath,
      compression: source.compression,
      imageSize: source.imageSize,
      imageSha256: source.imageSha256 ?? null,
      bmap: source.bmapPath ?? null,
      release: source.release ? { name: source.release.name, version: source.release.version, channel: source.release.channel } : null,
      checkedAgainst: source.checkedAgainst,
      signer: signer ? summariseSigner(signer) : null,
    },
    target: {
      path: device.path,
      name: device.name,
      model: device.model ?? null,
      serial: device.serial ?? null,
      wwn: device.wwn ?? null,
      sizeBytes: device.sizeBytes,
    },
    written: { bytes: plan.bytesToWrite, ranges: ranges.length, zeroedFirst, gptBackupMoved, directIo: io.direct, seconds: writeSeconds },
    verification: { readBack: readBackResult, bytesRead, seconds: seconds(verifyStart), partitions },
  };
}

/** Zeroes the image's span with the device's write-zeroes (blkdiscard -z), where the device does that without writing every zero. */
async function zeroSpan(device: BlockDevice, imageSize: number, logger: Logger): Promise<boolean> {
  if (device.writeZeroesMaxBytes === 0) {
    logger.warn(`${device.path} cannot zero blocks without writing them: blocks the image leaves empty keep their old contents (as with bmaptool)`);
    return false;
  }
  const length = Math.ceil(imageSize / device.logicalBlockSize) * device.logicalBlockSize;
  logger.info(`zeroing the image's ${length} bytes on ${device.path} (write-zeroes)`);
  await execCapture('blkdiscard', ['--zeroout', '--offset', '0', '--length', String(length), device.path], { logger });
  return true;
}

/** Zeroes the first and last MiB: the primary and any backup partition table, including a stale one from an earlier, larger layout. */
async function wipeTables(io: DiskIo, diskBytes: number): Promise<void> {
  const zeros = io.buffers[0];
  zeros.fill(0);
  const span = Math.min(HELD_BACK, diskBytes);
  await io.writeAt(zeros, span, 0);
  if (diskBytes > 2 * HELD_BACK) {
    const tail = Math.floor((diskBytes - HELD_BACK) / io.blockSize) * io.blockSize;
    await io.writeAt(zeros, diskBytes - tail, tail);
  }
  await io.sync();
}

/** Writes bytes at an aligned offset, through the aligned buffers. */
async function writeBytes(io: DiskIo, bytes: Buffer, offset: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += IO_CHUNK) {
    const part = bytes.subarray(at, at + IO_CHUNK);
    const buffer = io.buffers[0];
    part.copy(buffer);
    await io.writeAt(buffer, part.length, offset + at);
  }
}

interface OpenedPieces extends PieceStream {
  done(): Promise<void>;
  abort(): Promise<void>;
}

async function openPieces(source: FlashSource, ranges: ByteRange[], logger: Logger): Promise<OpenedPieces> {
  if (source.compression === 'none') {
    const handle = await openRegularFile(source.imagePath);
    const read = async (offset: number, length: number): Promise<Buffer> => {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buf, 0, length, offset);
      if (bytesRead < length)
        throw new PiImageError('IMAGE_CORRUPT', `${source.imagePath}: ends at ${offset + bytesRead}, inside its block map's ranges (truncated?)`);
      return buf;
    };
    const stream = piecesFromFile(read, ranges, source.imagePath);
    return { ...stream, done: () => handle.close(), abort: () => handle.close().catch(() => undefined) };
  }
  const raw = await openRawImage(source.imagePath, source.compression, logger);
  const stream = piecesFromStream(raw.stream, ranges, source.imageSize, source.imagePath);
  return { ...stream, done: () => raw.done, abort: () => raw.abort() };
}

/**
 * Collects pieces into aligned chunks and writes them, one chunk filling while
 * the other is written; the first HELD_BACK bytes go into `held` instead.
 */
async function writePieces(io: DiskIo, pieces: AsyncIterable<{ offset: number; data: Buffer }>, held: Buffer, total: number, logger: Logger): Promise<void> {
  let current: 0 | 1 = 0;
  let buffer = io.buffers[current];
  let start = 0;
  let length = 0;
  let inflight: Promise<void> | undefined;
  let written = 0;
  const flush = async (): Promise<void> => {
    if (length === 0) return;
    await inflight;
    inflight = io.writeAt(buffer, length, start);
    // Keep the promise's failure for the next await, never unhandled.
    inflight.catch(() => undefined);
    written += length;
    logger.progress('writing', written, total);
    current = current === 0 ? 1 : 0;
    buffer = io.buffers[current];
    length = 0;
  };
  for await (const piece of pieces) {
    let { offset, data } = piece;
    if (offset < held.length) {
      const part = Math.min(data.length, held.length - offset);
      data.copy(held, offset, 0, part);
      written += part;
      offset += part;
      data = data.subarray(part);
    }
    while (data.length > 0) {
      if (length > 0 && offset !== start + length) await flush();
      if (length === 0) {
        if (offset % io.blockSize !== 0) throw new PiImageError('INTERNAL', `a range starts at ${offset}, not on a ${io.blockSize}-byte block`);
        start = offset;
      }
      const take = Math.min(data.length, IO_CHUNK - length);
      data.copy(buffer, length, 0, take);
      length += take;
      offset += take;
      data = data.subarray(take);
      if (length === IO_CHUNK) await flush();
    }
  }
  await flush();
  await inflight;
}

/** Reads every range back from the disk and compares its sha256; DISK_VERIFY_FAILED names the first that differs. */
/** Reads the head and every written range back from the disk (bypassing the page cache) and compares them with what was written. */
async function readBack(device: BlockDevice, head: Buffer, ranges: readonly WrittenRange[], imagePath: string, logger: Logger): Promise<number> {
  await dropDeviceCache(device.path, logger);
  const io = await DiskIo.open(device.path, { write: false, blockSize: device.logicalBlockSize, logger });
  const total = head.length + ranges.reduce((n, r) => n + (r.end - r.start), 0);
  let read = 0;
  const differ = (start: number, end: number, detail: string): PiImageError =>
    new PiImageError(
      'DISK_VERIFY_FAILED',
      `${describeDisk(device)}: bytes ${start}–${end - 1} read back differ from what was written from ${imagePath}${detail}: the disk did not keep what was written`,
    );
  try {
    for (let at = 0; at < head.length; at += IO_CHUNK) {
      const length = Math.min(IO_CHUNK, head.length - at);
      const data = await io.readAt(io.buffers[0], length, at);
      if (data.length < length || !data.equals(head.subarray(at, at + length))) throw differ(at, at + length, ' (the partition table area)');
      read += length;
    }
    for (const range of ranges) {
      const hash = createHash('sha256');
      for (let at = range.start; at < range.end; at += IO_CHUNK) {
        const length = Math.min(IO_CHUNK, range.end - at);
        const data = await io.readAt(io.buffers[0], length, at);
        if (data.length < length) throw new PiImageError('DISK_VERIFY_FAILED', `${device.path} ended at ${at + data.length} while reading back`);
        hash.update(data);
        read += length;
        logger.progress('reading back', read, total);
      }
      const sha256 = hash.digest('hex');
      if (sha256 !== range.sha256) throw differ(range.start, range.end, ` (sha256 ${sha256}, written ${range.sha256})`);
    }
  } finally {
    await io.close();
  }
  return read;
}

/** The disk's partitions and labels after writing, checked against what the image holds (its release's inspection, when known). */
async function checkPartitions(device: BlockDevice, source: FlashSource, logger: Logger): Promise<FlashReceipt['verification']['partitions']> {
  const reader = await FileByteSource.openDevice(device.path, device.sizeBytes);
  let found: ImageInspection;
  try {
    found = await inspectImage(reader);
  } catch (e) {
    throw new PiImageError('DISK_VERIFY_FAILED', `${describeDisk(device)}: the written disk cannot be read back as an image: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    await reader.close();
  }
  const partitions = found.partitionTable.partitions.map((p) => ({
    number: p.number,
    startBytes: p.startBytes,
    sizeBytes: p.sizeBytes,
    label: p.filesystem.label ?? null,
    type: p.filesystem.type,
  }));
  const expected = source.expected?.partitionTable.partitions;
  if (expected) {
    const describe = (list: { number: number; startBytes: number; sizeBytes: number; label: string | null }[]): string =>
      list.map((p) => `${p.number}:${p.startBytes}+${p.sizeBytes}:${p.label ?? '-'}`).join(' ');
    const want = expected.map((p) => ({ number: p.number, startBytes: p.startBytes, sizeBytes: p.sizeBytes, label: p.filesystem.label ?? null }));
    if (describe(want) !== describe(partitions)) {
      throw new PiImageError('DISK_VERIFY_FAILED', `${describeDisk(device)}: its partitions (${describe(partitions)}) are not the image's (${describe(want)})`);
    }
  }
  if (!found.boot || !found.root) {
    throw new PiImageError(
      'DISK_VERIFY_FAILED',
      `${describeDisk(device)}: no ${!found.boot ? 'FAT boot partition' : 'ext root file system'} on the written disk`,
    );
  }
  logger.info(`partitions: ${partitions.map((p) => `${p.number} ${p.type}${p.label ? ` "${p.label}"` : ''}`).join(', ')}`);
  return partitions;
}
