/**
 * The one place the library starts external programs. Every command line is
 * logged (debug) and every failure becomes a PiImageError naming the command.
 * Arguments are passed as an array, never through a shell.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { registerCleanup } from './cleanup';
import { PiImageError } from './errors';
import type { Logger } from './logger';

export interface ExecOptions {
  logger: Logger;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Return a non-zero exit code instead of throwing. */
  allowFailure?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** How a child is stopped: alone, or with everything it started (its own process group). */
export interface StopOptions {
  graceMs?: number;
  /** The child leads its own process group (spawned detached): signals go to the whole group. */
  group?: boolean;
}

/**
 * Kills a child and waits (up to a few seconds) for it to be reaped: SIGTERM,
 * then SIGKILL if it has not gone. With `group`, every process the child
 * started is signalled too: a shell waiting for its own child (pi-gen's
 * build.sh running debootstrap) would otherwise leave it running.
 */
export function stopChild(child: ChildProcess, graceOrOptions: number | StopOptions = 3000): Promise<void> {
  const { graceMs = 3000, group = false } = typeof graceOrOptions === 'number' ? { graceMs: graceOrOptions } : graceOrOptions;
  const signal = (sig: NodeJS.Signals): void => {
    try {
      if (group && child.pid !== undefined) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  if (child.exitCode !== null || child.signalCode !== null) {
    // The leader is gone; what it started may not be.
    if (group) signal('SIGKILL');
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      if (group) signal('SIGKILL');
      resolve();
    };
    child.once('close', done);
    const timer = setTimeout(() => {
      signal('SIGKILL');
      setTimeout(resolve, 1000).unref();
    }, graceMs);
    timer.unref();
    signal('SIGTERM');
  });
}

/** Every child is stopped if the process is interrupted while it runs. */
function track(child: ChildProcess, stop: StopOptions = {}): void {
  const unregister = registerCleanup(() => stopChild(child, stop));
  child.once('close', unregister);
  child.once('error', unregister);
}

function spawnError(cmd: string, error: NodeJS.ErrnoException): PiImageError {
  if (error.code === 'ENOENT') {
    return new PiImageError('TOOL_MISSING', `${cmd} is not installed or not on PATH`, { cause: error });
  }
  return new PiImageError('EXEC_FAILED', `could not start ${cmd}: ${error.message}`, { cause: error });
}

/** Runs a command to completion and captures its output (for small outputs only). */
export function execCapture(cmd: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  options.logger.debug(`$ ${commandLine(cmd, args)}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(spawnError(cmd, e)));
    child.on('close', (code, signal) => {
      const result = {
        code: code ?? 128,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (result.code !== 0 && !options.allowFailure) {
        const why = signal ? `was killed by ${signal}` : `exited with ${result.code}`;
        reject(new PiImageError('EXEC_FAILED', `${commandLine(cmd, args)} ${why}: ${result.stderr.trim().slice(-2000)}`));
      } else {
        resolve(result);
      }
    });
  });
}

export type StreamingChild = ChildProcessByStdio<Writable | null, Readable, Readable>;

/**
 * Starts a command whose stdout is consumed as a stream. `stdinFrom` is a file
 * path to read from, or 'pipe' to write to the child's stdin.
 * `done` settles when the process exits: it rejects with the tail of stderr when
 * the exit code is not zero.
 */
export function execStream(
  cmd: string,
  args: readonly string[],
  options: ExecOptions & { stdin: 'pipe' | 'ignore' },
): { child: StreamingChild; done: Promise<void>; stop: () => Promise<void> } {
  options.logger.debug(`$ ${commandLine(cmd, args)}`);
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.stdin, 'pipe', 'pipe'],
  }) as StreamingChild;
  track(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(spawnError(cmd, e)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        const why = signal ? `was killed by ${signal}` : `exited with ${code}`;
        reject(new PiImageError('EXEC_FAILED', `${commandLine(cmd, args)} ${why}: ${stderr.trim()}`));
      }
    });
  });
  // The caller observes failures through `done`; avoid unhandled rejections meanwhile.
  done.catch(() => undefined);
  return { child, done, stop: () => stopChild(child) };
}

/**
 * Runs a long command whose output (stdout and stderr, interleaved as they
 * come) goes to `onOutput`; resolves with the exit code. Used for pi-gen
 * builds and booting machines, whose output is followed live; `stop` ends
 * the command early.
 */
export function execFollow(
  cmd: string,
  args: readonly string[],
  options: Omit<ExecOptions, 'allowFailure'> & {
    onOutput: (text: string) => void;
    stop?: AbortSignal;
    /** Run it in a process group of its own and stop the whole group (a build and everything it starts), with this grace. */
    processGroup?: { graceMs: number };
  },
): Promise<number> {
  options.logger.info(`$ ${commandLine(cmd, args)}`);
  return new Promise((resolve, reject) => {
    const group = options.processGroup !== undefined;
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    const stop: StopOptions = group ? { group, graceMs: options.processGroup!.graceMs } : {};
    track(child, stop);
    // Stopping (the caller has seen what it waited for, or gave up): the child is stopped and reaped, and the promise resolves with its exit.
    options.stop?.addEventListener('abort', () => void stopChild(child, stop), { once: true });
    child.stdout.setEncoding('utf8').on('data', options.onOutput);
    child.stderr.setEncoding('utf8').on('data', options.onOutput);
    child.on('error', (e) => reject(spawnError(cmd, e)));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
