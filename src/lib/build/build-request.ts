/**
 * What the CLI and the build action share: a product config file plus
 * KEY=VALUE overrides, a version, and where to run, turned into BuildOptions.
 */
import { join, resolve } from 'node:path';
import { PiImageError } from '../core/errors';
import { readSmallFile } from '../core/small-file';
import { execCapture } from '../core/exec';
import type { Logger } from '../core/logger';
import { PI_GEN_PIN } from '../pigen/pin';
import { applySetting, parseProductConfig, splitAssignment, type ProductConfig } from '../pigen/product-config';
import { checkSettings } from '../pigen/settings';
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

export async function prepareBuild(request: BuildRequest): Promise<BuildOptions> {
  const { logger } = request;
  const baseDir = resolve(request.baseDir);
  let config: ProductConfig = { settings: {}, extra: {} };
  if (request.configFile) {
    const path = resolve(baseDir, request.configFile);
    let text: string;
    try {
      text = (await readSmallFile(path, 1024 * 1024)).toString('utf8');
    } catch (e) {
      if (e instanceof PiImageError) throw e;
      throw new PiImageError('INPUT_INVALID', `config ${request.configFile} cannot be read: ${(e as Error).message}`, { cause: e });
    }
    config = parseProductConfig(text, request.configFile);
  }
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

  return {
    pigenDir: checkout.dir,
    pigenCommit: checkout.commit,
    baseDir,
    workDir: resolve(baseDir, request.workDir),
    runtime: request.runtime,
    settings: { ...config.settings, imgName, extra: config.extra },
    stages: config.stages,
    overridesDir: config.overrides,
    version: request.version,
    recipeGitHash: request.recipeGitHash ?? (await recipeCommit(baseDir, logger)),
    sourceDateEpoch: request.sourceDateEpoch,
    resume: request.resume,
    containerName: containerName(request.containerNameParts ?? [imgName]),
    minFreeGiB: request.minFreeGiB,
    installEmulation: request.installEmulation,
    aptCacheDir: request.aptCacheDir ? resolve(baseDir, request.aptCacheDir) : undefined,
    isRoot: request.isRoot,
    arch: request.arch,
    logger,
  };
}
