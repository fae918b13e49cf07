/**
 * Maps the library's Logger onto workflow commands. Every line is scrubbed of
 * registered secrets and has its control characters escaped (a workflow
 * command smuggled in through a build log or a registry's error body stays
 * text); every secret is also handed to the runner to mask.
 */
import * as core from '@actions/core';
import { progressFormatter, type Logger } from '../lib/core/logger';
import { onSecretRegistered, scrubSecrets } from '../lib/core/secrets';
import { printable } from '../lib/core/terminal-text';

/** A line as it may reach the runner's log: no secrets, no control characters, no workflow commands. */
export function forRunnerLog(text: string): string {
  return printable(scrubSecrets(text)).replace(/^::/gm, ':\u200b:');
}

export function actionsLogger(): Logger {
  onSecretRegistered((s) => core.setSecret(s));
  let last = 0;
  const format = progressFormatter();
  return {
    startGroup: (name) => core.startGroup(forRunnerLog(name)),
    endGroup: () => core.endGroup(),
    info: (m) => core.info(forRunnerLog(m)),
    warn: (m) => core.warning(forRunnerLog(m)),
    debug: (m) => core.debug(forRunnerLog(m)),
    progress: (label, done, total) => {
      const line = format(label, done, total);
      const now = Date.now();
      if (now - last < 10_000) return;
      last = now;
      core.info(forRunnerLog(line));
    },
  };
}
