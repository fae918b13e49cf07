#!/usr/bin/env node
// Entry of the pi-image command: nothing but wiring to process.
import { cleanUpOnSignals } from '../lib/core/cleanup';
import { runCli } from './cli';

cleanUpOnSignals(
  (t) => process.stderr.write(`pi-image: ${t}`),
  (code) => process.exit(code),
);

runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`pi-image: internal error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
