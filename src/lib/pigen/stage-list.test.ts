import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveStageList } from './stage-list';

const root = mkdtempSync(join(tmpdir(), 'stage-list-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const pigen = join(root, 'pi-gen');
const repo = join(root, 'recipe');
for (const s of ['stage0', 'stage1', 'stage2']) {
  mkdirSync(join(pigen, s, '00-sub'), { recursive: true });
  writeFileSync(join(pigen, s, 'prerun.sh'), '#!/bin/bash -e\n', { mode: 0o755 });
}
writeFileSync(join(pigen, 'stage2', 'EXPORT_IMAGE'), 'IMG_SUFFIX="-lite"\n');
mkdirSync(join(repo, 'pigen/stages/stage-mine'), { recursive: true });
mkdirSync(join(repo, 'pigen/overrides/stage2'), { recursive: true });
writeFileSync(join(repo, 'pigen/overrides/stage2/SKIP_IMAGES'), '');

describe('stage list', () => {
  it('maps upstream stages into the container and mounts the product stages read-only', async () => {
    const work = join(root, 'work-c');
    const { stages } = await resolveStageList(['stage0', 'stage1', 'pigen/stages/stage-mine'], {
      pigenDir: pigen,
      baseDir: repo,
      runtime: 'container',
      workDir: work,
    });
    expect(stages.map((s) => [s.name, s.buildPath, s.mount])).toEqual([
      ['stage0', '/pi-gen/stage0', false],
      ['stage1', '/pi-gen/stage1', false],
      ['stage-mine', join(repo, 'pigen/stages/stage-mine'), true],
    ]);
  });

  it('uses host paths for native builds', async () => {
    const { stages } = await resolveStageList(['stage0', join(repo, 'pigen/stages/stage-mine')], {
      pigenDir: pigen,
      baseDir: repo,
      runtime: 'native',
      workDir: join(root, 'work-n'),
    });
    expect(stages.map((s) => [s.buildPath, s.mount])).toEqual([
      [join(pigen, 'stage0'), false],
      [join(repo, 'pigen/stages/stage-mine'), false],
    ]);
  });

  it('lays overrides over a copy of the upstream stage, leaving pi-gen untouched', async () => {
    const work = join(root, 'work-o');
    const { stages, warnings } = await resolveStageList(['stage0', 'stage2'], {
      pigenDir: pigen,
      baseDir: repo,
      runtime: 'container',
      workDir: work,
      overridesDir: 'pigen/overrides',
    });
    const stage2 = stages[1]!;
    expect(stage2).toMatchObject({
      name: 'stage2',
      hostPath: join(work, 'stages/stage2'),
      buildPath: join(work, 'stages/stage2'),
      mount: true,
      overridden: ['SKIP_IMAGES'],
    });
    expect(existsSync(join(work, 'stages/stage2/SKIP_IMAGES'))).toBe(true);
    expect(readFileSync(join(work, 'stages/stage2/EXPORT_IMAGE'), 'utf8')).toContain('-lite');
    expect(statSync(join(work, 'stages/stage2/prerun.sh')).mode & 0o111).not.toBe(0);
    expect(existsSync(join(pigen, 'stage2/SKIP_IMAGES'))).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('warns about overrides for stages not in the list', async () => {
    const { warnings } = await resolveStageList(['stage0'], {
      pigenDir: pigen,
      baseDir: repo,
      runtime: 'native',
      workDir: join(root, 'w2'),
      overridesDir: 'pigen/overrides',
    });
    expect(warnings).toEqual(['overrides for stage2 are not used: stage2 is not in the stage list']);
  });

  it.each([
    [['stage9'], /stage stage9 is not in pi-gen/],
    [['pigen/stages/nope'], /stage pigen\/stages\/nope is not a directory/],
    [['stage0', 'stage0'], /stage stage0 appears twice/],
    [['my stage'], /whitespace/],
    [[], /stage list is empty/],
  ])('refuses %j', async (specs, message) => {
    await expect(resolveStageList(specs, { pigenDir: pigen, baseDir: repo, runtime: 'native', workDir: join(root, 'w3') })).rejects.toThrow(message);
  });

  it('refuses overrides for a product stage', async () => {
    mkdirSync(join(repo, 'pigen/overrides/stage-mine'), { recursive: true });
    await expect(
      resolveStageList(['pigen/stages/stage-mine'], {
        pigenDir: pigen,
        baseDir: repo,
        runtime: 'native',
        workDir: join(root, 'w4'),
        overridesDir: 'pigen/overrides',
      }),
    ).rejects.toThrow(/overrides apply to pi-gen's own stages/);
    rmSync(join(repo, 'pigen/overrides/stage-mine'), { recursive: true });
  });
});
