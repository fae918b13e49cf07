/**
 * nerdctl builds images through BuildKit: pi-gen's build-docker.sh runs
 * `nerdctl build`, which fails unless buildkitd answers. Ensured here: when
 * `buildctl debug workers` does not answer, buildkitd is started in the
 * background (with the same sudo as nerdctl) and waited for.
 */
import { spawn } from 'node:child_process';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Probe } from './runtime';

export interface BuildkitDeps {
  probe: Probe;
  /** Starts a long-running daemon and leaves it running (the exec seam for tests). */
  startDaemon: (argv: string[]) => void;
  sleep: (ms: number) => Promise<void>;
  onPath: (tool: string) => boolean;
}

export const realBuildkitDeps = (onPath: (tool: string) => boolean, probe: Probe): BuildkitDeps => ({
  probe,
  startDaemon: (argv) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' });
    // A daemon that cannot start is reported by the probe that never answers.
    child.on('error', () => undefined);
    child.unref();
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  onPath,
});

/** `sudo` is the prefix nerdctl needed ([] or ['sudo']). */
export async function ensureBuildkit(sudo: readonly string[], deps: BuildkitDeps, logger: Logger): Promise<void> {
  const workers = (): Promise<boolean> => deps.probe(sudo[0] ?? 'buildctl', [...sudo.slice(1), ...(sudo.length > 0 ? ['buildctl'] : []), 'debug', 'workers']);
  if (await workers()) {
    logger.info('buildkitd answers');
    return;
  }
  if (!deps.onPath('buildkitd')) {
    throw new PiImageError(
      'TOOL_MISSING',
      'runtime nerdctl needs BuildKit for `nerdctl build`: install buildkit (buildkitd, buildctl) or choose another runtime',
    );
  }
  logger.info('starting buildkitd for nerdctl build');
  deps.startDaemon([...sudo, 'buildkitd']);
  for (let i = 0; i < 30; i++) {
    await deps.sleep(1000);
    if (await workers()) return;
  }
  throw new PiImageError('EXEC_FAILED', 'buildkitd did not answer within 30 s after starting it (check `sudo buildkitd` by hand)');
}
