/** The CLI's logger: messages to stderr, progress as a percentage at most every two seconds. */
import type { Logger } from '../lib/core/logger';

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
  const secrets: string[] = [];
  const hide = (m: string): string => secrets.reduce((t, s) => t.split(s).join('***'), m);
  return {
    mask: (secret) => {
      if (secret) secrets.push(secret);
    },
    startGroup: (name) => {
      if (!options.quiet) write(`\n── ${name} ──\n`);
    },
    endGroup: () => {},
    info: (m) => {
      if (!options.quiet) write(`${hide(m)}\n`);
    },
    warn: (m) => write(`warning: ${hide(m)}\n`),
    debug: (m) => {
      if (options.verbose) write(`${hide(m)}\n`);
    },
    progress: (label, done, total) => {
      if (options.quiet || now() - lastProgress < 2000) return;
      lastProgress = now();
      const mib = (done / 1048576).toFixed(0);
      write(total ? `${label}: ${((done * 100) / total).toFixed(0)}% (${mib} MiB)\n` : `${label}: ${mib} MiB\n`);
    },
  };
}
