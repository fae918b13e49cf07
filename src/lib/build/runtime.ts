/**
 * Which engine runs pi-gen, and the container commands the build needs. A
 * container runtime runs pi-gen's own build-docker.sh with DOCKER set to the
 * chosen CLI (with sudo when the CLI needs it); native runs build.sh as root.
 *
 * Detection order when none is chosen: docker, podman, nerdctl (the first
 * whose `info` answers, without sudo, then with `sudo -n`), then native when
 * running as root or with passwordless sudo.
 */
import { PiImageError } from '../core/errors';

export const RUNTIMES = ['docker', 'podman', 'nerdctl', 'native'] as const;
export type Runtime = (typeof RUNTIMES)[number];
export const DETECTION_ORDER: readonly Runtime[] = RUNTIMES;

export interface ResolvedRuntime {
  runtime: Runtime;
  /** The command prefix: ['docker'], ['sudo', 'podman'], or for native [] / ['sudo', '-E']. */
  command: string[];
}

/** Answers whether a command runs successfully (the exec seam, injected). */
export type Probe = (cmd: string, args: readonly string[]) => Promise<boolean>;

export function parseRuntime(value: string, input = 'runtime'): Runtime | 'auto' {
  if (value === '' || value === 'auto') return 'auto';
  if ((RUNTIMES as readonly string[]).includes(value)) return value as Runtime;
  throw new PiImageError('INPUT_INVALID', `${input} "${value}" is not one of: auto, ${RUNTIMES.join(', ')}`);
}

async function containerCommand(cli: string, probe: Probe): Promise<string[] | undefined> {
  if (await probe(cli, ['info'])) return [cli];
  if (await probe('sudo', ['-n', cli, 'info'])) return ['sudo', cli];
  return undefined;
}

async function nativeCommand(isRoot: boolean, probe: Probe): Promise<string[] | undefined> {
  if (isRoot) return [];
  if (await probe('sudo', ['-n', 'true'])) return ['sudo', '-E'];
  return undefined;
}

export async function resolveRuntime(requested: Runtime | 'auto', probe: Probe, isRoot: boolean): Promise<ResolvedRuntime> {
  if (requested === 'native') {
    const command = await nativeCommand(isRoot, probe);
    if (!command) throw new PiImageError('INPUT_INVALID', 'runtime native runs pi-gen as root: run as root or give this user passwordless sudo');
    return { runtime: 'native', command };
  }
  if (requested !== 'auto') {
    const command = await containerCommand(requested, probe);
    if (!command) {
      throw new PiImageError(
        'TOOL_MISSING',
        `runtime ${requested}: \`${requested} info\` fails, with and without sudo; install ${requested} and start its daemon${requested === 'nerdctl' ? ' (containerd, and buildkitd for builds)' : ''}`,
      );
    }
    return { runtime: requested, command };
  }
  for (const runtime of DETECTION_ORDER) {
    const command = runtime === 'native' ? await nativeCommand(isRoot, probe) : await containerCommand(runtime, probe);
    if (command) return { runtime, command };
  }
  throw new PiImageError(
    'TOOL_MISSING',
    'no way to run pi-gen: none of docker, podman, nerdctl answers, and this user is neither root nor has passwordless sudo',
  );
}

/** A container name Docker accepts: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters. */
export function containerName(parts: readonly (string | undefined)[]): string {
  const joined = parts
    .filter((p): p is string => !!p)
    .join('-')
    .replace(/[^a-zA-Z0-9_.-]+/g, '-')
    .replace(/^[^a-zA-Z0-9]+/, '')
    .replace(/-+/g, '-')
    .slice(0, 120);
  return `pigen-${joined || 'build'}`;
}

/** The command lines the container lifecycle needs; `command` is the runtime's prefix. */
export const containerCommands = {
  /** Lists containers named exactly `name` (running or not). */
  exists: (command: readonly string[], name: string): string[] => [...command, 'ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Names}}'],
  running: (command: readonly string[], name: string): string[] => [...command, 'ps', '--filter', `name=^${name}$`, '--format', '{{.Names}}'],
  remove: (command: readonly string[], name: string): string[] => [...command, 'rm', '-f', '-v', name],
};

/** What to do about a container left from an earlier build. */
export function leftoverDecision(
  exists: boolean,
  running: boolean,
  resume: boolean,
  name: string,
): { action: 'fresh' | 'continue' | 'remove'; message?: string } {
  if (running) {
    throw new PiImageError('INPUT_INVALID', `a build is already running in container ${name}; wait for it or stop it first`);
  }
  if (!exists) return resume ? { action: 'fresh', message: `nothing to continue: no container ${name}; starting a fresh build` } : { action: 'fresh' };
  if (resume) return { action: 'continue', message: `continuing the interrupted build in container ${name} (pi-gen CONTINUE=1)` };
  return { action: 'remove', message: `removing container ${name} left by an earlier build (set continue to resume it instead)` };
}
