// Entry of the flash action: read inputs, run, report. Nothing else.
import * as core from '@actions/core';
import { actionsLogger } from '../../../src/github/actions-logger';
import { actionInput, runAction } from '../../../src/github/run-action';
import { parseFlashInputs } from './inputs';
import { runFlash } from './run';

void runAction(async () => {
  const inputs = parseFlashInputs(actionInput);
  await runFlash(inputs, {
    logger: actionsLogger(),
    env: process.env,
    setOutput: (name, value) => core.setOutput(name, value),
    summary: async (markdown) => {
      await core.summary.addRaw(markdown).write();
    },
  });
});
