/** What the build action does with its parsed inputs; the post step's cleanup. Imported by tests. */
import { join } from 'node:path';
import type { Logger } from '../../../src/lib/core/logger';
import { removeBuildContainer, runBuild, type BuildResult } from '../../../src/lib/build/build';
import { prepareBuild } from '../../../src/lib/build/build-request';
import type { ResolvedRuntime } from '../../../src/lib/build/runtime';
import { parseSourceDateEpoch } from '../../../src/lib/release/package-options';
import type { BuildInputs } from './inputs';

export interface BuildActionIo {
  logger: Logger;
  env: Record<string, string | undefined>;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  summary(markdown: string): Promise<void>;
  isRoot: boolean;
  arch: string;
}

export const CONTAINER_STATE = 'container';

export async function runBuildAction(inputs: BuildInputs, io: BuildActionIo): Promise<BuildResult> {
  const { env } = io;
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  if (inputs.firstUserPassword) io.logger.mask?.(inputs.firstUserPassword);
  const options = await prepareBuild({
    configFile: inputs.config,
    settings: inputs.settings,
    version: inputs.version,
    runtime: inputs.runtime,
    workDir: inputs.workDir,
    baseDir: workspace,
    pigenDir: inputs.pigenDir,
    pigenRepository: inputs.pigenRepository,
    pigenRef: inputs.pigenRef,
    cacheDir: join(env.RUNNER_TEMP ?? '/tmp', 'pi-image-release'),
    recipeGitHash: inputs.recipeGitHash ?? env.GITHUB_SHA,
    resume: inputs.resume,
    containerNameParts: [env.GITHUB_REPOSITORY, env.GITHUB_JOB],
    minFreeGiB: inputs.minFreeGiB,
    installEmulation: inputs.installEmulation,
    firstUserPass: inputs.firstUserPassword,
    sourceDateEpoch: parseSourceDateEpoch(env.SOURCE_DATE_EPOCH),
    isRoot: io.isRoot,
    arch: io.arch,
    logger: io.logger,
  });
  // Saved before the build starts, so the post step cleans up after a failure too.
  const result = await runBuild({ ...options, onContainer: (runtime, name) => io.saveState(CONTAINER_STATE, JSON.stringify({ name, runtime })) });
  io.setOutput('deploy-dir', result.deployDir);
  io.setOutput('image-path', result.imagePath ?? '');
  io.setOutput('pigen-commit', result.pigenCommit);
  io.setOutput('build-log', result.buildLog);
  io.setOutput('runtime', result.runtime.runtime);
  await io.summary(
    [
      `### pi-gen build: ${inputs.version}`,
      '',
      `- pi-gen ${result.pigenCommit} (${result.runtime.runtime})`,
      `- stages: ${result.stages.map((s) => `\`${s.name}\``).join(', ')}`,
      `- image: ${result.imagePath ? `\`${result.imagePath}\`` : 'none exported'}`,
      '',
    ].join('\n'),
  );
  return result;
}

/** The post step: always remove the build's container, whatever happened in main. */
export async function cleanupBuildAction(state: string, logger: Logger): Promise<void> {
  if (!state) return;
  const saved = JSON.parse(state) as { name: string; runtime?: ResolvedRuntime };
  if (!saved.runtime) return;
  logger.info(`removing build container ${saved.name}`);
  await removeBuildContainer(saved.runtime, saved.name, logger);
}
