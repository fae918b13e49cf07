// Entry of the smoke-test action: read inputs, run, report. Nothing else.
import * as core from '@actions/core';
import { actionsLogger } from '../../../src/github/actions-logger';
import { actionInput, runAction } from '../../../src/github/run-action';
import { parseSmokeTestInputs } from './inputs';
import { runSmokeTest } from './run';

void runAction(async () => {
  const inputs = parseSmokeTestInputs(actionInput);
  await runSmokeTest(inputs, {
    logger: actionsLogger(),
    env: process.env,
    setOutput: (name, value) => core.setOutput(name, value),
    summary: async (markdown) => {
      await core.summary.addRaw(markdown).write();
    },
  });
});
