/**
 * The logger the library writes to. The CLI prints to stderr; the action adapter
 * maps it onto @actions/core. The library never imports either. Secrets are
 * not the logger's business: they are registered once (core/secrets.ts) and
 * every front end scrubs everything it prints.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  /** Long work reports progress; a front end may throttle or drop it. */
  progress(label: string, done: number, total: number | undefined): void;
  /** Folds what follows under a heading (a build stage) until endGroup. */
  startGroup?(name: string): void;
  endGroup?(): void;
}

/**
 * One progress line, as every front end prints it: a percentage when the
 * total is known, MiB moved, and with the time since the work started the
 * rate and, when the total is known, the time left.
 */
export function formatProgress(label: string, done: number, total: number | undefined, elapsedMs?: number): string {
  const mib = (done / 1048576).toFixed(0);
  let line = total ? `${label}: ${((done * 100) / total).toFixed(0)}% (${mib} MiB)` : `${label}: ${mib} MiB`;
  if (elapsedMs !== undefined && elapsedMs >= 1000 && done > 0) {
    const rate = done / (elapsedMs / 1000);
    line += `, ${(rate / 1048576).toFixed(1)} MiB/s`;
    if (total && total > done) line += `, ${clock((total - done) / rate)} left`;
  }
  return line;
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** Formats progress lines with rates: remembers when each label's work started (again when its count goes back). */
export function progressFormatter(now: () => number = Date.now): (label: string, done: number, total: number | undefined) => string {
  const started = new Map<string, { at: number; done: number }>();
  return (label, done, total) => {
    let start = started.get(label);
    if (!start || done < start.done) {
      start = { at: now(), done };
      started.set(label, start);
    }
    start.done = done;
    return formatProgress(label, done, total, now() - start.at);
  };
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  progress: () => undefined,
};

/** Collects messages; used by tests and by front ends that need the warnings later. */
export class MemoryLogger implements Logger {
  readonly lines: { level: 'info' | 'warn' | 'debug'; message: string }[] = [];
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
  }
  progress(): void {
    // progress is not kept: tests read messages
  }
  warnings(): string[] {
    return this.lines.filter((l) => l.level === 'warn').map((l) => l.message);
  }
}
