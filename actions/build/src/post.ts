// Post step of the build action: always clean up the build container.
import * as core from '@actions/core';
import { actionsLogger } from '../../../src/github/actions-logger';
import { runAction } from '../../../src/github/run-action';
import { cleanupBuildAction, CONTAINER_STATE } from './run';

void runAction(() => cleanupBuildAction(core.getState(CONTAINER_STATE), actionsLogger()));
