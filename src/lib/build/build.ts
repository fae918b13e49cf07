/**
 * The build step: upstream pi-gen at the pinned commit, the product's stages,
 * a checked and quoted config, the chosen runtime, live output folded by
 * stage, and on failure the stage and step that failed.
 */
import { copyFile, mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file';
import { PiImageError } from '../core/errors';
import { execCapture, execFollow } from '../core/exec';
import { registerSecret } from '../core/secrets';
import type { Logger } from '../core/logger';
import { renderPiGenConfig, type ConfigEntry } from '../pigen/config-file';
import { BUILD_RECORD_FILE, type BuildRecord } from '../pigen/build-record';
import { findDeployOutputs } from '../pigen/deploy-layout';
import { parseBuildLog, stagesOf } from '../pigen/build-log';
import { imageNames } from '../pigen/image-names';
import { piGenConfigEntries, SECRET_VARIABLES, type PiGenSettings } from '../pigen/settings';
import { resolveStageList, type ResolvedStage } from '../pigen/stage-list';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { parseExportSettings, type ExportSettings } from '../export/layouts';
import { assembleRootlessExports, copyPreparedTrees, writeRootlessExportStage, type ExportedImage } from './rootless-export';
import { planStageCache, saveStageResults, type StageCachePlan } from './stage-cache-plan';
import { startAptProxy, type RunningAptProxy } from './apt-proxy';
import { ensureBuildkit, realBuildkitDeps } from './buildkit';
import { ensureEmulation } from './emulation';
import { BuildLogFollower } from './log-follower';
import { preflight, realHost } from './preflight';
import { containerCommands, leftoverDecision, resolveRuntime, type Probe, type ResolvedRuntime, type Runtime } from './runtime';

export interface BuildOptions {
  /** A pi-gen checkout (build.sh, build-docker.sh, stage0…). */
  pigenDir: string;
  pigenCommit: string;
  /** Where that commit comes from (recorded in the build record). */
  pigenRepository?: string | undefined;
  /** Whether the recipe's files differ from recipeGitHash (undefined: not known). */
  recipeModified?: boolean | undefined;
  /** The recipe repository: relative stage and override paths start here. */
  baseDir: string;
  /** Where the config, work tree, deploy/ and logs go. */
  workDir: string;
  runtime: Runtime | 'auto';
  settings: Omit<PiGenSettings, 'stageList'>;
  /** Stage list as the product writes it: upstream names or paths. */
  stages: string[];
  overridesDir?: string | undefined;
  version: string;
  recipeGitHash?: string | undefined;
  sourceDateEpoch?: number | undefined;
  /** How the image is exported (EXPORT, EXPORT_* of the product config); default upstream export-image. */
  exportSettings?: ExportSettings | undefined;
  /**
   * Resume an interrupted build: the container's (pi-gen CONTINUE=1), or for
   * native builds the work tree the last one left. Without it a native build
   * starts from an empty work tree and a new build.log.
   */
  resume?: boolean | undefined;
  containerName: string;
  minFreeGiB?: number | undefined;
  /** apt-get install qemu-user-static when missing (CI runners). */
  installEmulation?: boolean | undefined;
  isRoot: boolean;
  arch: string;
  logger: Logger;
  /**
   * Keep downloaded .deb files here between builds: an apt caching proxy runs
   * for the build's duration and is given to pi-gen as APT_PROXY (native and
   * docker runtimes).
   */
  aptCacheDir?: string | undefined;
  /**
   * Keep each stage's resulting rootfs here (native builds): a later build
   * whose first stages did not change restores them instead of running them.
   */
  stageCacheDir?: string | undefined;
  /** The exec seam for yes/no probes; default runs the command. */
  probe?: Probe | undefined;
  /**
   * Called just before a container build starts, with what the container will
   * be: front ends record it to clean up after success or failure. Not called
   * when the build never starts (a container already running is not ours).
   */
  onContainer?: ((runtime: ResolvedRuntime, name: string) => void) | undefined;
}

export interface BuildResult {
  runtime: ResolvedRuntime;
  deployDir: string;
  imagePath: string | undefined;
  buildLog: string;
  configPath: string;
  pigenCommit: string;
  /** Native builds: pi-gen's WORK_DIR (stage root file systems live under it). */
  workTree: string;
  containerName?: string;
  stages: ResolvedStage[];
  /** EXPORT=rootless: each image assembled, its layout and identifiers. */
  exports: ExportedImage[];
}

function runArgv(argv: readonly string[], logger: Logger, allowFailure = false) {
  return execCapture(argv[0]!, argv.slice(1), { logger, allowFailure });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export function defaultProbe(logger: Logger): Probe {
  return async (cmd, args) => {
    try {
      return (await execCapture(cmd, args, { logger, allowFailure: true })).code === 0;
    } catch {
      return false;
    }
  };
}

/** Everything pi-gen's config gets: the checked settings, names from the version, and the build's identity. */
/** The build's date: SOURCE_DATE_EPOCH when set (IMG_DATE, file names). */
function configDate(options: BuildOptions): Date {
  return options.sourceDateEpoch !== undefined ? new Date(options.sourceDateEpoch * 1000) : new Date();
}

export function buildConfigEntries(options: BuildOptions, stages: readonly ResolvedStage[], native: boolean, workDir: string): ConfigEntry[] {
  const names = imageNames(options.settings.imgName, options.version, configDate(options));
  const entries = piGenConfigEntries({ ...options.settings, stageList: stages.map((s) => s.buildPath) });
  entries.push(
    { name: 'IMG_DATE', value: names.IMG_DATE },
    { name: 'IMG_FILENAME', value: names.IMG_FILENAME },
    { name: 'ARCHIVE_FILENAME', value: names.ARCHIVE_FILENAME },
    { name: 'PI_IMAGE_VERSION', value: options.version },
  );
  if (options.recipeGitHash) {
    entries.push({ name: 'GIT_HASH', value: options.recipeGitHash }, { name: 'PI_IMAGE_RECIPE_GIT_HASH', value: options.recipeGitHash });
  } else {
    // build.sh would run `git rev-parse HEAD` in pi-gen's own tree: record that we do not know instead.
    entries.push({ name: 'GIT_HASH', value: 'unknown' });
  }
  if (native) {
    entries.push({ name: 'WORK_DIR', value: join(workDir, 'work') }, { name: 'DEPLOY_DIR', value: join(workDir, 'deploy') });
  }
  return entries;
}

export async function runBuild(options: BuildOptions): Promise<BuildResult> {
  const { logger } = options;
  const workDir = resolve(options.workDir);
  await mkdir(workDir, { recursive: true });
  const probe = options.probe ?? defaultProbe(logger);

  const runtime = await resolveRuntime(options.runtime, probe, options.isRoot);
  const native = runtime.runtime === 'native';
  logger.info(`runtime: ${runtime.runtime}${runtime.command.length > 0 ? ` (${runtime.command.join(' ')})` : ''}`);
  const exportSettings = options.exportSettings ?? parseExportSettings({});
  // Root on this host, for what pi-gen's root-owned trees need: removing the last work tree, and the
  // rootless export (unpacking a container's trees, reading them into the image). Native builds
  // already run pi-gen through it; a container build needs it only for the rootless export.
  // (sudo is asked only when needed: a refused `sudo -n` is logged, even mailed, as an incident.)
  const rootless = exportSettings.export === 'rootless';
  let asRoot: readonly string[] | undefined;
  if (native) asRoot = runtime.command;
  else if (options.isRoot) asRoot = [];
  else if (rootless && (await probe('sudo', ['-n', 'true']))) asRoot = ['sudo', '-n'];
  if (rootless && asRoot === undefined) {
    throw new PiImageError(
      'INPUT_INVALID',
      `EXPORT=rootless with the ${runtime.runtime} runtime assembles the image on this host from the root-owned trees pi-gen prepared in the container: run pi-image as root or give this user passwordless sudo, or use EXPORT=export-image (pi-gen's own, inside the privileged container)`,
    );
  }
  for (const script of [native ? 'build.sh' : 'build-docker.sh', 'depends']) {
    if (!(await exists(join(options.pigenDir, script)))) {
      throw new PiImageError('INPUT_INVALID', `${options.pigenDir} is not a pi-gen checkout: it has no ${script}`);
    }
  }
  if (/\s/.test(resolve(options.pigenDir))) {
    throw new PiImageError('INPUT_INVALID', `pi-gen's path ${options.pigenDir} contains a space; pi-gen (debootstrap) cannot build there`);
  }

  const { stages, warnings } = await resolveStageList(options.stages, {
    pigenDir: resolve(options.pigenDir),
    baseDir: options.baseDir,
    runtime: native ? 'native' : 'container',
    overridesDir: options.overridesDir,
    workDir,
  });
  for (const w of warnings) logger.warn(w);
  for (const s of stages) {
    logger.info(`stage ${s.name}: ${s.buildPath}${s.overridden.length > 0 ? ` (overrides: ${s.overridden.join(', ')})` : ''}`);
  }

  // A container build's own tree stays in the container; its work/ holds the trees copied out for the rootless export.
  await startFresh(workDir, native && (options.resume ?? false), asRoot ?? [], logger);
  const proxy = await startBuildAptProxy(options, runtime);
  try {
    return await buildWith({ ...options, exportSettings }, runtime, asRoot ?? [], stages, workDir, proxy);
  } finally {
    if (proxy) {
      await proxy.close();
      logger.info(`apt cache: ${proxy.stats.hits} package files from the cache, ${proxy.stats.stored} downloaded and kept`);
    }
  }
}

/** Where the build can reach a proxy on this host: loopback natively, the bridge gateway from docker. */
async function startBuildAptProxy(options: BuildOptions, runtime: ResolvedRuntime): Promise<RunningAptProxy | undefined> {
  const { logger } = options;
  if (!options.aptCacheDir) return undefined;
  if (options.settings.aptProxy) {
    logger.warn(`APT_PROXY is set (${options.settings.aptProxy}): the apt cache is not used`);
    return undefined;
  }
  let host: string | undefined;
  if (runtime.runtime === 'native') host = '127.0.0.1';
  else if (runtime.runtime === 'docker') {
    const r = await runArgv([...runtime.command, 'network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}'], logger, true);
    if (r.code === 0 && /^\d+\.\d+\.\d+\.\d+$/.test(r.stdout.trim())) host = r.stdout.trim();
  }
  if (!host) {
    logger.warn(`apt cache: no address where a ${runtime.runtime} build can reach this host; building without it`);
    return undefined;
  }
  return startAptProxy({ cacheDir: options.aptCacheDir, host, port: 0, logger });
}

async function buildWith(
  options: BuildOptions,
  runtime: ResolvedRuntime,
  asRoot: readonly string[],
  stages: ResolvedStage[],
  workDir: string,
  proxy: RunningAptProxy | undefined,
): Promise<BuildResult> {
  const { logger } = options;
  const native = runtime.runtime === 'native';
  const withProxy: BuildOptions = proxy ? { ...options, settings: { ...options.settings, aptProxy: proxy.url } } : options;
  let cachePlan: StageCachePlan | undefined;
  if (options.stageCacheDir) {
    if (!native) logger.warn(`stage cache: not used: ${runtime.runtime} builds keep their stages inside the container; it needs --runtime native`);
    else if (options.resume) logger.info('stage cache: not used with --continue (pi-gen reuses the work tree)');
    else {
      const keyed = buildConfigEntries(withProxy, stages, native, workDir);
      cachePlan = await planStageCache({
        cacheDir: options.stageCacheDir,
        stages,
        entries: keyed,
        pigenCommit: options.pigenCommit,
        workDir,
        aptProxy: proxy?.url,
        asRoot: runtime.command,
        logger,
      });
    }
  }
  const entries = buildConfigEntries(withProxy, cachePlan?.stages ?? stages, native, workDir);
  // APT_PROXY reaches debootstrap, and apt only if a stage writes it into apt's config (upstream
  // stage0 does, and that file stays until export). http_proxy, in the environment pi-gen gives
  // every chroot, reaches apt in any stage list and leaves nothing in the image.
  if (proxy) entries.push({ name: 'http_proxy', value: proxy.url });
  const rootless = options.exportSettings?.export === 'rootless';
  const mounts: string[] = [];
  if (rootless) {
    const stageDir = await writeRootlessExportStage(workDir, { upgrade: options.exportSettings!.upgrade });
    // A container sees the stage where the host has it, as it sees the product's own stages.
    mounts.push(stageDir);
    entries.push({ name: 'EXPORT_CONFIG_DIR', value: stageDir });
    logger.info(
      `export: rootless (${stageDir}), ${options.exportSettings!.layout.name} layout${options.exportSettings!.upgrade ? '' : ', no package upgrade (EXPORT_UPGRADE=0)'}`,
    );
  }
  for (const e of entries) if (SECRET_VARIABLES.has(e.name)) registerSecret(e.value);
  const configPath = join(workDir, 'config');
  await writeFile(configPath, renderPiGenConfig(entries, `pi-gen config written by ${TOOL_NAME} ${TOOL_VERSION}; values are quoted, edit the inputs instead`), {
    mode: 0o600,
  });
  logger.info(`config: ${configPath} (${entries.length} settings)`);

  const pathDirs = await ensureEmulation({
    arch: options.arch,
    asRoot: options.isRoot ? [] : ['sudo'],
    install: options.installEmulation ?? false,
    shimDir: join(workDir, 'bin'),
    logger,
  });

  const checks = await preflight({
    workDir,
    minFreeGiB: options.minFreeGiB ?? 10,
    native,
    rootlessExport: rootless,
    dependsFile: join(options.pigenDir, 'depends'),
    provided: pathDirs.length > 0 ? ['qemu-arm', 'qemu-aarch64'] : [],
  });
  for (const c of checks) logger.info(`preflight: ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}`);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new PiImageError('PREFLIGHT_FAILED', `preflight failed:\n${failed.map((c) => `  ${c.check}: ${c.detail}\n    fix: ${c.fix}`).join('\n')}`);
  }

  if (runtime.runtime === 'nerdctl') {
    const probe = options.probe ?? defaultProbe(logger);
    await ensureBuildkit(runtime.command.slice(0, -1), realBuildkitDeps(realHost.onPath, probe), logger);
  }

  const env: NodeJS.ProcessEnv = { ...process.env, PATH: [...pathDirs, process.env.PATH ?? ''].join(':') };
  const command = native ? nativeCommand(options, runtime, configPath) : await containerCommand(options, runtime, stages, mounts, configPath, workDir);
  Object.assign(env, command.env);

  // deploy/ is made by us, not by pi-gen as root: the build log and record go into it afterwards.
  await mkdir(join(workDir, 'deploy'), { recursive: true });
  const follower = new BuildLogFollower(logger);
  // pi-gen in a process group of its own: stopping the build (SIGINT, SIGTERM) stops debootstrap and
  // the chroots too, and gives build.sh's own exit trap a few seconds to unmount.
  const code = await execFollow(command.argv[0]!, command.argv.slice(1), {
    logger,
    cwd: command.cwd,
    env,
    onOutput: (t) => follower.write(t),
    processGroup: { graceMs: 6000 },
  });
  follower.end();

  const deployDir = join(workDir, 'deploy');
  await mkdir(deployDir, { recursive: true });
  const buildLog = join(deployDir, 'build.log');
  const nativeLog = join(workDir, 'work', 'build.log');
  if (native && (await exists(nativeLog))) await copyFile(nativeLog, buildLog);
  else if (!(await exists(buildLog))) await writeFile(buildLog, follower.buildLog());

  if (code !== 0) {
    // The stages that finished before the failure are kept: the next try starts after them.
    if (cachePlan) await saveStageResults(cachePlan, stages, workDir, logger, await finishedStages(buildLog));
    throw new PiImageError('BUILD_FAILED', `${follower.explainFailure()} (exit code ${code}); full log: ${buildLog}`);
  }

  if (cachePlan) await saveStageResults(cachePlan, stages, workDir, logger, stages.length);

  let exports: ExportedImage[] = [];
  if (rootless && !native && (await exportingStages(stages)).exporting.length > 0) {
    await copyPreparedTrees({
      engine: runtime.command,
      container: options.containerName,
      imgName: options.settings.imgName,
      workTree: join(workDir, 'work'),
      asRoot,
      logger,
    });
  }
  if (rootless) {
    const names = imageNames(options.settings.imgName, options.version, configDate(options));
    exports = await assembleRootlessExports({
      workTree: join(workDir, 'work'),
      deployDir,
      imgFilename: names.IMG_FILENAME,
      archiveFilename: names.ARCHIVE_FILENAME,
      compression: options.settings.deployCompression ?? 'zip',
      level: options.settings.compressionLevel ?? 6,
      layout: options.exportSettings!.layout,
      seed: `${options.settings.imgName} ${options.version}`,
      epoch: options.sourceDateEpoch,
      asRoot,
      logger,
    });
  }

  await writeBuildRecord(options, deployDir, exports);

  let imagePath: string | undefined;
  try {
    imagePath = (await findDeployOutputs(deployDir)).image.path;
  } catch (e) {
    logger.warn(`${await whyNoImage(stages)}: ${(e as Error).message}`);
  }
  const result: BuildResult = {
    runtime,
    deployDir,
    imagePath,
    buildLog,
    configPath,
    pigenCommit: options.pigenCommit,
    workTree: join(workDir, 'work'),
    stages,
    exports,
  };
  if (!native) result.containerName = options.containerName;
  return result;
}

/** How many stages, from the first, the build log shows finished. */
async function finishedStages(buildLog: string): Promise<number> {
  try {
    const timeline = parseBuildLog(await readFile(buildLog, 'utf8'), buildLog);
    const stages = stagesOf(timeline);
    const firstUnfinished = stages.findIndex((s) => !s.complete);
    return firstUnfinished === -1 ? stages.length : firstUnfinished;
  } catch {
    return 0;
  }
}

/** deploy/pi-image-build.json: both commits named, and each rootless export's layout and identifiers. */
async function writeBuildRecord(options: BuildOptions, deployDir: string, exports: readonly ExportedImage[]): Promise<void> {
  const record: BuildRecord = {
    schemaVersion: 1,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    pigen: { repository: options.pigenRepository ?? 'unknown', commit: options.pigenCommit },
    recipe: { commit: options.recipeGitHash ?? null, modified: options.recipeModified ?? null },
    version: options.version,
    sourceDateEpoch: options.sourceDateEpoch ?? null,
    exports: Object.fromEntries(
      exports.map((e) => [
        e.name,
        {
          kind: 'rootless' as const,
          layout: e.plan.layout,
          table: e.plan.table,
          diskId: e.plan.diskId,
          seed: e.seed,
          epoch: e.epoch,
          partitions: e.plan.partitions.map((p) => ({
            number: p.number,
            label: p.label,
            fs: p.fs,
            role: p.role,
            start: p.start,
            bytes: p.bytes,
            partUuid: p.ids.partUuid,
          })),
        },
      ]),
    ),
  };
  await writeFileAtomic(join(deployDir, BUILD_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** The stages that ask for an image (EXPORT_IMAGE), and those of them whose SKIP_IMAGES says not this time. */
async function exportingStages(stages: readonly ResolvedStage[]): Promise<{ exporting: string[]; skipped: string[] }> {
  const has = async (s: ResolvedStage, f: string): Promise<boolean> => exists(join(s.hostPath, f));
  const exporting: string[] = [];
  const skipped: string[] = [];
  for (const s of stages) {
    if (!(await has(s, 'EXPORT_IMAGE'))) continue;
    if (await has(s, 'SKIP_IMAGES')) skipped.push(s.name);
    else exporting.push(s.name);
  }
  return { exporting, skipped };
}

/** Why deploy/ holds no image, from the stages themselves: none has EXPORT_IMAGE, or each that has one also has SKIP_IMAGES. */
async function whyNoImage(stages: readonly ResolvedStage[]): Promise<string> {
  const { exporting, skipped } = await exportingStages(stages);
  if (exporting.length === 0 && skipped.length === 0) return 'pi-gen exported no image: no stage has an EXPORT_IMAGE file';
  if (exporting.length === 0) return `pi-gen exported no image: every stage with EXPORT_IMAGE also has SKIP_IMAGES (${skipped.join(', ')})`;
  return `pi-gen exported no image although ${exporting.join(', ')} asked for one (EXPORT_IMAGE); see the build log`;
}

/**
 * A native build starts from an empty work tree and a new build.log unless it
 * continues the last one: pi-gen itself reuses every stage rootfs it finds
 * (a change to an early stage would never reach the image) and appends to its
 * log. Whatever the last build left mounted in the tree is unmounted first,
 * and the tree is removed without crossing into another file system.
 */
/** Marks a work tree as made by pi-image build: only such a tree is ever removed. */
const WORK_TREE_MARKER = '.pi-image-work-tree';

async function startFresh(workDir: string, resume: boolean, asRoot: readonly string[], logger: Logger): Promise<void> {
  const run = (argv: string[]) => execCapture(argv[0]!, argv.slice(1), { logger });
  const tree = join(workDir, 'work');
  if (await exists(tree)) {
    if (resume) {
      logger.info(`continuing in ${tree}: pi-gen keeps the stage root file systems it finds there`);
      return;
    }
    // Never a directory this tool did not make (a --work-dir pointing at a home directory holding its own work/).
    if (!(await exists(join(tree, WORK_TREE_MARKER)))) {
      throw new PiImageError(
        'INPUT_INVALID',
        `${tree} exists and was not made by pi-image build (no ${WORK_TREE_MARKER}): choose another --work-dir, or remove it yourself`,
      );
    }
    const real = await realpath(tree);
    const mounts = (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
      .filter((m): m is string => m !== undefined && (m === real || m.startsWith(`${real}/`)))
      .sort()
      .reverse();
    for (const m of mounts) await run([...asRoot, 'umount', '--lazy', m]);
    logger.info(`starting clean: removing the last build's work tree ${tree} (--continue keeps it)`);
    // pi-gen's trees are root's: removed as root (sudo when pi-image is not).
    await run([...asRoot, 'rm', '-rf', '--one-file-system', '--', tree, join(workDir, 'deploy')]);
  }
  // Closed to other users: root's setuid files and device nodes are copied into it (container builds).
  await mkdir(tree, { recursive: true, mode: 0o700 });
  await writeFile(join(tree, WORK_TREE_MARKER), `made by ${TOOL_NAME} build; removed by the next build unless --continue\n`);
}

interface BuildCommand {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** pi-gen's build.sh as root, with `bash -e` exactly as its own `#!/bin/bash -e` line: plain `bash build.sh` drops -e, and a failing stage script would no longer stop the build. */
function nativeCommand(options: BuildOptions, runtime: ResolvedRuntime, configPath: string): BuildCommand {
  return { argv: [...runtime.command, 'bash', '-e', join(options.pigenDir, 'build.sh'), '-c', configPath], cwd: options.pigenDir, env: {} };
}

/**
 * pi-gen's build-docker.sh with the chosen CLI, after dealing with a container
 * left by an earlier build. It copies deploy/ into its working directory.
 */
async function containerCommand(
  options: BuildOptions,
  runtime: ResolvedRuntime,
  stages: readonly ResolvedStage[],
  mounts: readonly string[],
  configPath: string,
  workDir: string,
): Promise<BuildCommand> {
  const { logger, containerName } = options;
  const listed = async (argv: string[]): Promise<boolean> => (await runArgv(argv, logger)).stdout.trim() !== '';
  const decision = leftoverDecision(
    await listed(containerCommands.exists(runtime.command, containerName)),
    await listed(containerCommands.running(runtime.command, containerName)),
    options.resume ?? false,
    containerName,
  );
  if (decision.message) logger.info(decision.message);
  if (decision.action === 'remove') await runArgv(containerCommands.remove(runtime.command, containerName), logger);
  options.onContainer?.(runtime, containerName);
  return {
    argv: ['bash', join(options.pigenDir, 'build-docker.sh'), '-c', configPath],
    cwd: workDir,
    env: {
      DOCKER: runtime.command.join(' '),
      CONTAINER_NAME: containerName,
      CONTINUE: decision.action === 'continue' ? '1' : '0',
      PRESERVE_CONTAINER: '1',
      PIGEN_DOCKER_OPTS: [...stages.filter((s) => s.mount).map((s) => [s.hostPath, s.buildPath]), ...mounts.map((m) => [m, m])]
        .flatMap(([host, inside]) => ['-v', `${host}:${inside}:ro`])
        .join(' '),
    },
  };
}

/** Removes the build's container (the post step, and the CLI when done). */
export async function removeBuildContainer(runtime: ResolvedRuntime, name: string, logger: Logger): Promise<void> {
  if (runtime.runtime === 'native') return;
  for (const n of [name, `${name}_cont`]) await runArgv(containerCommands.remove(runtime.command, n), logger, true);
}
