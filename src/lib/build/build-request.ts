/**
 * What the CLI and the build action share: a product config file plus
 * KEY=VALUE overrides, a version, and where to run, turned into BuildOptions.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import type { Logger } from '../core/logger';
import { PI_GEN_PIN } from '../pigen/pin';
import { applySetting, readProductConfigFile, splitAssignment, type ProductConfig } from '../pigen/product-config';
import { checkSettings } from '../pigen/settings';
import { parseExportSettings } from '../export/layouts';
import type { BuildOptions } from './build';
import { locatePiGen } from './pigen-checkout';
import { containerName, type Runtime } from './runtime';

export interface BuildRequest {
  configFile?: string | undefined;
  /** KEY=VALUE overrides, applied after the config file, in order. */
  settings: readonly string[];
  version: string;
  runtime: Runtime | 'auto';
  workDir: string;
  baseDir: string;
  pigenDir?: string | undefined;
  pigenRepository?: string | undefined;
  pigenRef?: string | undefined;
  cacheDir: string;
  recipeGitHash?: string | undefined;
  resume?: boolean | undefined;
  /** Parts of the container name (unique per job); default: the image name. */
  containerNameParts?: (string | undefined)[] | undefined;
  minFreeGiB?: number | undefined;
  installEmulation?: boolean | undefined;
  aptCacheDir?: string | undefined;
  stageCacheDir?: string | undefined;
  firstUserPass?: string | undefined;
  sourceDateEpoch?: number | undefined;
  isRoot: boolean;
  arch: string;
  logger: Logger;
}

/** The recipe's commit, read on the host (never by git inside the build container). */
export async function recipeCommit(baseDir: string, logger: Logger): Promise<string | undefined> {
  try {
    const r = await execCapture('git', ['-C', baseDir, 'rev-parse', 'HEAD'], { logger, allowFailure: true });
    return r.code === 0 && /^[0-9a-f]{40}$/.test(r.stdout.trim()) ? r.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the recipe's own files (the config, the product's stages and
 * overrides) are committed as they are: the recorded commit is only the truth
 * when they are. Warns, naming the files, when they are modified or not in the
 * repository at all; returns undefined when git cannot tell.
 */
export async function recipeModified(baseDir: string, paths: readonly string[], logger: Logger): Promise<boolean | undefined> {
  const inside = paths.filter((p) => {
    const rel = relative(baseDir, p);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      logger.warn(`recipe: ${p} is outside the recipe repository ${baseDir}: the recorded commit does not cover it`);
      return false;
    }
    return true;
  });
  if (inside.length === 0) return undefined;
  try {
    const status = await execCapture('git', ['-C', baseDir, 'status', '--porcelain', '--untracked-files=all', '--', ...inside], { logger, allowFailure: true });
    if (status.code !== 0) return undefined;
    const changed = status.stdout.split('\n').filter(Boolean);
    if (changed.length > 0) {
      logger.warn(
        `recipe: ${changed.length} file(s) differ from the recorded commit (${changed
          .slice(0, 5)
          .map((l) => l.slice(3))
          .join(', ')}${changed.length > 5 ? ', …' : ''}): the image is built from uncommitted changes`,
      );
      return true;
    }
    return false;
  } catch {
    return undefined;
  }
}

export async function prepareBuild(request: BuildRequest): Promise<BuildOptions> {
  const { logger } = request;
  const baseDir = resolve(request.baseDir);
  let config: ProductConfig = { settings: {}, extra: {} };
  if (request.configFile) config = await readProductConfigFile(resolve(baseDir, request.configFile), request.configFile);
  request.settings.forEach((line, i) => {
    const where = `setting ${i + 1}`;
    const [key, value] = splitAssignment(line, where);
    applySetting(config, key, value, `${where} (${key})`);
  });
  if (request.firstUserPass) config.settings.firstUserPass = request.firstUserPass;
  const imgName = config.settings.imgName;
  if (!imgName) throw new PiImageError('INPUT_INVALID', 'IMG_NAME is not set: put it in the config file or pass IMG_NAME=… as a setting');
  if (!config.stages || config.stages.length === 0) {
    throw new PiImageError('INPUT_INVALID', 'STAGE_LIST is not set: put it in the config file (e.g. STAGE_LIST=stage0 stage1 stage2 pigen/stages/my-stage)');
  }

  // Every value is checked before pi-gen is fetched or anything slow starts.
  checkSettings({ ...config.settings, imgName, extra: config.extra });
  const exportSettings = parseExportSettings(config.export ?? {}, request.configFile ?? 'settings');

  const checkout = await locatePiGen({
    explicitDir: request.pigenDir,
    submoduleDir: join(baseDir, 'vendor/pi-gen'),
    cacheDir: request.cacheDir,
    pin: PI_GEN_PIN,
    repository: request.pigenRepository,
    ref: request.pigenRef,
    logger,
  });
  logger.info(`pi-gen: ${checkout.dir} at ${checkout.commit} (${checkout.source})`);

  let recipeGitHash = request.recipeGitHash;
  let recipeIsModified: boolean | undefined;
  if (!recipeGitHash) {
    recipeGitHash = await recipeCommit(baseDir, logger);
    if (!recipeGitHash) logger.warn(`recipe: ${baseDir} is not a git repository: no recipe commit is recorded (pass --recipe-git-hash)`);
    else {
      const own = [
        ...(request.configFile ? [resolve(baseDir, request.configFile)] : []),
        ...config.stages.filter((s) => s.includes('/')).map((s) => resolve(baseDir, s)),
        ...(config.overrides ? [resolve(baseDir, config.overrides)] : []),
      ];
      recipeIsModified = await recipeModified(baseDir, own, logger);
    }
  }

  return {
    pigenDir: checkout.dir,
    pigenCommit: checkout.commit,
    pigenRepository: checkout.commit === PI_GEN_PIN.commit ? PI_GEN_PIN.repository : (request.pigenRepository ?? checkout.dir),
    recipeModified: recipeIsModified,
    baseDir,
    workDir: resolve(baseDir, request.workDir),
    runtime: request.runtime,
    settings: { ...config.settings, imgName, extra: config.extra },
    stages: config.stages,
    overridesDir: config.overrides,
    version: request.version,
    recipeGitHash,
    sourceDateEpoch: request.sourceDateEpoch,
    exportSettings,
    resume: request.resume,
    containerName: containerName(request.containerNameParts ?? [imgName]),
    minFreeGiB: request.minFreeGiB,
    installEmulation: request.installEmulation,
    aptCacheDir: request.aptCacheDir ? resolve(baseDir, request.aptCacheDir) : undefined,
    stageCacheDir: request.stageCacheDir ? resolve(baseDir, request.stageCacheDir) : undefined,
    isRoot: request.isRoot,
    arch: request.arch,
    logger,
  };
}
