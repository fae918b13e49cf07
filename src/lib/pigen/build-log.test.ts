import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { failedStep, flattenTimeline, formatDuration, parseBuildLog, stagesOf } from './build-log';

const fixture = readFileSync(new URL('../../../test/fixtures/pigen-ourbox-mini-2026-01-19/build.log', import.meta.url), 'utf8');

describe('parseBuildLog on the real OurBox Mini log', () => {
  const timeline = parseBuildLog(fixture);
  const stages = stagesOf(timeline);

  it('reads the build as finished, 40 min 41 s long', () => {
    expect(timeline.result).toBe('finished');
    expect(timeline.startedAt).toBe('16:23:02');
    expect(timeline.totalSeconds).toBe(40 * 60 + 41);
    expect(timeline.warnings).toEqual([]);
  });

  it('finds the stages in order with exact durations (stage0 is 12 min 13 s)', () => {
    expect(stages.map((s) => [s.name, s.startOffsetSeconds, s.durationSeconds])).toEqual([
      ['stage0', 0, 12 * 60 + 13],
      ['stage1', 733, 84],
      ['stage2', 817, 17 * 60],
      ['stage-ourbox-mini', 1837, 7],
      ['export-image', 1844, 9 * 60 + 57],
    ]);
    expect(stages.every((s) => s.complete)).toBe(true);
  });

  it('nests sub-stages and steps under their stage', () => {
    const stage0 = stages[0]!;
    expect(stage0.children.map((c) => c.name)).toEqual(['prerun.sh', '00-configure-apt', '01-locale', '02-firmware', 'files']);
    const firmware = stage0.children[3]!;
    expect(firmware.children.map((c) => [c.name, c.durationSeconds, c.depth])).toEqual([
      ['01-packages', 302, 3],
      ['02-run.sh', 0, 3],
    ]);
    expect(flattenTimeline(timeline.entries)).toHaveLength(fixture.split('\n').filter((l) => l.includes(' Begin ')).length);
  });

  it('formats durations for people', () => {
    expect(formatDuration(733)).toBe('12m 13s');
    expect(formatDuration(7)).toBe('7s');
    expect(formatDuration(3 * 3600 + 5)).toBe('3h 00m 05s');
  });
});

describe('parseBuildLog edge cases', () => {
  it('wraps at midnight', () => {
    const t = parseBuildLog(
      [
        '[23:59:00] Begin /pi-gen',
        '[23:59:30] Begin /pi-gen/stage0',
        '[00:01:00] End /pi-gen/stage0',
        '[00:02:00] End /pi-gen',
        '[00:02:00] Build finished',
      ].join('\n'),
    );
    expect(stagesOf(t)[0]!.durationSeconds).toBe(90);
    expect(t.totalSeconds).toBe(180);
  });

  it('wraps across more than one midnight', () => {
    const t = parseBuildLog(
      ['[22:00:00] Begin /b', '[23:00:00] Begin /b/s', '[01:00:00] End /b/s', '[21:00:00] Begin /b/t', '[02:00:00] End /b/t', '[02:00:00] End /b'].join('\n'),
    );
    const [s, u] = stagesOf(t);
    expect(s!.durationSeconds).toBe(7200);
    expect(u!.startOffsetSeconds).toBe(23 * 3600);
    expect(u!.durationSeconds).toBe(5 * 3600);
  });

  it('keeps each export-image run as its own occurrence', () => {
    const t = parseBuildLog(
      [
        '[10:00:00] Begin /p',
        '[10:00:00] Begin /p/export-image',
        '[10:05:00] End /p/export-image',
        '[10:05:00] Begin /p/export-image',
        '[10:07:30] End /p/export-image',
        '[10:07:30] End /p',
      ].join('\n'),
    );
    expect(stagesOf(t).map((s) => [s.name, s.occurrence, s.durationSeconds])).toEqual([
      ['export-image', 1, 300],
      ['export-image', 2, 150],
    ]);
  });

  it('reports an unfinished stage as incomplete and the build as failed', () => {
    const t = parseBuildLog(
      [
        '[10:00:00] Begin /p',
        '[10:00:00] Begin /p/stage0',
        '[10:00:01] Begin /p/stage0/prerun.sh',
        '[10:00:40] bootstrap failed: please check /p/work/x/stage0/debootstrap.log',
      ].join('\n'),
    );
    expect(t.result).toBe('failed');
    const stage0 = stagesOf(t)[0]!;
    expect(stage0.complete).toBe(false);
    expect(stage0.durationSeconds).toBe(40);
    expect(failedStep(t)!.path).toBe('/p/stage0/prerun.sh');
    expect(t.events.map((e) => e.message)).toEqual(['bootstrap failed: please check /p/work/x/stage0/debootstrap.log']);
  });

  it('closes entries whose End is missing when an outer End arrives', () => {
    const t = parseBuildLog(['[10:00:00] Begin /p', '[10:00:00] Begin /p/s', '[10:00:05] Begin /p/s/a', '[10:00:09] End /p/s', '[10:00:10] End /p'].join('\n'));
    const s = stagesOf(t)[0]!;
    expect(s.complete).toBe(true);
    expect(s.children[0]!.complete).toBe(false);
    expect(s.children[0]!.durationSeconds).toBe(4);
  });

  it('reads RFC 3339 timestamps', () => {
    const t = parseBuildLog(['[2026-01-19T23:59:50+00:00] Begin /p', '[2026-01-20T00:00:20+00:00] End /p'].join('\n'));
    expect(t.entries[0]!.durationSeconds).toBe(30);
  });

  it('records Skip and Retrying lines as events and odd lines as warnings', () => {
    const t = parseBuildLog(
      ['[10:00:00] Begin /p', '[10:00:00] Skip /p/stage3', '[10:00:01] Retrying (1/5)...', 'garbage', '[10:00:02] End /p'].join('\n'),
      'x/build.log',
    );
    expect(t.events.map((e) => e.message)).toEqual(['Skip /p/stage3', 'Retrying (1/5)...']);
    expect(t.warnings).toEqual(['x/build.log:4: not a pi-gen log line: garbage']);
  });

  it('refuses a file that is not a pi-gen log, naming it', () => {
    expect(() => parseBuildLog('hello\nworld\n', 'deploy/build.log')).toThrow(/deploy\/build.log is not a pi-gen build log/);
    expect(() => parseBuildLog('', 'empty.log')).toThrow(/empty.log/);
    expect(() => parseBuildLog('[10:00:00] Build finished', 'b.log')).toThrow(/LOG_INVALID|not a pi-gen/);
  });
});
