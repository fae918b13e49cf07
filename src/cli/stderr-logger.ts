/**
 * The CLI's logger: messages to stderr, progress as a percentage at most every
 * two seconds. What it writes goes through the CLI's output guard (secrets
 * scrubbed, control characters escaped) like everything else.
 */
import { progressFormatter, type Logger } from '../lib/core/logger';

export interface StderrLoggerOptions {
  verbose: boolean;
  quiet: boolean;
  write?: (text: string) => void;
  now?: () => number;
}

export function stderrLogger(options: StderrLoggerOptions): Logger {
  const write = options.write ?? ((t: string) => process.stderr.write(t));
  const now = options.now ?? Date.now;
  let lastProgress = 0;
  const format = progressFormatter(now);
  return {
    startGroup: (name) => {
      if (!options.quiet) write(`\n── ${name} ──\n`);
    },
    endGroup: () => undefined,
    info: (m) => {
      if (!options.quiet) write(`${m}\n`);
    },
    warn: (m) => write(`warning: ${m}\n`),
    debug: (m) => {
      if (options.verbose) write(`${m}\n`);
    },
    progress: (label, done, total) => {
      // Formatted every time (the clock of each piece of work starts at its first report), printed every two seconds.
      const line = format(label, done, total);
      if (options.quiet || now() - lastProgress < 2000) return;
      lastProgress = now();
      write(`${line}\n`);
    },
  };
}
