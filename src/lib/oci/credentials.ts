/**
 * Registry credentials, first found wins: given explicitly (action inputs,
 * --username with --password-stdin), PI_IMAGE_REGISTRY_USERNAME and
 * PI_IMAGE_REGISTRY_PASSWORD for the one registry PI_IMAGE_REGISTRY names
 * (so a reference someone else supplied never receives them), then Docker's
 * config.json (`docker login`), the `auths` entries only: credential helpers
 * are not run.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PiImageError } from '../core/errors';
import type { Credentials } from './registry-client';

export interface CredentialSources {
  username?: string | undefined;
  password?: string | undefined;
  env: Record<string, string | undefined>;
  /** Reads Docker's config.json; undefined when there is none. */
  readDockerConfig?: () => string | undefined;
}

export function dockerConfigReader(env: Record<string, string | undefined>): () => string | undefined {
  return () => {
    try {
      return readFileSync(join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json'), 'utf8');
    } catch {
      return undefined;
    }
  };
}

export function resolveCredentials(registry: string, sources: CredentialSources): { credentials: Credentials | undefined; from: string } {
  if (sources.username !== undefined || sources.password !== undefined) {
    if (!sources.username || !sources.password) throw new PiImageError('INPUT_INVALID', 'registry credentials need both a username and a password (or token)');
    return { credentials: { username: sources.username, password: sources.password }, from: 'the options given' };
  }
  const { PI_IMAGE_REGISTRY: scope, PI_IMAGE_REGISTRY_USERNAME: user, PI_IMAGE_REGISTRY_PASSWORD: pass } = sources.env;
  if (user || pass) {
    if (!user || !pass) throw new PiImageError('INPUT_INVALID', 'set both PI_IMAGE_REGISTRY_USERNAME and PI_IMAGE_REGISTRY_PASSWORD, or neither');
    if (!scope) {
      throw new PiImageError(
        'INPUT_INVALID',
        'PI_IMAGE_REGISTRY_USERNAME/PASSWORD are set but PI_IMAGE_REGISTRY is not: set it to the registry they are for (ghcr.io, registry.example.com:5000)',
      );
    }
    if (scope.trim().toLowerCase() === registry.toLowerCase())
      return { credentials: { username: user, password: pass }, from: 'PI_IMAGE_REGISTRY_USERNAME/PASSWORD' };
  }
  const text = sources.readDockerConfig?.();
  if (text) {
    let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
    try {
      config = JSON.parse(text) as typeof config;
    } catch (e) {
      throw new PiImageError('INPUT_INVALID', `Docker's config.json is not JSON: ${(e as Error).message}`, { cause: e });
    }
    for (const key of [registry, `https://${registry}`, `http://${registry}`, ...(registry === 'docker.io' ? ['https://index.docker.io/v1/'] : [])]) {
      const entry = config.auths?.[key];
      if (!entry) continue;
      if (entry.username && entry.password) return { credentials: { username: entry.username, password: entry.password }, from: "Docker's config.json" };
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) return { credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }, from: "Docker's config.json" };
      }
    }
  }
  return { credentials: undefined, from: 'none (anonymous)' };
}
