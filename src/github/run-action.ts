/**
 * Runs an action's `run` and turns any error into a failed step with the
 * error's code; user errors and failures read differently in the log.
 */
import * as core from '@actions/core';
import { cleanUpOnSignals, isStopping } from '../lib/core/cleanup';
import { describeError, PiImageError } from '../lib/core/errors';
import { forRunnerLog } from './actions-logger';

export async function runAction(run: () => Promise<void>): Promise<void> {
  // A cancelled job gets SIGINT, then SIGTERM: children are stopped and partial output removed.
  cleanUpOnSignals(
    (t) => process.stdout.write(forRunnerLog(t)),
    (code) => process.exit(code),
  );
  try {
    await run();
  } catch (error) {
    // Cancelled: the failure is the stop's doing, and the signal handler has said so.
    if (isStopping()) return;
    const kind = error instanceof PiImageError && error.isUserError ? 'bad input' : 'failed';
    core.setFailed(forRunnerLog(`${kind}: ${describeError(error)}`));
  }
}

/** The getter every action's pure input parser takes: trimmed, '' when unset. */
export function actionInput(name: string): string {
  return core.getInput(name, { required: false, trimWhitespace: true });
}
