/**
 * The Actions adapter: the only place that imports @actions/core besides the
 * action entries. Maps the library's Logger onto workflow commands.
 */
import * as core from '@actions/core';
import type { Logger } from '../lib/core/logger';

export function actionsLogger(): Logger {
  let last = 0;
  return {
    mask: (secret) => core.setSecret(secret),
    startGroup: (name) => core.startGroup(name),
    endGroup: () => core.endGroup(),
    info: (m) => core.info(m),
    warn: (m) => core.warning(m),
    debug: (m) => core.debug(m),
    progress: (label, done, total) => {
      const now = Date.now();
      if (now - last < 10_000) return;
      last = now;
      const mib = (done / 1048576).toFixed(0);
      core.info(total ? `${label}: ${((done * 100) / total).toFixed(0)}% (${mib} MiB)` : `${label}: ${mib} MiB`);
    },
  };
}
