/**
 * The package step: pi-gen's deploy/ in, a checked release directory out.
 * See docs/contracts.md for what the directory holds.
 */
import { basename, join } from 'node:path';
import { PiImageError } from '../core/errors';
import { checkSafeName } from '../core/safe-name';
import { checkIntegerInRange, isoSeconds, MAX_SOURCE_DATE_EPOCH } from '../core/values';
import { digestFile, type FileDigest } from '../core/file-digest';
import { readSmallFile } from '../core/small-file';
import { renderBmap } from '../image/bmap';
import { inspectImage, type ImageInspection } from '../image/inspect';
import { streamImageOnce, type StreamedImage } from '../image/random-access-image';
import { parseBuildLog, type BuildTimeline } from '../pigen/build-log';
import { findDeployOutputs } from '../pigen/deploy-layout';
import { parseInfoFile } from '../pigen/info-file';
import { parseBuildRecord, type BuildRecord } from '../pigen/build-record';
import { writeUpdateBundle } from './update-bundle';
import { checkPiGenSbom } from '../pigen/pigen-sbom';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { renderSha256Sums } from './checksums';
import { MANIFEST_FILE, renderJson, type ReleaseManifest } from './manifest';
import { buildMetadata, METADATA_FILE, type ReleaseMetadata } from './metadata';
import { stageOutputDir } from './output-dir';
import { ReleaseWriter } from './release-dir';
import { checkChannel, DEFAULT_CHANNEL, DEFAULT_COMPRESSION_LEVEL, DEFAULT_VERSION, defaultReleaseName, type PackageOptions } from './package-options';
import { RELEASE_NOTES_FILE, renderReleaseNotes } from './release-notes';
import { buildSbom } from './sbom';

export interface PackageResult {
  releaseDir: string;
  manifest: ReleaseManifest;
  metadata: ReleaseMetadata;
  /** Absolute paths of the main files. */
  paths: { image: string; bmap: string; manifest: string; metadata: string; sbom: string; releaseNotes: string };
  warnings: string[];
}

/** A 512-byte sector 0 must end in 55 AA for anything with a partition table. */
function checkDiskHead(source: string) {
  return (head: Buffer): void => {
    if (head.length < 512 || head.readUInt16LE(510) !== 0xaa55) {
      throw new PiImageError('IMAGE_NOT_DISK', `${source}: not a disk image (no partition table signature in sector 0)`);
    }
  };
}

