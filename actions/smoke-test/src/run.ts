/** What the smoke-test action does with its parsed inputs. Imported by tests; runs nothing on import. */
import { join } from 'node:path';
import { bootTestSection, SMOKE_TEST_FILE } from '../../../src/lib/boot/boot-evidence';
import { bootTest, type BootTestResult } from '../../../src/lib/boot/boot-test';
import { defaultCacheDir } from '../../../src/lib/core/cache-dir';
import type { Logger } from '../../../src/lib/core/logger';
import type { SmokeTestInputs } from './inputs';

export interface SmokeTestActionIo {
  logger: Logger;
  env: Record<string, string | undefined>;
  setOutput(name: string, value: string): void;
  summary?(markdown: string): Promise<void>;
}

export async function runSmokeTest(inputs: SmokeTestInputs, io: SmokeTestActionIo): Promise<BootTestResult> {
  const { source, ...options } = inputs;
  const result = await bootTest({
    ...options,
    source,
    cacheDir: defaultCacheDir(io.env),
    workDir: io.env.RUNNER_TEMP,
    logger: io.logger,
  });
  io.setOutput('passed', String(result.report.passed));
  io.setOutput('report', join(result.evidence, SMOKE_TEST_FILE));
  io.setOutput('evidence', result.evidence);
  await io.summary?.(bootTestSection(result.report));
  return result;
}
