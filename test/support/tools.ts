/** Which real tools the tests can use here; a test that needs a missing one skips and says why. */
import { execFileSync, spawnSync } from 'node:child_process';

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1"`, 'sh', name], { stdio: 'ignore' }).status === 0;
}

export function missingTools(names: readonly string[]): string[] {
  return names.filter((n) => !hasTool(n));
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs a command and returns stdout; throws with stderr on failure. */
export function sh(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...options });
}

/** Prints why a test is skipped, so a skip is never silent. */
export function skipReason(what: string, why: string): string {
  const message = `SKIPPED ${what}: ${why}`;
  console.warn(message);
  return message;
}
