/** Options every command that talks to a registry shares, and what they turn into. */
import { readFileSync } from 'node:fs';
import { PiImageError } from '../../lib/core/errors';
import type { Logger } from '../../lib/core/logger';
import { readRegistryAccess, storeOptionsFor } from '../../lib/oci/registry-access';
import { TRANSFER_LIMITS_HELP } from '../../lib/oci/transfer-limits';
import type { StoreOptions } from '../../lib/oci/open-store';
import type { Target } from '../../lib/oci/target';
import type { CliCommand } from '../command';

export const REGISTRY_OPTIONS: CliCommand['options'] = {
  username: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'plain-http': { type: 'boolean' },
  'token-realm': { type: 'string', multiple: true },
  'response-timeout': { type: 'string' },
  'speed-limit': { type: 'string' },
  'speed-time': { type: 'string' },
  'max-time': { type: 'string' },
};

export const REGISTRY_HELP = `Registry access:
  --username USER           with --password-stdin: the password or token on standard input
  --password-stdin          read the password from standard input (never from an argument)
  --plain-http              plain HTTP to a registry that is not on loopback (loopback always is)
  --token-realm URL         a token service on another host that may receive the credentials
                            (https only; the registry's own host, auth.docker.io for Docker Hub
                            and gitlab.com for registry.gitlab.com need no flag); repeatable
  Without --username: PI_IMAGE_REGISTRY_USERNAME and PI_IMAGE_REGISTRY_PASSWORD, for the
  registry PI_IMAGE_REGISTRY names (host[:port]; never sent to another), then the
  "auths" of Docker's config.json (docker login; credential helpers are not run), then anonymous.
${TRANSFER_LIMITS_HELP}`;

export function readStdinText(): string {
  try {
    return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `--password-stdin: standard input cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

export function storeOptions(
  target: Target,
  values: Record<string, unknown>,
  env: Record<string, string | undefined>,
  logger: Logger,
  create: boolean,
  readPassword: () => string = readStdinText,
): StoreOptions {
  const username = values.username as string | undefined;
  if (values['password-stdin'] && !username) throw new PiImageError('USAGE', '--password-stdin needs --username');
  if (username && !values['password-stdin']) throw new PiImageError('USAGE', '--username needs --password-stdin (a password is never taken as an argument)');
  const password = username && target.kind === 'registry' ? readPassword() : undefined;
  const access = readRegistryAccess(
    (name) => values[name] as string | undefined,
    (name) => (values[name] as string[] | undefined) ?? [],
    (name) => values[name] === true,
    { username, password, githubToken: undefined },
    (name) => `--${name}`,
  );
  return storeOptionsFor(target, access, env, logger, create);
}
