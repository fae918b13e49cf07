/** Runs the committed CLI bundle, as a user would, with a chosen Node binary. */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './test-image';

export const CLI = join(REPO_ROOT, 'dist/cli/pi-image.cjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Synchronous: never for a child that talks to a server running in this test process (it would wait on a blocked loop). */
export function runPiImage(args: readonly string[], options: { node?: string; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): CliRun {
  const r = spawnSync(options.node ?? process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    input: options.input,
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** A Node 20 binary (the device side's Node): PI_IMAGE_NODE20, or one found in the usual places. */
export function findNode20(): string | undefined {
  const candidates = [process.env.PI_IMAGE_NODE20, '/usr/bin/node', '/usr/local/bin/node'].filter((c): c is string => !!c);
  return candidates.find((c) => {
    try {
      return execFileSync(c, ['--version'], { encoding: 'utf8' }).startsWith('v20.');
    } catch {
      return false;
    }
  });
}
