// Entry of the package action: read inputs, run, report. Nothing else.
import * as core from '@actions/core';
import { actionInput, runAction } from '../../../src/github/run-action';
import { actionsLogger } from '../../../src/github/actions-logger';
import { parsePackageInputs } from './inputs';
import { runPackage } from './run';

void runAction(async () => {
  await runPackage(parsePackageInputs(actionInput), {
    logger: actionsLogger(),
    env: process.env,
    setOutput: (name, value) => core.setOutput(name, value),
    summary: async (markdown) => {
      await core.summary.addRaw(markdown).write();
    },
  });
});
