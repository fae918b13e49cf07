/**
 * metadata.json: how the image was made and what is in it. pi-gen facts from
 * the .info header, the stage timeline from build.log, where the recipe came
 * from, the inputs used, digests, and facts read from inside the image.
 */
import type { BuildResult, BuildTimeline, TimelineEntry } from '../pigen/build-log';
import { stagesOf } from '../pigen/build-log';
import type { PiGenInfo } from '../pigen/info-file';
import type { BuildRecord, RecordedExport } from '../pigen/build-record';
import type { UpdateBundle } from './update-bundle';
import type { ImageInspection } from '../image/inspect';
import type { BlockMap } from '../image/bmap';
import type { FileDigest } from '../core/file-digest';
import type { Channel } from './manifest';

export const METADATA_FILE = 'metadata.json';
export const METADATA_SCHEMA_VERSION = 1;

/** Where the recipe and the run came from; all optional, filled in by the front end. */
export interface Provenance {
  recipe?: { repository?: string; commit?: string; ref?: string };
  workflowRun?: { id?: string; attempt?: string; url?: string };
}

export interface StageTiming {
  name: string;
  path: string;
  occurrence: number;
  startOffsetSeconds: number;
  durationSeconds: number;
  complete: boolean;
  children: StageTiming[];
}

export interface ReleaseMetadata {
  schemaVersion: typeof METADATA_SCHEMA_VERSION;
  name: string;
  version: string;
  channel: Channel;
  created: string;
  tool: { name: string; version: string };
  pigen: {
    release: string;
    date: string;
    repository: string;
    /** GIT_HASH as the .info records it (pi-image sets it to the recipe's commit). */
    gitHash: string;
    /** The pi-gen commit that ran the build (from the build record); null when the deploy directory has none. */
    commit: string | null;
    exportedStage: string;
    /** Stages in the order the build ran them (from build.log). */
    stageList: string[];
  };
  recipe: { repository: string | null; commit: string | null; ref: string | null; modified: boolean | null };
  /** How the image was exported: pi-image's rootless export records its layout, identifiers, seed and epoch. */
  export: RecordedExport | null;
  /** A/B images: slot A's file systems as release files, and the PARTUUIDs they name. */
  updateBundle: UpdateBundle | null;
  workflowRun: { id: string | null; attempt: string | null; url: string | null };
  inputs: Record<string, string | number | boolean | null>;
  build: {
    result: BuildResult;
    startedAt: string;
    totalSeconds: number;
    stages: StageTiming[];
    events: { offsetSeconds: number; message: string }[];
  } | null;
  image: {
    raw: { file: string; size: number; sha256: string };
    compressed: { file: string; size: number; sha256: string };
    bmap: { file: string; blockSize: number; blocksCount: number; mappedBlocksCount: number };
    source: { file: string; compression: string };
  };
  packages: { count: number; sbom: string };
  contents: ImageInspection;
}

function timing(e: TimelineEntry): StageTiming {
  return {
    name: e.name,
    path: e.path,
    occurrence: e.occurrence,
    startOffsetSeconds: e.startOffsetSeconds,
    durationSeconds: e.durationSeconds,
    complete: e.complete,
    children: e.children.map(timing),
  };
}

export interface MetadataInput {
  name: string;
  version: string;
  channel: Channel;
  created: string;
  tool: { name: string; version: string };
  info: PiGenInfo;
  timeline: BuildTimeline | undefined;
  provenance: Provenance;
  inputs: ReleaseMetadata['inputs'];
  raw: FileDigest & { file: string };
  compressed: FileDigest & { file: string };
  bmap: BlockMap & { file: string };
  source: { file: string; compression: string };
  sbomFile: string;
  contents: ImageInspection;
  buildRecord?: BuildRecord | undefined;
  exportRecord?: RecordedExport | undefined;
  updateBundle?: UpdateBundle | null | undefined;
}

export function buildMetadata(input: MetadataInput): ReleaseMetadata {
  const stages = input.timeline ? stagesOf(input.timeline) : [];
  return {
    schemaVersion: METADATA_SCHEMA_VERSION,
    name: input.name,
    version: input.version,
    channel: input.channel,
    created: input.created,
    tool: input.tool,
    pigen: {
      release: input.info.release,
      date: input.info.date,
      repository: input.info.repository,
      gitHash: input.info.gitHash,
      commit: input.buildRecord?.pigen.commit ?? null,
      exportedStage: input.info.stage,
      stageList: [...new Set(stages.map((s) => s.name))],
    },
    recipe: {
      repository: input.provenance.recipe?.repository ?? null,
      commit: input.provenance.recipe?.commit ?? input.buildRecord?.recipe.commit ?? null,
      ref: input.provenance.recipe?.ref ?? null,
      modified: input.buildRecord?.recipe.modified ?? null,
    },
    updateBundle: input.updateBundle ?? null,
    export:
      input.exportRecord ??
      (input.buildRecord ? { kind: 'export-image', layout: null, table: null, diskId: null, seed: null, epoch: null, partitions: [] } : null),
    workflowRun: {
      id: input.provenance.workflowRun?.id ?? null,
      attempt: input.provenance.workflowRun?.attempt ?? null,
      url: input.provenance.workflowRun?.url ?? null,
    },
    inputs: input.inputs,
    build: input.timeline
      ? {
          result: input.timeline.result,
          startedAt: input.timeline.startedAt,
          totalSeconds: input.timeline.totalSeconds,
          stages: stages.map(timing),
          events: input.timeline.events,
        }
      : null,
    image: {
      raw: { file: input.raw.file, size: input.raw.size, sha256: input.raw.sha256 },
      compressed: { file: input.compressed.file, size: input.compressed.size, sha256: input.compressed.sha256 },
      bmap: {
        file: input.bmap.file,
        blockSize: input.bmap.blockSize,
        blocksCount: input.bmap.blocksCount,
        mappedBlocksCount: input.bmap.mappedBlocksCount,
      },
      source: input.source,
    },
    packages: { count: input.info.packages.length, sbom: input.sbomFile },
    contents: input.contents,
  };
}
