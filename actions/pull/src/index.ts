// Entry of the pull action: read inputs, run, report. Nothing else.
import * as core from '@actions/core';
import { actionsLogger } from '../../../src/github/actions-logger';
import { actionInput, runAction } from '../../../src/github/run-action';
import { parsePullInputs } from './inputs';
import { runPull } from './run';

void runAction(async () => {
  const inputs = parsePullInputs(actionInput);
  await runPull(inputs, { logger: actionsLogger(), env: process.env, setOutput: (name, value) => core.setOutput(name, value) });
});
