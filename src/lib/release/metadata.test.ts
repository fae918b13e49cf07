import { describe, expect, it } from 'vitest';
import { schemaErrors } from '../../../test/support/schemas';
import type { ImageInspection } from '../image/inspect';
import { parseBuildLog } from '../pigen/build-log';
import type { PiGenInfo } from '../pigen/info-file';
import { buildMetadata, METADATA_SCHEMA_VERSION, type MetadataInput } from './metadata';
import { provenanceFromEnv } from './provenance';

const D = (c: string): string => c.repeat(64);

const info: PiGenInfo = {
  release: 'OurBox OS for TOO-OBX-MINI-01 (dev)',
  date: '2026-01-19',
  repository: 'https://github.com/RPi-Distro/pi-gen',
  gitHash: 'c'.repeat(40),
  stage: 'stage-ourbox-mini',
  packages: [
    { name: 'base-files', version: '12.4', architecture: 'arm64', description: 'base', state: 'ii' },
    { name: 'bash', version: '5.2', architecture: 'arm64', description: 'shell', state: 'ii' },
  ],
};

// Two stages, a skipped sub-stage, and export-image run twice (once per exported stage).
const LOG = [
  '[23:59:00] Begin /pi-gen',
  '[23:59:00] Begin /pi-gen/stage0',
  '[23:59:05] Begin /pi-gen/stage0/00-configure-apt',
  '[23:59:35] End /pi-gen/stage0/00-configure-apt',
  '[23:59:40] Skipping /pi-gen/stage0/01-locale',
  '[00:00:10] End /pi-gen/stage0',
  '[00:00:10] Begin /pi-gen/export-image',
  '[00:01:10] End /pi-gen/export-image',
  '[00:01:10] Begin /pi-gen/export-image',
  '[00:02:00] End /pi-gen/export-image',
  '[00:02:00] End /pi-gen',
  '[00:02:00] Build finished',
].join('\n');

const contents: ImageInspection = {
  sizeBytes: 8 * 1024 * 1024,
  partitionTable: {
    scheme: 'mbr',
    diskId: '0x1234abcd',
    partitions: [
      {
        number: 1,
        type: '0c',
        typeName: 'W95 FAT32 (LBA)',
        startBytes: 1048576,
        sizeBytes: 2097152,
        bootable: false,
        partuuid: '1234abcd-01',
        filesystem: { type: 'vfat', label: 'bootfs' },
      },
      {
        number: 2,
        type: '83',
        typeName: 'Linux',
        startBytes: 3145728,
        sizeBytes: 5242880,
        partuuid: '1234abcd-02',
        filesystem: { type: 'ext4', label: 'rootfs' },
      },
    ],
  },
  root: {
    partition: 2,
    hostname: 'ourbox',
    osRelease: { ID: 'debian', VERSION_CODENAME: 'bookworm' },
    enabledUnits: [],
    maskedUnits: [],
    firstBoot: { initFormat: 'none', evidence: [] },
  },
  warnings: [],
};

const input = (over: Partial<MetadataInput> = {}): MetadataInput => ({
  name: 'ourbox-mini',
  version: '1.2.3',
  channel: 'stable',
  created: '2026-01-19T00:00:00Z',
  tool: { name: 'pi-image-release', version: '0.9.0' },
  info,
  timeline: parseBuildLog(LOG),
  provenance: provenanceFromEnv({ GITHUB_REPOSITORY: 'acme/ourbox', GITHUB_SHA: 'a'.repeat(40), GITHUB_RUN_ID: '42' }),
  inputs: { name: 'ourbox-mini', 'compression-level': null, 'source-date-epoch': 1768780800, force: false },
  raw: { file: 'ourbox-mini.img', size: 8388608, sha256: D('1') },
  compressed: { file: 'ourbox-mini.img.xz', size: 4096, sha256: D('2') },
  bmap: {
    file: 'ourbox-mini.bmap',
    imageSize: 8388608,
    blockSize: 4096,
    blocksCount: 2048,
    mappedBlocksCount: 300,
    ranges: [{ first: 0, last: 299, sha256: D('3') }],
  },
  source: { file: 'image_2026-01-19-ourbox-mini.zip', compression: 'zip' },
  sbomFile: 'ourbox-mini.spdx.json',
  contents,
  ...over,
});

