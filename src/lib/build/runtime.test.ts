import { describe, expect, it } from 'vitest';
import { containerCommands, containerName, DETECTION_ORDER, leftoverDecision, parseRuntime, resolveRuntime, type Probe } from './runtime';

/** A probe that answers from a table of command lines that succeed, and records what was asked. */
function probe(working: string[]): Probe & { asked: string[] } {
  const asked: string[] = [];
  const fn = (async (cmd: string, args: readonly string[]) => {
    const line = [cmd, ...args].join(' ');
    asked.push(line);
    return working.includes(line);
  }) as Probe & { asked: string[] };
  fn.asked = asked;
  return fn;
}

describe('runtime detection', () => {
  it('tries docker, podman, nerdctl, then native, in that documented order', async () => {
    expect(DETECTION_ORDER).toEqual(['docker', 'podman', 'nerdctl', 'native']);
    const p = probe(['nerdctl info']);
    expect(await resolveRuntime('auto', p, false)).toEqual({ runtime: 'nerdctl', command: ['nerdctl'] });
    expect(p.asked).toEqual(['docker info', 'sudo -n docker info', 'podman info', 'sudo -n podman info', 'nerdctl info']);
  });

  it('uses sudo when the CLI answers only through sudo', async () => {
    expect(await resolveRuntime('auto', probe(['sudo -n docker info']), false)).toEqual({ runtime: 'docker', command: ['sudo', 'docker'] });
    expect(await resolveRuntime('podman', probe(['sudo -n podman info']), false)).toEqual({ runtime: 'podman', command: ['sudo', 'podman'] });
  });

  it('falls back to native as root, or with passwordless sudo', async () => {
    expect(await resolveRuntime('auto', probe([]), true)).toEqual({ runtime: 'native', command: [] });
    expect(await resolveRuntime('auto', probe(['sudo -n true']), false)).toEqual({ runtime: 'native', command: ['sudo', '-E'] });
  });

  it('says what to do when nothing can run pi-gen', async () => {
    await expect(resolveRuntime('auto', probe([]), false)).rejects.toThrow(/none of docker, podman, nerdctl answers/);
    await expect(resolveRuntime('docker', probe([]), true)).rejects.toThrow(/runtime docker: `docker info` fails, with and without sudo; install docker/);
    await expect(resolveRuntime('nerdctl', probe([]), true)).rejects.toThrow(/buildkitd/);
    await expect(resolveRuntime('native', probe([]), false)).rejects.toThrow(/run as root or give this user passwordless sudo/);
  });

  it('parses the runtime input', () => {
    expect(parseRuntime('')).toBe('auto');
    expect(parseRuntime('podman')).toBe('podman');
    expect(() => parseRuntime('lxc', 'input runtime')).toThrow(/input runtime "lxc" is not one of: auto, docker, podman, nerdctl, native/);
  });
});

describe('container lifecycle', () => {
  it('names containers uniquely per job, in the characters Docker accepts', () => {
    expect(containerName(['techofourown/img-ourbox-mini-rpi', 'build'])).toBe('pigen-techofourown-img-ourbox-mini-rpi-build');
    expect(containerName(['_weird name!', undefined, 'job'])).toBe('pigen-weird-name-job');
    expect(containerName([])).toBe('pigen-build');
    expect(containerName(['x'.repeat(300)]).length).toBeLessThanOrEqual(126);
  });

  it('builds exact-name filters and forced removal commands', () => {
    expect(containerCommands.exists(['sudo', 'docker'], 'pigen-a')).toEqual([
      'sudo',
      'docker',
      'ps',
      '-a',
      '--filter',
      'name=^pigen-a$',
      '--format',
      '{{.Names}}',
    ]);
    expect(containerCommands.remove(['podman'], 'pigen-a')).toEqual(['podman', 'rm', '-f', '-v', 'pigen-a']);
  });

  it('removes a leftover, continues when asked, refuses to race a running build', () => {
    expect(leftoverDecision(false, false, false, 'c')).toEqual({ action: 'fresh' });
    expect(leftoverDecision(true, false, false, 'c')).toEqual({
      action: 'remove',
      message: 'removing container c left by an earlier build (set continue to resume it instead)',
    });
    expect(leftoverDecision(true, false, true, 'c').action).toBe('continue');
    expect(leftoverDecision(false, false, true, 'c')).toMatchObject({ action: 'fresh', message: expect.stringContaining('nothing to continue') });
    expect(() => leftoverDecision(true, true, false, 'c')).toThrow(/already running in container c/);
  });
});
