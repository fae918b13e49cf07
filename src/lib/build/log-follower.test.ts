import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../core/logger';
import { BuildLogFollower } from './log-follower';

const fixture = readFileSync(new URL('../../../test/fixtures/pigen-ourbox-mini-2026-01-19/build.log', import.meta.url), 'utf8');

class GroupLogger extends MemoryLogger {
  readonly events: string[] = [];
  startGroup(name: string): void {
    this.events.push(`start ${name}`);
  }
  endGroup(): void {
    this.events.push('end');
  }
}

describe('following a build', () => {
  it('folds each stage of the real log under its name, whatever the chunking', () => {
    const logger = new GroupLogger();
    const f = new BuildLogFollower(logger);
    // Feed in odd-sized chunks with output interleaved.
    const text = fixture.replace('[16:27:33] End /pi-gen/stage0/prerun.sh\n', 'I: Retrieving InRelease\n[16:27:33] End /pi-gen/stage0/prerun.sh\n');
    for (let i = 0; i < text.length; i += 37) f.write(text.slice(i, i + 37));
    f.end();
    expect(logger.events).toEqual([
      'start pi-gen stage0',
      'end',
      'start pi-gen stage1',
      'end',
      'start pi-gen stage2',
      'end',
      'start pi-gen stage-ourbox-mini',
      'end',
      'start pi-gen export-image',
      'end',
    ]);
    expect(logger.lines.map((l) => l.message)).toContain('I: Retrieving InRelease');
    expect(f.buildLog()).toBe(fixture);
  });

  it('names the stage and step where a build stopped', () => {
    const cut = fixture
      .split('\n')
      .slice(0, fixture.split('\n').indexOf('[16:49:28] Begin /pi-gen/stage2/02-net-tweaks/00-packages') + 1)
      .join('\n');
    const f = new BuildLogFollower(new MemoryLogger());
    f.write(`${cut}\n[16:49:30] Build failed\n`);
    f.end();
    expect(f.explainFailure()).toBe('pi-gen failed in stage stage2, step 02-net-tweaks/00-packages');
  });

  it('points at debootstrap.log when bootstrap failed', () => {
    const f = new BuildLogFollower(new MemoryLogger());
    f.write(
      '[10:00:00] Begin /pi-gen\n[10:00:00] Begin /pi-gen/stage0\n[10:00:01] Begin /pi-gen/stage0/prerun.sh\n' +
        '[10:03:00] bootstrap failed: please check /pi-gen/work/x/stage0/debootstrap.log\n[10:03:00] Build failed\n',
    );
    f.end();
    expect(f.explainFailure()).toBe('pi-gen failed in stage stage0, step prerun.sh; debootstrap failed: read /pi-gen/work/x/stage0/debootstrap.log');
  });

  it('says when pi-gen failed before any stage', () => {
    const f = new BuildLogFollower(new MemoryLogger());
    f.write('Required dependencies not installed\n');
    f.end();
    expect(f.explainFailure()).toMatch(/before its first stage began/);
  });
});