describe('buildMetadata', () => {
  const metadata = buildMetadata(input());

  it('is valid against docs/schemas/metadata.schema.json, through JSON', () => {
    expect(schemaErrors('metadata', JSON.parse(JSON.stringify(metadata)))).toEqual([]);
  });

  it('records the release, the pi-gen facts and the package count', () => {
    expect(metadata).toMatchObject({
      schemaVersion: METADATA_SCHEMA_VERSION,
      name: 'ourbox-mini',
      version: '1.2.3',
      channel: 'stable',
      created: '2026-01-19T00:00:00Z',
      tool: { name: 'pi-image-release', version: '0.9.0' },
      pigen: {
        release: 'OurBox OS for TOO-OBX-MINI-01 (dev)',
        date: '2026-01-19',
        repository: 'https://github.com/RPi-Distro/pi-gen',
        gitHash: 'c'.repeat(40),
        exportedStage: 'stage-ourbox-mini',
        stageList: ['stage0', 'export-image'],
      },
      packages: { count: 2, sbom: 'ourbox-mini.spdx.json' },
    });
  });

  it('writes what provenance lacks as null', () => {
    expect(metadata.recipe).toEqual({ repository: 'https://github.com/acme/ourbox', commit: 'a'.repeat(40), ref: null, modified: null });
    expect(metadata.workflowRun).toEqual({ id: '42', attempt: null, url: 'https://github.com/acme/ourbox/actions/runs/42' });
    const bare = buildMetadata(input({ provenance: {} }));
    expect([bare.recipe, bare.workflowRun]).toEqual([
      { repository: null, commit: null, ref: null, modified: null },
      { id: null, attempt: null, url: null },
    ]);
    expect([bare.pigen.commit, bare.export]).toEqual([null, null]);
  });

  it("names pi-gen's commit and the recipe's from the build record, and the export's layout", () => {
    const exportRecord = {
      kind: 'rootless' as const,
      layout: 'pigen',
      table: 'dos' as const,
      diskId: '0a1b2c3d',
      seed: 'ourbox-mini 1.2.3',
      epoch: 1700000000,
      partitions: [{ number: 1, label: 'bootfs', fs: 'fat32', role: 'boot (slot A)', start: 8388608, bytes: 536870912, partUuid: '0a1b2c3d-01' }],
    };
    const buildRecord = {
      schemaVersion: 1 as const,
      tool: { name: 'pi-image-release', version: '0.9.0' },
      pigen: { repository: 'https://github.com/RPi-Distro/pi-gen', commit: 'e'.repeat(40) },
      recipe: { commit: 'd'.repeat(40), modified: true },
      version: '1.2.3',
      sourceDateEpoch: 1700000000,
      exports: { 'ourbox-mini-1.2.3': exportRecord },
    };
    const m = buildMetadata(input({ provenance: {}, buildRecord, exportRecord }));
    expect(m.pigen.commit).toBe('e'.repeat(40));
    expect(m.pigen.gitHash).toBe('c'.repeat(40));
    expect(m.recipe).toEqual({ repository: null, commit: 'd'.repeat(40), ref: null, modified: true });
    expect(m.export).toEqual(exportRecord);
    expect(schemaErrors('metadata', JSON.parse(JSON.stringify(m)))).toEqual([]);
    // The provenance of the run (the workflow's checkout) wins over what the build recorded.
    expect(buildMetadata(input({ buildRecord })).recipe.commit).toBe('a'.repeat(40));
  });

  it('keeps the stage timeline across midnight, each export-image run on its own', () => {
    expect(metadata.build).toEqual({
      result: 'finished',
      startedAt: '23:59:00',
      totalSeconds: 180,
      stages: [
        {
          name: 'stage0',
          path: '/pi-gen/stage0',
          occurrence: 1,
          startOffsetSeconds: 0,
          durationSeconds: 70,
          complete: true,
          children: [
            {
              name: '00-configure-apt',
              path: '/pi-gen/stage0/00-configure-apt',
              occurrence: 1,
              startOffsetSeconds: 5,
              durationSeconds: 30,
              complete: true,
              children: [],
            },
          ],
        },
        { name: 'export-image', path: '/pi-gen/export-image', occurrence: 1, startOffsetSeconds: 70, durationSeconds: 60, complete: true, children: [] },
        { name: 'export-image', path: '/pi-gen/export-image', occurrence: 2, startOffsetSeconds: 130, durationSeconds: 50, complete: true, children: [] },
      ],
      events: [{ offsetSeconds: 40, message: 'Skipping /pi-gen/stage0/01-locale' }],
    });
  });

  it('copies only the digest fields of the image files, not the block ranges', () => {
    expect(metadata.image).toEqual({
      raw: { file: 'ourbox-mini.img', size: 8388608, sha256: D('1') },
      compressed: { file: 'ourbox-mini.img.xz', size: 4096, sha256: D('2') },
      bmap: { file: 'ourbox-mini.bmap', blockSize: 4096, blocksCount: 2048, mappedBlocksCount: 300 },
      source: { file: 'image_2026-01-19-ourbox-mini.zip', compression: 'zip' },
    });
    expect(metadata.inputs).toEqual({ name: 'ourbox-mini', 'compression-level': null, 'source-date-epoch': 1768780800, force: false });
    expect(metadata.contents).toBe(contents);
  });

  it('has no build and no stage list without a build.log, and is still valid', () => {
    const noLog = buildMetadata(input({ timeline: undefined }));
    expect(noLog.build).toBeNull();
    expect(noLog.pigen.stageList).toEqual([]);
    expect(schemaErrors('metadata', JSON.parse(JSON.stringify(noLog)))).toEqual([]);
  });

  it('records a failed build with its unfinished stage', () => {
    const failed = buildMetadata(input({ timeline: parseBuildLog('[10:00:00] Begin /pi-gen\n[10:00:00] Begin /pi-gen/stage0\n[10:00:09] apt-get failed\n') }));
    expect(failed.build).toMatchObject({ result: 'failed', totalSeconds: 9 });
    expect(failed.build?.stages).toEqual([
      { name: 'stage0', path: '/pi-gen/stage0', occurrence: 1, startOffsetSeconds: 0, durationSeconds: 9, complete: false, children: [] },
    ]);
    expect(schemaErrors('metadata', JSON.parse(JSON.stringify(failed)))).toEqual([]);
  });
});
