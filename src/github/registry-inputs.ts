/**
 * The registry-access inputs the publish and pull actions share (username,
 * password, github-token, plain-http, token-realm, the transfer limits), read
 * through the action's input getter into the library's RegistryAccess.
 */
import { parseBoolean } from '../lib/core/values';
import { readRegistryAccess, type RegistryAccess } from '../lib/oci/registry-access';

export const REGISTRY_INPUTS = [
  'username',
  'password',
  'github-token',
  'plain-http',
  'token-realm',
  'response-timeout',
  'speed-limit',
  'speed-time',
  'max-time',
] as const;

export function registryAccessInputs(get: (name: string) => string): RegistryAccess {
  const list = (name: string): string[] =>
    get(name)
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean);
  return readRegistryAccess(
    (name) => get(name) || undefined,
    list,
    (name) => parseBoolean(get(name), `input ${name}`),
    { username: get('username') || undefined, password: get('password') || undefined, githubToken: get('github-token') || undefined },
    (name) => `input ${name}`,
  );
}
