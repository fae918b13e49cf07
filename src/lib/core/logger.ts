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

/** One progress line, as every front end prints it: a percentage when the total is known, MiB moved. */
export function formatProgress(label: string, done: number, total: number | undefined): string {
  const mib = (done / 1048576).toFixed(0);
  return total ? `${label}: ${((done * 100) / total).toFixed(0)}% (${mib} MiB)` : `${label}: ${mib} MiB`;
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
