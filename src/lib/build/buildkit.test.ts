import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../core/logger';
import { ensureBuildkit, type BuildkitDeps } from './buildkit';

function deps(answersAfter: number, onPath = true): BuildkitDeps & { started: string[][]; asked: string[] } {
  let calls = 0;
  const started: string[][] = [];
  const asked: string[] = [];
  return {
    started,
    asked,
    probe: async (cmd, args) => {
      asked.push([cmd, ...args].join(' '));
      return ++calls > answersAfter;
    },
    startDaemon: (argv) => void started.push(argv),
    sleep: async () => {},
    onPath: () => onPath,
  };
}

describe('BuildKit for nerdctl', () => {
  it('does nothing when buildkitd answers', async () => {
    const d = deps(0);
    await ensureBuildkit([], d, new MemoryLogger());
    expect(d.started).toEqual([]);
    expect(d.asked).toEqual(['buildctl debug workers']);
  });

  it('starts buildkitd with the same sudo as nerdctl and waits for it', async () => {
    const d = deps(3);
    await ensureBuildkit(['sudo'], d, new MemoryLogger());
    expect(d.started).toEqual([['sudo', 'buildkitd']]);
    expect(d.asked[0]).toBe('sudo buildctl debug workers');
    expect(d.asked).toHaveLength(4);
  });

  it('says what is missing, or that it never answered', async () => {
    await expect(ensureBuildkit([], deps(99, false), new MemoryLogger())).rejects.toThrow(/install buildkit/);
    await expect(ensureBuildkit([], deps(99), new MemoryLogger())).rejects.toThrow(/did not answer within 30 s/);
  });
});
