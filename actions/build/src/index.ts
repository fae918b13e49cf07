// Entry of the build action: read inputs, run, report. Nothing else.
import * as core from '@actions/core';
import { actionsCacheStore } from '../../../src/github/actions-cache';
import { actionsLogger } from '../../../src/github/actions-logger';
import { actionInput, runAction } from '../../../src/github/run-action';
import { parseBuildInputs } from './inputs';
import { runBuildAction } from './run';

void runAction(async () => {
  await runBuildAction(parseBuildInputs(actionInput), {
    logger: actionsLogger(),
    env: process.env,
    setOutput: (name, value) => core.setOutput(name, value),
    saveState: (name, value) => core.saveState(name, value),
    summary: async (markdown) => {
      await core.summary.addRaw(markdown).write();
    },
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    arch: process.arch,
    cache: actionsCacheStore,
  });
});
