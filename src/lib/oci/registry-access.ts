/**
 * How a front end reaches a registry, parsed once for the CLI and every
 * action: credentials (given, then PI_IMAGE_REGISTRY_*, then Docker's
 * config.json; on a GitHub runner, the job token for ghcr.io and only
 * ghcr.io), token realms on other origins the user trusts with them, plain
 * HTTP, and the transfer deadlines.
 */
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { registerSecret } from '../core/secrets';
import { dockerConfigReader, resolveCredentials } from './credentials';
import type { StoreOptions } from './open-store';
import type { Target } from './target';
import { parseTransferLimits, type TransferLimits } from './transfer-limits';

export interface RegistryAccess {
  username: string | undefined;
  password: string | undefined;
  /** The workflow's token: used as the password for ghcr.io only, never sent to another registry. */
  githubToken: string | undefined;
  plainHttp: boolean;
  /** https origins of token services on other hosts that may receive the credentials. */
  tokenRealms: string[];
  limits: TransferLimits;
}

export const REGISTRY_ACCESS_NAMES = ['token-realm', 'plain-http', 'response-timeout', 'speed-limit', 'speed-time', 'max-time'] as const;

function tokenRealm(value: string, label: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new PiImageError('INPUT_INVALID', `${label} "${value.slice(0, 80)}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw new PiImageError('INPUT_INVALID', `${label} "${value.slice(0, 80)}": credentials go to a token service over https only`);
  return url.origin;
}

/**
 * Reads the access options through getters keyed by option name (a CLI flag,
 * an action input); `label` spells a name for messages. Credentials are the
 * front end's to read (stdin, an input) and come in as given.
 */
export function readRegistryAccess(
  get: (name: string) => string | undefined,
  getList: (name: string) => string[],
  getFlag: (name: string) => boolean,
  given: { username: string | undefined; password: string | undefined; githubToken: string | undefined },
  label: (name: string) => string,
): RegistryAccess {
  registerSecret(given.password);
  registerSecret(given.githubToken);
  return {
    ...given,
    plainHttp: getFlag('plain-http'),
    tokenRealms: getList('token-realm').map((r) => tokenRealm(r, label('token-realm'))),
    limits: parseTransferLimits(get, label),
  };
}

/** The options to open a target's store with: credentials resolved, limits applied. */
export function storeOptionsFor(
  target: Target,
  access: RegistryAccess,
  env: Record<string, string | undefined>,
  logger: Logger,
  create: boolean,
): StoreOptions {
  const options: StoreOptions = { logger, create, plainHttp: access.plainHttp, limits: access.limits, allowedRealms: access.tokenRealms };
  if (target.kind !== 'registry') return options;
  const registry = target.ref.registry;
  let { username, password } = access;
  if (!username && !password && access.githubToken && /^ghcr\.io$/.test(registry)) {
    username = env.GITHUB_ACTOR ?? 'token';
    password = access.githubToken;
  }
  registerSecret(env.PI_IMAGE_REGISTRY_PASSWORD);
  const { credentials, from } = resolveCredentials(registry, { username, password, env, readDockerConfig: dockerConfigReader(env) });
  logger.debug(`credentials for ${registry}: ${from}`);
  options.credentials = credentials;
  return options;
}
