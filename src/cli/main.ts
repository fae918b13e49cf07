#!/usr/bin/env node
// Entry of the pi-image command: nothing but wiring to process.
import { cleanUpOnSignals } from '../lib/core/cleanup';
import { createInterface } from 'node:readline/promises';
import { runCli } from './cli';

/** One question on the terminal, answered by a line typed. */
async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

cleanUpOnSignals(
  (t) => process.stderr.write(`pi-image: ${t}`),
  (code) => process.exit(code),
);

runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  terminal: process.stdin.isTTY && process.stderr.isTTY ? { ask } : undefined,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`pi-image: internal error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
