/**
 * Runs the committed CLI bundle as a child under the limits a hostile input
 * must not break: a V8 heap of 256 MiB, a wall-clock deadline (a hang is
 * killed and reported as such), and GNU time measuring the peak RSS of the
 * whole child tree (a helper such as xz included).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../../support/cli';

export const HEAP_MIB = 256;

export interface BoundedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed at the deadline: a hang. */
  timedOut: boolean;
  /** Peak resident memory of the CLI (or its largest child), MiB. */
  peakMiB: number;
  seconds: number;
}

export interface BoundedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** Called once the child has started (to signal it, for example). */
  onStart?: (pid: number) => void;
}

export function runBounded(args: readonly string[], options: BoundedOptions = {}): Promise<BoundedRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bounded-'));
  const timeFile = join(dir, 'time');
  const started = Date.now();
  return new Promise((resolve) => {
    // exec: GNU time replaces the shell, so a signal sent to the child's pid reaches time, which passes it on.
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, `--max-old-space-size=${HEAP_MIB}`, CLI, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(options.input ?? '');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    if (child.pid) options.onStart?.(child.pid);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let peakMiB = 0;
      try {
        const kib = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
        peakMiB = Number.isFinite(kib) ? kib / 1024 : 0;
      } catch {
        // time did not finish (killed): no figure
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, timedOut, peakMiB, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The bounds every hostile case must keep: ended by itself, in time, in memory. */
export function expectBounded(run: BoundedRun, maxSeconds: number, maxPeakMiB = 450): string[] {
  const problems: string[] = [];
  if (run.timedOut) problems.push(`did not end within the deadline (a hang); stderr: ${run.stderr.slice(-500)}`);
  if (run.seconds > maxSeconds) problems.push(`took ${run.seconds.toFixed(1)} s, more than ${maxSeconds} s`);
  if (run.peakMiB > maxPeakMiB) problems.push(`peak RSS ${run.peakMiB.toFixed(0)} MiB, more than ${maxPeakMiB} MiB`);
  if (/FATAL ERROR|JavaScript heap out of memory|Invalid string length|RangeError|TypeError/.test(run.stderr))
    problems.push(`crashed: ${run.stderr.slice(-500)}`);
  return problems;
}
