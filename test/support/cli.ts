/** Runs the committed CLI bundle, as a user would, with a chosen Node binary. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './test-image';

export const CLI = join(REPO_ROOT, 'dist/cli/pi-image.cjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runPiImage(args: readonly string[], options: { node?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliRun {
  const r = spawnSync(options.node ?? process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}
