// Entry of the sign action: read inputs, run, report. Nothing else.
import * as core from '@actions/core';
import { actionsLogger } from '../../../src/github/actions-logger';
import { recordAttestation } from '../../../src/github/attestation';
import { actionInput, runAction } from '../../../src/github/run-action';
import { parseSignInputs } from './inputs';
import { runSign } from './run';

void runAction(async () => {
  const inputs = parseSignInputs(actionInput);
  if (inputs.githubToken) core.setSecret(inputs.githubToken);
  await runSign(inputs, {
    logger: actionsLogger(),
    env: process.env,
    setOutput: (name, value) => core.setOutput(name, value),
    attest: (bundle, token) => recordAttestation(bundle, token, process.env),
  });
});