export async function packageRelease(options: PackageOptions): Promise<PackageResult> {
  const { logger } = options;
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    logger.warn(m);
  };

  const version = checkSafeName(options.version ?? DEFAULT_VERSION, 'version');
  const channel = checkChannel(options.channel ?? DEFAULT_CHANNEL);
  const level = checkIntegerInRange(options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL, 0, 9, 'compression-level');
  const threads = checkIntegerInRange(options.threads ?? 0, 0, 1024, 'threads');
  if (options.sourceDateEpoch !== undefined) checkIntegerInRange(options.sourceDateEpoch, 0, MAX_SOURCE_DATE_EPOCH, 'SOURCE_DATE_EPOCH');
  const created = isoSeconds(options.sourceDateEpoch !== undefined ? new Date(options.sourceDateEpoch * 1000) : new Date());

  const layout = await findDeployOutputs(options.deployDir, { image: options.image, info: options.info, buildLog: options.buildLog });
  const name = checkSafeName(options.name ?? defaultReleaseName(layout.image.base), 'name');
  logger.info(`image: ${basename(layout.image.path)} (${layout.image.compression})`);

  const info = parseInfoFile((await readSmallFile(layout.info, MAX_INFO_BYTES)).toString('utf8'), layout.info);
  logger.info(`pi-gen info: ${info.packages.length} installed packages, exported from ${info.stage}`);
  let timeline: BuildTimeline | undefined;
  if (layout.buildLog) {
    timeline = parseBuildLog((await readSmallFile(layout.buildLog, MAX_BUILD_LOG_BYTES)).toString('utf8'), layout.buildLog);
    for (const w of timeline.warnings.slice(0, 20)) warn(w);
  } else {
    warn(`no build.log in ${options.deployDir}: stage timings are left out (pass --build-log, e.g. work/<IMG_NAME>/build.log)`);
  }

  if (layout.pigenSbom) await checkPiGenSbom(layout.pigenSbom, logger);
  let buildRecord: BuildRecord | undefined;
  if (layout.buildRecord) {
    buildRecord = parseBuildRecord((await readSmallFile(layout.buildRecord, MAX_BUILD_RECORD_BYTES)).toString('utf8'), layout.buildRecord);
    logger.info(`build record: pi-gen ${buildRecord.pigen.commit}, recipe ${buildRecord.recipe.commit ?? 'unknown'}`);
  }

  const inputs = [options.deployDir, layout.image.path, layout.info, ...(layout.buildLog ? [layout.buildLog] : [])];
  const staged = await stageOutputDir(options.outDir, { replace: options.force ?? false, inputs, label: '--out' });
  let streamed: StreamedImage | undefined;
  try {
    const f = {
      image: `${name}.img.xz`,
      raw: `${name}.img`,
      imageChecksum: `${name}.img.xz.sha256`,
      rawChecksum: `${name}.img.sha256`,
      bmap: `${name}.bmap`,
      info: `${name}.info`,
      sbom: `${name}.spdx.json`,
      buildLog: 'build.log',
    };
    const writer = new ReleaseWriter(staged.path);
    const at = (file: string): string => writer.path(file);

    // One read of the raw image: digest, block map, compression (and a sparse copy when it came compressed).
    let compressed: FileDigest;
    const streamOptions = { logger, workDir: staged.path, checkHead: checkDiskHead(layout.image.path) };
    if (layout.image.compression === 'xz') {
      logger.info(`copying ${basename(layout.image.path)} as it is (already xz)`);
      compressed = await digestFile(layout.image.path, at(f.image));
      streamed = await streamImageOnce(layout.image.path, 'xz', streamOptions);
    } else {
      logger.info(`compressing with xz -${level} (${threads === 0 ? 'all cores' : `${threads} threads`})`);
      streamed = await streamImageOnce(layout.image.path, layout.image.compression, { ...streamOptions, xz: { path: at(f.image), level, threads } });
      compressed = streamed.pass.compressed!;
    }
    const { pass } = streamed;
    logger.info(`raw image: ${pass.raw.size} bytes, sha256 ${pass.raw.sha256}; ${pass.bmap.mappedBlocksCount} of ${pass.bmap.blocksCount} blocks mapped`);

    const contents: ImageInspection = await inspectImage(streamed.disk, options.productReleaseFile ? { productReleaseFile: options.productReleaseFile } : {});
    for (const w of contents.warnings) warn(`image: ${w}`);
    if (!contents.boot || !contents.root) {
      throw new PiImageError(
        'IMAGE_CORRUPT',
        `${layout.image.path}: no ${!contents.boot ? 'FAT boot partition' : 'ext root file system'} found (${contents.partitionTable.partitions.length} partitions: ${contents.partitionTable.partitions.map((p) => `${p.number} ${p.filesystem.type}`).join(', ')}): not a Raspberry Pi OS image a device can boot`,
      );
    }

    // A/B images: slot A's file systems as the update bundle, read from the raw image while it is open.
    const updateBundle = await writeUpdateBundle({ writer, name, diskPath: streamed.disk.name, contents, level, threads, logger });
    writer.record(f.image, 'image', compressed);
    await streamed.close();
    streamed = undefined;
    await writer.writeText(f.imageChecksum, 'image-checksum', renderSha256Sums([{ name: f.image, sha256: compressed.sha256 }]));
    await writer.writeText(f.rawChecksum, 'raw-image-checksum', renderSha256Sums([{ name: f.raw, sha256: pass.raw.sha256 }]));
    await writer.writeText(f.bmap, 'bmap', renderBmap(pass.bmap));
    await writer.copyIn(f.info, 'pigen-info', layout.info);
    if (layout.buildLog) await writer.copyIn(f.buildLog, 'build-log', layout.buildLog);
    if (layout.pigenSbom) {
      const sbomName = `${name}.pigen-${basename(layout.pigenSbom).endsWith('.xz') ? 'sbom.xz' : 'sbom'}`;
      await writer.copyIn(sbomName, 'pigen-sbom', layout.pigenSbom);
    }
    await writer.writeText(
      f.sbom,
      'sbom',
      renderJson(
        buildSbom({
          name,
          version,
          created,
          imageSha256: pass.raw.sha256,
          packages: info.packages,
          distro: { id: contents.root.osRelease?.ID, codename: contents.root.osRelease?.VERSION_CODENAME },
          toolVersion: TOOL_VERSION,
        }),
      ),
    );

    const inputs: ReleaseMetadata['inputs'] = {
      'deploy-dir': options.deployDir,
      image: basename(layout.image.path),
      info: basename(layout.info),
      'build-log': layout.buildLog ? basename(layout.buildLog) : null,
      name,
      version,
      channel,
      'compression-level': layout.image.compression === 'xz' ? null : level,
      'source-date-epoch': options.sourceDateEpoch ?? null,
    };
    const metadata = buildMetadata({
      name,
      version,
      channel,
      created,
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      info,
      timeline,
      provenance: options.provenance ?? {},
      inputs,
      raw: { file: f.raw, ...pass.raw },
      compressed: { file: f.image, ...compressed },
      bmap: { file: f.bmap, ...pass.bmap },
      source: { file: basename(layout.image.path), compression: layout.image.compression },
      sbomFile: f.sbom,
      contents,
      buildRecord,
      exportRecord: buildRecord?.exports[layout.image.base],
      updateBundle,
    });
    await writer.writeText(METADATA_FILE, 'metadata', renderJson(metadata));
    await writer.writeText(RELEASE_NOTES_FILE, 'release-notes', renderReleaseNotes(metadata, f));

    const manifest: ReleaseManifest = await writer.finish({
      name,
      version,
      channel,
      created,
      image: { path: f.image, compression: 'xz', raw: { size: pass.raw.size, sha256: pass.raw.sha256 } },
    });
    await staged.commit();

    const out = options.outDir;
    logger.info(`release directory ready: ${out}`);
    return {
      releaseDir: out,
      manifest,
      metadata,
      paths: {
        image: join(out, f.image),
        bmap: join(out, f.bmap),
        manifest: join(out, MANIFEST_FILE),
        metadata: join(out, METADATA_FILE),
        sbom: join(out, f.sbom),
        releaseNotes: join(out, RELEASE_NOTES_FILE),
      },
      warnings,
    };
  } catch (error) {
    await streamed?.close();
    await staged.discard();
    throw error;
  }
}

/** A pi-gen build.log is a few MiB; a .info (the dpkg table) a few hundred KiB. */
const MAX_BUILD_LOG_BYTES = 64 * 1024 * 1024;
const MAX_INFO_BYTES = 16 * 1024 * 1024;
const MAX_BUILD_RECORD_BYTES = 1024 * 1024;
