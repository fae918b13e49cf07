/** The build action's inputs, parsed by a pure function of a getter. */
import { PiImageError } from '../../../src/lib/core/errors';
import { parseRuntime, type Runtime } from '../../../src/lib/build/runtime';
import { checkSafeName } from '../../../src/lib/core/safe-name';
import { checkIntegerInRange } from '../../../src/lib/core/values';
import { parseBoolean } from '../../../src/lib/core/values';

export interface BuildInputs {
  config: string | undefined;
  settings: string[];
  version: string;
  runtime: Runtime | 'auto';
  workDir: string;
  pigenDir: string | undefined;
  pigenRepository: string | undefined;
  pigenRef: string | undefined;
  recipeGitHash: string | undefined;
  resume: boolean;
  minFreeGiB: number;
  installEmulation: boolean;
  aptCache: boolean;
  stageCache: boolean;
  firstUserPassword: string | undefined;
}

export function parseBuildInputs(get: (name: string) => string): BuildInputs {
  const optional = (name: string): string | undefined => get(name) || undefined;
  const settings = get('settings')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const config = optional('config');
  if (!config && settings.length === 0) throw new PiImageError('INPUT_INVALID', 'input config (or settings) is required: name the product config file');
  const hash = optional('recipe-git-hash');
  if (hash !== undefined && !/^[0-9a-f]{7,64}$/.test(hash)) throw new PiImageError('INPUT_INVALID', `input recipe-git-hash "${hash}" is not a git commit id`);
  return {
    config,
    settings,
    version: checkSafeName(get('version') || 'dev', 'input version'),
    runtime: parseRuntime(get('runtime'), 'input runtime'),
    workDir: get('work-dir') || 'pi-gen-build',
    pigenDir: optional('pigen-dir'),
    pigenRepository: optional('pigen-repository'),
    pigenRef: optional('pigen-ref'),
    recipeGitHash: hash,
    resume: parseBoolean(get('continue'), 'input continue'),
    minFreeGiB: checkIntegerInRange(get('min-free-gb') || '10', 0, 100000, 'input min-free-gb'),
    installEmulation: parseBoolean(get('install-emulation'), 'input install-emulation'),
    aptCache: parseBoolean(get('apt-cache'), 'input apt-cache'),
    stageCache: parseBoolean(get('stage-cache'), 'input stage-cache'),
    firstUserPassword: optional('first-user-password'),
  };
}
